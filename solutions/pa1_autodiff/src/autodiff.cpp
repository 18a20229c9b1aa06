// pa1_autodiff/src/autodiff.cpp — PA1 Task 2.2: reverse-mode automatic differentiation.
// Edit only the marked region; the rest is given.
#include <unordered_map>
#include <unordered_set>

#include "check.h"
#include "node_map.h"
#include "pa1/autodiff.h"
#include "pa1/ops.h"

namespace pa1 {

// node->op->gradient(node, grad), checked: one entry per input, each null or shaped like its
// input. Use it instead of calling op->gradient directly: a wrong gradient then fails here,
// naming the op, rather than somewhere far downstream.
[[maybe_unused]] static std::vector<NodePtr> input_gradients(const NodePtr& node, const NodePtr& grad) {
  std::vector<NodePtr> grads = node->op->gradient(node, grad);
  PA1_CHECK(grads.size() == node->inputs.size(), "gradients", "the gradient of op '",
            node->op->name(), "' returned ", grads.size(), " nodes for the ", node->inputs.size(),
            " inputs of node ", node->describe());
  for (size_t i = 0; i < grads.size(); ++i) {
    if (!grads[i]) continue;
    const Shape &want = node->inputs[i]->shape, &got = grads[i]->shape;
    bool ok = want.size() == got.size();
    for (size_t d = 0; ok && d < want.size(); ++d)
      ok = want[d] == -1 || got[d] == -1 || want[d] == got[d];
    PA1_CHECK(ok, "gradients", "the gradient of op '", node->op->name(), "' for input ", i, " ",
              node->inputs[i]->describe(), " has shape ", mlsys::to_string(got),
              "; it must have the input's shape (did you sum broadcast dims back?)");
  }
  return grads;
}

// Builds the nodes of d(sum(output * output_grad)) / d(wrt[i]) by reverse-mode accumulation.
//
// Every node n of the graph gets an adjoint, dL/dn. The output's adjoint is output_grad, or
// ones_like(output) when it is null. Going through the nodes in reverse topological order,
// each node's adjoint is complete once every consumer of the node has been processed, and
// the node then passes a contribution to each of its inputs. A node used several times (a
// diamond, x * x) receives several contributions: its adjoint is their sum.
//
// Plan:
// 1. order = topological_sort({output}). If some wrt[i] is not in it, throw mlsys::Error
//    whose message names that node (wrt[i]->describe()) and says the output does not depend
//    on it.
// 2. A hash map from node (address) to its adjoint so far, a running sum (std::unordered_map,
//    or NodeMap of node_map.h); seed the output's entry with output_grad, or ones_like(output).
// 3. For each node in reverse order that has an entry, the entry is now complete. Leaves stop
//    here. For a compute node, input_gradients(node, adjoint) gives one node per input; add
//    each non-null one to that input's entry: store it when the input has none yet, otherwise
//    replace the entry with add(entry, it). (So a node with k contributions costs k - 1 add
//    nodes, and none when it has one.)
// 4. Return the adjoint of each wrt[i], in order; zeros_like(wrt[i]) when it got none (the
//    output depends on it only through non-differentiable inputs, such as labels).
//
// Tests check the results against finite differences, on diamonds, reused nodes (x * x),
// several wrt nodes at once, a non-scalar output, a 100,000-node chain, and second
// derivatives (the gradient of a gradient).
std::vector<NodePtr> gradients(const NodePtr& output, const std::vector<NodePtr>& wrt,
                               const NodePtr& output_grad) {
  PA1_CHECK(output != nullptr, "gradients", "output is a null node");
  for (size_t i = 0; i < wrt.size(); ++i)
    PA1_CHECK(wrt[i] != nullptr, "gradients", "wrt[", i, "] is a null node");
  if (output_grad)
    PA1_CHECK(output_grad->shape.size() == output->shape.size(), "gradients", "output_grad ",
              output_grad->describe(), " must have the shape of output ", output->describe());
  // BEGIN SOLUTION PA1 Task 2.2
  // 1. The nodes the output depends on, each after its inputs; every wrt node must be one.
  const std::vector<NodePtr> order = topological_sort({output});
  NodeMap<bool> met;  // wrt node -> whether the order holds it
  for (const NodePtr& w : wrt) met.emplace(w.get(), false);
  for (const NodePtr& n : order)
    if (bool* m = met.find(n.get())) *m = true;
  for (const NodePtr& w : wrt)
    PA1_CHECK(*met.find(w.get()), "gradients", "node ", w->describe(),
              " is not in the graph of output ", output->describe(),
              ": the output does not depend on it");

  // 2-3. Adjoints as running sums, completed in reverse topological order.
  NodeMap<NodePtr> adjoint;
  adjoint.emplace(output.get(), output_grad ? output_grad : ones_like(output));
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    const NodePtr& node = *it;
    if (node->is_leaf()) continue;
    const NodePtr* grad = adjoint.find(node.get());
    if (grad == nullptr) continue;  // no gradient reaches this node
    std::vector<NodePtr> grads = input_gradients(node, *grad);
    for (size_t i = 0; i < grads.size(); ++i) {
      if (!grads[i]) continue;
      auto [sum, fresh] = adjoint.emplace(node->inputs[i].get(), grads[i]);
      if (!fresh) *sum = add(*sum, grads[i]);
    }
  }

  // 4. The wrt nodes' adjoints; zeros for one that no gradient reached.
  std::vector<NodePtr> result;
  for (const NodePtr& w : wrt) {
    const NodePtr* grad = adjoint.find(w.get());
    result.push_back(grad ? *grad : zeros_like(w));
  }
  return result;
  // END SOLUTION
}

}  // namespace pa1
