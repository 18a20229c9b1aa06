// pa1/autodiff.h — topological order and reverse-mode differentiation of a graph.
//
//   NodePtr loss = softmax_cross_entropy(logits, labels);
//   std::vector<NodePtr> grads = gradients(loss, {W1, b1, W2, b2});   // graph nodes
//   Executor ex({loss, grads[0], grads[1], grads[2], grads[3]});
//
// gradients() builds new nodes from the ops' gradients (backward.h); nothing is computed until
// an executor runs them. Because the result is an ordinary graph, it can be differentiated
// again: gradients(sum(mul(gradients(f, {x})[0], v)), {x}) is a Hessian-vector product.
#pragma once

#include <vector>

#include "pa1/graph.h"

namespace pa1 {

// PA1 Task 2.1 (src/topo_sort.cpp). Every node reachable from `outputs` through inputs, each
// exactly once, each after all of its inputs: the post-order of a depth-first search that
// starts from outputs[0], outputs[1], ... and visits a node's inputs in order. Iterative (a
// 100,000-node chain must work). Throws mlsys::Error naming a node on the cycle when the
// graph has one (only a graph edited by hand can).
std::vector<NodePtr> topological_sort(const std::vector<NodePtr>& outputs);

// PA1 Task 2.2 (src/autodiff.cpp). One node per element of `wrt` holding
// d(sum of output * output_grad)/d(wrt[i]), with wrt[i]'s shape. output_grad defaults to ones
// (then the result is the gradient of sum(output); for a scalar loss, of the loss).
// Contributions of every path are added (shared subexpressions, diamonds). A wrt node the
// output depends on only through non-differentiable inputs gets zeros_like(wrt). Throws
// mlsys::Error naming the node when a wrt node is not in the output's graph at all.
std::vector<NodePtr> gradients(const NodePtr& output, const std::vector<NodePtr>& wrt,
                               const NodePtr& output_grad = nullptr);

}  // namespace pa1
