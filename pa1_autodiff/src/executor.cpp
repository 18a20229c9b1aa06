// The Executor: plans once (which nodes, in which order, when each value dies), then runs the
// plan for every set of feeds (staff code).
//
// Planning numbers the nodes the outputs need (breadth first, from the outputs), then orders
// them with Kahn's algorithm: a node is ready once all of its inputs are, and leaves are ready
// at once. Nodes left over when no node is ready lie on (or behind) a cycle. The last read of
// each intermediate value moves it out of the table of values, so it is freed as soon as its
// last consumer has run. Everything is flat arrays: planning a 100,000-node graph takes one
// hash lookup (NodeMap, node_map.h) per edge.
#include "pa1/executor.h"

#include <cstdint>
#include <sstream>

#include "check.h"
#include "node_map.h"
#include "pa1/ops.h"

namespace pa1 {

namespace {

// Asks the memory system for a node (the cache lines of kind, op, inputs, shape, dtype and id)
// without waiting for it. The nodes of a big graph lie all over the heap, and a walk that
// touches them one after the other stalls on every one; prefetching the next few (or all
// inputs of the current one at once) lets those misses overlap.
inline void prefetch_node(const Node* n) {
  if (n == nullptr) return;
  const char* p = reinterpret_cast<const char*>(n);
  __builtin_prefetch(p);
  __builtin_prefetch(p + 64);
  __builtin_prefetch(p + 128);
  __builtin_prefetch(&n->id);
}

// A node on a cycle among the nodes Kahn's algorithm could not schedule (pending > 0): walk up
// unscheduled inputs until a node repeats.
const Node* node_on_cycle(const Node* start, NodeMap<int32_t>& index, const std::vector<int32_t>& pending) {
  NodeMap<char> seen;
  const Node* n = start;
  while (seen.emplace(n, 1).second) {
    for (const NodePtr& in : n->inputs) {
      if (pending[*index.find(in.get())] > 0) {
        n = in.get();
        break;
      }
    }
  }
  return n;
}

}  // namespace

Executor::Executor(std::vector<NodePtr> outputs) : outputs_(std::move(outputs)) {
  for (size_t i = 0; i < outputs_.size(); ++i)
    PA1_CHECK(outputs_[i] != nullptr, "Executor", "output ", i, " is a null node");

  // 1. Every needed node once, numbered in breadth-first discovery order, with its inputs'
  //    numbers as flat arrays (CSR: the inputs of node i are in_idx[in_begin[i] ..
  //    in_begin[i + 1])). One hash lookup per edge.
  NodeMap<int32_t> index;
  std::vector<NodePtr> nodes;
  for (const NodePtr& o : outputs_)
    if (index.emplace(o.get(), static_cast<int32_t>(nodes.size())).second) nodes.push_back(o);
  std::vector<int32_t> in_begin{0}, in_idx;
  for (size_t i = 0; i < nodes.size(); ++i) {
    const Node& n = *nodes[i];
    // The walk stalls on every node it reaches (prefetch_node): ask for all inputs at once.
    if (i + 2 < nodes.size()) __builtin_prefetch(nodes[i + 2]->inputs.data());
    for (const NodePtr& in : n.inputs) prefetch_node(in.get());
    for (const NodePtr& in : n.inputs) {
      PA1_CHECK(in != nullptr, "Executor", "node ", n.describe(), " has a null input");
      auto [j, fresh] = index.emplace(in.get(), static_cast<int32_t>(nodes.size()));
      if (fresh) nodes.push_back(in);
      in_idx.push_back(*j);
    }
    in_begin.push_back(static_cast<int32_t>(in_idx.size()));
  }
  const int32_t n_nodes = static_cast<int32_t>(nodes.size());
  std::vector<int32_t> cons_begin(n_nodes + 1, 0), cons_idx(in_idx.size());
  for (int32_t j : in_idx) ++cons_begin[j + 1];
  for (int32_t j = 0; j < n_nodes; ++j) cons_begin[j + 1] += cons_begin[j];
  {
    std::vector<int32_t> fill(cons_begin.begin(), cons_begin.end() - 1);
    for (int32_t i = 0; i < n_nodes; ++i)
      for (int32_t e = in_begin[i]; e < in_begin[i + 1]; ++e) cons_idx[fill[in_idx[e]]++] = i;
  }

  // 2. Kahn's algorithm: pending[i] = inputs of node i not computed yet (edges, so x * x
  //    counts x twice). Ready nodes are taken last-in first-out, which keeps a chain of
  //    computations together (values die sooner than with a breadth-first order).
  std::vector<int32_t> pending(n_nodes), ready, order;
  order.reserve(n_nodes);
  for (int32_t i = 0; i < n_nodes; ++i) {
    pending[i] = in_begin[i + 1] - in_begin[i];
    if (pending[i] == 0) ready.push_back(i);
  }
  while (!ready.empty()) {
    const int32_t i = ready.back();
    ready.pop_back();
    order.push_back(i);
    for (int32_t e = cons_begin[i]; e < cons_begin[i + 1]; ++e)
      if (--pending[cons_idx[e]] == 0) ready.push_back(cons_idx[e]);
  }
  if (static_cast<int32_t>(order.size()) < n_nodes) {
    for (int32_t i = 0; i < n_nodes; ++i)
      if (pending[i] > 0)
        PA1_FAIL("Executor", "the graph has a cycle through node ",
                 node_on_cycle(nodes[i].get(), index, pending)->describe(),
                 " (a node is its own input, directly or indirectly); graphs built with the ops "
                 "cannot have one: was an inputs list edited by hand?");
  }

  // 3. The plan in schedule positions k: the nodes, each step's inputs, and how each read
  //    passes its value: the last read of a value moves it out, so every intermediate dies
  //    right after its last consumer (outputs are never moved out); other reads lend it to
  //    the op (moved in, moved back after), unless the step reads it twice.
  std::vector<int32_t> step_of(n_nodes);
  for (int32_t k = 0; k < n_nodes; ++k) step_of[order[k]] = k;
  schedule_.resize(n_nodes);
  for (int32_t k = 0; k < n_nodes; ++k) schedule_[k] = std::move(nodes[order[k]]);
  input_begin_.assign(n_nodes + 1, 0);
  input_pos_.clear();
  input_pos_.reserve(in_idx.size());
  for (int32_t k = 0; k < n_nodes; ++k) {
    const int32_t i = order[k];
    for (int32_t e = in_begin[i]; e < in_begin[i + 1]; ++e) input_pos_.push_back(step_of[in_idx[e]]);
    input_begin_[k + 1] = static_cast<int32_t>(input_pos_.size());
  }
  output_pos_.clear();
  for (const NodePtr& o : outputs_) output_pos_.push_back(step_of[*index.find(o.get())]);
  std::vector<int32_t> last_read(n_nodes, -1);
  for (int32_t e = 0; e < static_cast<int32_t>(input_pos_.size()); ++e) last_read[input_pos_[e]] = e;
  for (int32_t p : output_pos_) last_read[p] = -1;
  // A value that one step reads twice or more is copied on every one of those reads (before
  // the last-read rule below): read_by[p] is the last step seen reading value p, first_read[p]
  // that step's first read of it. One pass over the reads, whatever a node's fan-in.
  read_.assign(input_pos_.size(), kBorrow);
  {
    std::vector<int32_t> read_by(n_nodes, -1), first_read(n_nodes, -1);
    for (int32_t k = 0; k < n_nodes; ++k)
      for (int32_t e = input_begin_[k]; e < input_begin_[k + 1]; ++e) {
        const int32_t p = input_pos_[e];
        if (read_by[p] == k) {
          read_[e] = kCopy;
          read_[first_read[p]] = kCopy;
        } else {
          read_by[p] = k;
          first_read[p] = e;
        }
      }
  }
  for (int32_t p = 0; p < n_nodes; ++p)
    if (last_read[p] >= 0) read_[last_read[p]] = kMove;

  // 4. Slots: step k releases the slots of the values it reads for the last time, then takes
  //    the most recently released slot (or a new one) for its own value. The run moves those
  //    inputs out before it stores the step's value, so sharing a slot with one is safe.
  //    Outputs are never read for the last time, so their slots are never reused.
  slot_.assign(n_nodes, -1);
  std::vector<int32_t> free_slots;
  n_slots_ = 0;
  for (int32_t k = 0; k < n_nodes; ++k) {
    for (int32_t e = input_begin_[k]; e < input_begin_[k + 1]; ++e)
      if (read_[e] == kMove) free_slots.push_back(slot_[input_pos_[e]]);
    if (free_slots.empty()) {
      slot_[k] = n_slots_++;
    } else {
      slot_[k] = free_slots.back();
      free_slots.pop_back();
    }
  }
}

static std::string describe_values(const std::vector<NodePtr>& inputs, const std::vector<Tensor>& values) {
  std::ostringstream os;
  for (size_t i = 0; i < inputs.size(); ++i)
    os << (i ? ", " : "") << "'" << inputs[i]->name() << "' " << values[i].describe();
  return os.str();
}

static std::string output_names(const std::vector<NodePtr>& outputs) {
  std::ostringstream os;
  for (size_t i = 0; i < outputs.size(); ++i) os << (i ? ", " : "") << "'" << outputs[i]->name() << "'";
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

  std::vector<Tensor> values(static_cast<size_t>(n_slots_));  // by slot_[k]
  std::vector<Tensor> args;
  const size_t n_steps = schedule_.size();
  for (size_t k = 0; k < n_steps; ++k) {
    // Each step reads its node and the node's shape: ask for them a few steps ahead.
    if (k + 8 < n_steps) prefetch_node(schedule_[k + 8].get());
    if (k + 4 < n_steps) __builtin_prefetch(schedule_[k + 4]->shape.data());
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
        values[slot_[k]] = v;
        break;
      }
      case NodeKind::Variable:
      case NodeKind::Constant:
        values[slot_[k]] = node.value;
        break;
      case NodeKind::Compute: {
        args.clear();
        const int32_t begin = input_begin_[k], end = input_begin_[k + 1];
        for (int32_t e = begin; e < end; ++e) {
          Tensor& v = values[slot_[input_pos_[e]]];
          if (read_[e] == kCopy) args.push_back(v);
          else args.push_back(std::move(v));
        }
        try {
          values[slot_[k]] = node.op->compute(args, ctx);
        } catch (const mlsys::NotImplemented&) {
          throw;
        } catch (const mlsys::Error& e) {
          PA1_FAIL("Executor::run", "node ", node.describe(), " failed on inputs ",
                   describe_values(node.inputs, args), ": ", e.what());
        }
        for (int32_t e = begin; e < end; ++e)
          if (read_[e] == kBorrow) values[slot_[input_pos_[e]]] = std::move(args[e - begin]);
        const Tensor& out = values[slot_[k]];
        PA1_CHECK(out.defined() && out.dtype() == node.dtype && shape_matches(node.shape, out.shape()),
                  "Executor::run", "op '", node.op->name(), "' of node ", node.describe(),
                  " returned ", out.defined() ? out.describe() : std::string("an undefined tensor"),
                  ", which does not match the node's static dtype and shape (a bug in the op)");
        break;
      }
    }
  }
  ++runs_;
  std::vector<Tensor> result;
  result.reserve(output_pos_.size());
  for (int32_t p : output_pos_) result.push_back(values[slot_[p]].contiguous());
  return result;
}

}  // namespace pa1
