// pa1/backward.h — the gradient of every op: PA1 Tasks 1.1, 1.2 and 1.3.
//
// Each op's Op::gradient (src/ops.cpp) calls one of these. They all follow one contract:
//
//   node   the forward node, node = op(node->inputs[0], node->inputs[1], ...)
//   grad   a node holding dL/d(node), with node's shape
//   result one node per input of `node`, holding dL/d(input) with that input's shape, or
//          nullptr where no gradient flows (integer labels and indices)
//
// They build graph nodes (ops.h) and compute nothing: the gradient is itself a graph, so it can
// be differentiated again (Hessian-vector products). They may use `node` itself (d exp(x) =
// exp(x) dx: reuse the forward node instead of recomputing it). Op parameters (axes, the
// scalar of mul_scalar, ...) are passed as arguments.
//
// The contracts, shapes and hints for each function are written above its body in the student
// file named in each section.
#pragma once

#include <cstdint>
#include <vector>

#include "pa1/graph.h"

namespace pa1 {

using Grads = std::vector<NodePtr>;

// ---- Task 1.1: elementwise (src/grad_elementwise.cpp) --------------------------------------
Grads add_backward(const NodePtr& node, const NodePtr& grad);
Grads sub_backward(const NodePtr& node, const NodePtr& grad);
Grads mul_backward(const NodePtr& node, const NodePtr& grad);
Grads div_backward(const NodePtr& node, const NodePtr& grad);
Grads add_scalar_backward(const NodePtr& node, const NodePtr& grad, float c);
Grads mul_scalar_backward(const NodePtr& node, const NodePtr& grad, float c);
Grads pow_scalar_backward(const NodePtr& node, const NodePtr& grad, float p);
Grads neg_backward(const NodePtr& node, const NodePtr& grad);
Grads exp_backward(const NodePtr& node, const NodePtr& grad);
Grads log_backward(const NodePtr& node, const NodePtr& grad);
Grads sqrt_backward(const NodePtr& node, const NodePtr& grad);
Grads relu_backward(const NodePtr& node, const NodePtr& grad);
Grads sigmoid_backward(const NodePtr& node, const NodePtr& grad);
Grads tanh_backward(const NodePtr& node, const NodePtr& grad);

// ---- Task 1.2: shapes, reductions, matmul (src/grad_structural.cpp) ------------------------
Grads matmul_backward(const NodePtr& node, const NodePtr& grad, bool trans_a, bool trans_b);
// dims: the normalized permutation (non-negative) the node was built with.
Grads permute_backward(const NodePtr& node, const NodePtr& grad, const std::vector<int64_t>& dims);
Grads reshape_backward(const NodePtr& node, const NodePtr& grad);
Grads broadcast_to_backward(const NodePtr& node, const NodePtr& grad);
// axes: normalized (non-negative, sorted, no repeats; every axis when the node reduced all).
Grads sum_backward(const NodePtr& node, const NodePtr& grad, const std::vector<int64_t>& axes,
                   bool keepdims);
Grads mean_backward(const NodePtr& node, const NodePtr& grad, const std::vector<int64_t>& axes,
                    bool keepdims);
// axis: normalized (non-negative).
Grads max_backward(const NodePtr& node, const NodePtr& grad, int64_t axis, bool keepdims);

// ---- Task 1.3: neural-network ops (src/grad_nn.cpp) ----------------------------------------
// axis: normalized (non-negative).
Grads softmax_backward(const NodePtr& node, const NodePtr& grad, int64_t axis);
Grads log_softmax_backward(const NodePtr& node, const NodePtr& grad, int64_t axis);
Grads softmax_cross_entropy_backward(const NodePtr& node, const NodePtr& grad);
Grads layernorm_backward(const NodePtr& node, const NodePtr& grad, float eps);
Grads gelu_backward(const NodePtr& node, const NodePtr& grad);
Grads embedding_backward(const NodePtr& node, const NodePtr& grad);
Grads dropout_backward(const NodePtr& node, const NodePtr& grad, float p, uint64_t seed);

}  // namespace pa1
