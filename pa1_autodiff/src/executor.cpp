// The Executor: plans once (which nodes, in which order, when each value dies), then runs the
// plan for every set of feeds (staff code).
//
// Planning collects the nodes the outputs need with an explicit stack, then orders them with
// Kahn's algorithm: a node is ready once all of its inputs are, and leaves are ready at once.
// The same pass gives each value's last consumer, after which the value is dropped. Nodes
// left over when no node is ready lie on (or behind) a cycle.
#include "pa1/executor.h"

#include <sstream>
#include <unordered_map>

#include "check.h"
#include "pa1/ops.h"

namespace pa1 {

// A node on a cycle among `stuck` (nodes never ready): walk up stuck inputs until a repeat.
static const Node* node_on_cycle(const Node* start, const std::unordered_map<const Node*, int32_t>& pos,
                                 const std::vector<int32_t>& pending) {
  std::unordered_map<const Node*, bool> seen;
  const Node* n = start;
  while (!seen[n]) {
    seen[n] = true;
    for (const NodePtr& in : n->inputs) {
      if (pending[pos.at(in.get())] > 0) {
        n = in.get();
        break;
      }
    }
  }
  return n;
}

Executor::Executor(std::vector<NodePtr> outputs) : outputs_(std::move(outputs)) {
  for (size_t i = 0; i < outputs_.size(); ++i)
    PA1_CHECK(outputs_[i] != nullptr, "Executor", "output ", i, " is a null node");

  // 1. Every needed node once, with its position in `nodes`.
  std::unordered_map<const Node*, int32_t> pos;
  std::vector<const Node*> nodes;
  std::vector<const Node*> stack;
  for (const NodePtr& o : outputs_) stack.push_back(o.get());
  while (!stack.empty()) {
    const Node* n = stack.back();
    stack.pop_back();
    if (!pos.emplace(n, static_cast<int32_t>(nodes.size())).second) continue;
    nodes.push_back(n);
    for (const NodePtr& in : n->inputs) {
      PA1_CHECK(in != nullptr, "Executor", "node ", n->describe(), " has a null input");
      stack.push_back(in.get());
    }
  }

  // 2. Kahn's algorithm: pending[i] = inputs of node i not computed yet (edges, so x * x
  //    counts x twice); consumers[j] = nodes that read node j.
  const size_t n_nodes = nodes.size();
  std::vector<int32_t> pending(n_nodes, 0);
  std::vector<std::vector<int32_t>> consumers(n_nodes);
  std::vector<int32_t> ready;
  for (size_t i = 0; i < n_nodes; ++i) {
    for (const NodePtr& in : nodes[i]->inputs) consumers[pos.at(in.get())].push_back(static_cast<int32_t>(i));
    pending[i] = static_cast<int32_t>(nodes[i]->inputs.size());
    if (pending[i] == 0) ready.push_back(static_cast<int32_t>(i));
  }
  std::vector<int32_t> order;
  order.reserve(n_nodes);
  while (!ready.empty()) {
    const int32_t i = ready.back();
    ready.pop_back();
    order.push_back(i);
    for (int32_t c : consumers[i])
      if (--pending[c] == 0) ready.push_back(c);
  }
  if (order.size() < n_nodes) {
    for (size_t i = 0; i < n_nodes; ++i)
      if (pending[i] > 0)
        PA1_FAIL("Executor", "the graph has a cycle through node ",
                 node_on_cycle(nodes[i], pos, pending)->describe(),
                 " (a node is its own input, directly or indirectly); graphs built with the ops "
                 "cannot have one: was an inputs list edited by hand?");
  }

  // 3. The plan: the schedule, each step's input positions, and when each value dies.
  std::vector<int32_t> step_of(n_nodes);  // position in `nodes` -> position in the schedule
  for (size_t k = 0; k < n_nodes; ++k) step_of[order[k]] = static_cast<int32_t>(k);
  steps_.resize(n_nodes);
  std::vector<int32_t> last_use(n_nodes, -1);
  for (size_t k = 0; k < n_nodes; ++k) {
    const Node* n = nodes[order[k]];
    for (const NodePtr& in : n->inputs) {
      const int32_t p = step_of[pos.at(in.get())];
      steps_[k].inputs.push_back(p);
      last_use[p] = static_cast<int32_t>(k);
    }
  }
  // The owning NodePtrs: each node is an output or an input of a later node of the schedule.
  schedule_.assign(n_nodes, nullptr);
  for (const NodePtr& o : outputs_) schedule_[step_of[pos.at(o.get())]] = o;
  for (size_t k = n_nodes; k-- > 0;) {
    const Node* n = schedule_[k].get();
    for (size_t j = 0; j < n->inputs.size(); ++j) schedule_[steps_[k].inputs[j]] = n->inputs[j];
  }
  for (const NodePtr& o : outputs_) {
    const int32_t p = step_of[pos.at(o.get())];
    output_pos_.push_back(p);
    last_use[p] = static_cast<int32_t>(n_nodes);  // never released
  }
  for (size_t p = 0; p < n_nodes; ++p)
    if (last_use[p] >= 0 && last_use[p] < static_cast<int32_t>(n_nodes))
      steps_[last_use[p]].release.push_back(static_cast<int32_t>(p));
}

static std::string describe_values(const std::vector<NodePtr>& inputs, const std::vector<Tensor>& values) {
  std::ostringstream os;
  for (size_t i = 0; i < inputs.size(); ++i)
    os << (i ? ", " : "") << "'" << inputs[i]->name << "' " << values[i].describe();
  return os.str();
}

static std::string output_names(const std::vector<NodePtr>& outputs) {
  std::ostringstream os;
  for (size_t i = 0; i < outputs.size(); ++i) os << (i ? ", " : "") << "'" << outputs[i]->name << "'";
  return os.str();
}

std::vector<Tensor> Executor::run(const FeedDict& feeds, RunOptions options) {
  for (const auto& [node, value] : feeds) {
    PA1_CHECK(node != nullptr, "Executor::run", "a feed is keyed by a null node");
    PA1_CHECK(node->kind == NodeKind::Placeholder, "Executor::run", "node ", node->describe(),
              " is a ", to_string(node->kind), "; only placeholders can be fed");
  }
  RunContext ctx;
  ctx.step = options.step >= 0 ? options.step : runs_;
  ctx.training = options.training;

  std::vector<Tensor> values(schedule_.size());
  std::vector<Tensor> args;
  for (size_t k = 0; k < schedule_.size(); ++k) {
    const Node& node = *schedule_[k];
    switch (node.kind) {
      case NodeKind::Placeholder: {
        auto it = feeds.find(schedule_[k]);
        PA1_CHECK(it != feeds.end(), "Executor::run", "missing feed for placeholder ",
                  node.describe(), ", which the outputs ", output_names(outputs_), " need");
        const Tensor& v = it->second;
        PA1_CHECK(v.defined(), "Executor::run", "the feed for placeholder ", node.describe(),
                  " is an undefined tensor");
        PA1_CHECK(v.dtype() == node.dtype, "Executor::run", "wrong dtype fed to placeholder ",
                  node.describe(), ": got ", v.describe(), ", expected dtype ",
                  mlsys::to_string(node.dtype));
        PA1_CHECK(shape_matches(node.shape, v.shape()), "Executor::run",
                  "wrong shape fed to placeholder ", node.describe(), ": got ", v.describe(),
                  ", expected shape ", mlsys::to_string(node.shape), " (-1: any size)");
        values[k] = v;
        break;
      }
      case NodeKind::Variable:
      case NodeKind::Constant:
        values[k] = node.value;
        break;
      case NodeKind::Compute: {
        args.clear();
        for (int32_t p : steps_[k].inputs) args.push_back(values[p]);
        try {
          values[k] = node.op->compute(args, ctx);
        } catch (const mlsys::NotImplemented&) {
          throw;
        } catch (const mlsys::Error& e) {
          PA1_FAIL("Executor::run", "node ", node.describe(), " failed on inputs ",
                   describe_values(node.inputs, args), ": ", e.what());
        }
        const Tensor& out = values[k];
        PA1_CHECK(out.defined() && out.dtype() == node.dtype && shape_matches(node.shape, out.shape()),
                  "Executor::run", "op '", node.op->name(), "' of node ", node.describe(),
                  " returned ", out.defined() ? out.describe() : std::string("an undefined tensor"),
                  ", which does not match the node's static dtype and shape (a bug in the op)");
        break;
      }
    }
    for (int32_t p : steps_[k].release) values[p] = Tensor();
  }
  ++runs_;
  std::vector<Tensor> result;
  result.reserve(output_pos_.size());
  for (int32_t p : output_pos_) result.push_back(values[p].contiguous());
  return result;
}

}  // namespace pa1
