// pa1_autodiff/src/grad_structural.cpp — PA1 Task 1.2: gradients of matmul, the shape ops
// and the reductions. Edit only the marked regions; the rest is given.
//
// Same contract as Task 1.1 (pa1/backward.h): `node` is the forward node, `grad` holds
// dL/d(node) with node's shape, and you return one node per input holding dL/d(input) with
// that input's shape, built from the ops of pa1/ops.h.
//
// Static shapes may hold -1 (a batch size known only at run time), so never compute a shape
// or a count from node->shape yourself: use the "*_like" helpers, which read the shape of
// another node when the graph runs (sum_to_like, broadcast_to_like, reshape_like), and
// numel(x, axes) for element counts.
//
// Tests (tests/test_task1_2_structural.cpp) compare each gradient against central finite
// differences: matmul with every transpose flag and with broadcast batch dims, permutations,
// reductions over one, several and all axes with and without keepdims, scalars.
#include <numeric>

#include "pa1/backward.h"
#include "pa1/ops.h"

namespace pa1 {

// ============================================================================================
// Matmul
// ============================================================================================

// node = op(a) @ op(b) with op(a) = a^T when trans_a (the last two dims swapped), likewise b.
//   shapes: op(a) [..., M, K], op(b) [..., K, N], node and grad [..., M, N]
// For C = A B:  dL/dA = G B^T,  dL/dB = A^T G. Work out the three transposed cases from that
// (for C = A^T B, the gradient of A^T is G B^T; transpose it to get A's) and express each
// product as one matmul call with trans flags (no transpose nodes needed).
// Batch dims broadcast: a [M, K] times b [B, K, N] uses a in all B products, so the gradient
// of a sums over the batch. sum_to_like handles that (and is free when nothing broadcast).
Grads matmul_backward(const NodePtr& node, const NodePtr& grad, bool trans_a, bool trans_b) {
  // TODO(student): PA1 Task 1.2 — see handouts/pa1.md#task-12
  throw mlsys::NotImplemented("PA1 Task 1.2", "pa1_autodiff/src/grad_structural.cpp", "handouts/pa1.md#task-12");
}

// ============================================================================================
// Shape ops
// ============================================================================================

// node = permute(x, dims): node.shape[i] = x.shape[dims[i]]. dims is normalized
// (non-negative). The gradient is grad permuted back, by the inverse permutation.
Grads permute_backward(const NodePtr& node, const NodePtr& grad, const std::vector<int64_t>& dims) {
  // TODO(student): PA1 Task 1.2 — see handouts/pa1.md#task-12
  throw mlsys::NotImplemented("PA1 Task 1.2", "pa1_autodiff/src/grad_structural.cpp", "handouts/pa1.md#task-12");
}

// node = reshape(x, shape). x's shape may have -1 dims (use reshape_like).
Grads reshape_backward(const NodePtr& node, const NodePtr& grad) {
  // TODO(student): PA1 Task 1.2 — see handouts/pa1.md#task-12
  throw mlsys::NotImplemented("PA1 Task 1.2", "pa1_autodiff/src/grad_structural.cpp", "handouts/pa1.md#task-12");
}

// node = broadcast_to(x, shape): x's elements repeated along broadcast dims.
Grads broadcast_to_backward(const NodePtr& node, const NodePtr& grad) {
  // TODO(student): PA1 Task 1.2 — see handouts/pa1.md#task-12
  throw mlsys::NotImplemented("PA1 Task 1.2", "pa1_autodiff/src/grad_structural.cpp", "handouts/pa1.md#task-12");
}

// ============================================================================================
// Reductions
// ============================================================================================

// node = sum(x, axes, keepdims). axes is normalized: non-negative, sorted, no repeats, and
// lists every axis of x when the node summed everything (empty only for a 0-dim x).
// Every element of x contributes once to one element of the sum, so dL/dx is grad copied
// along the reduced axes. Without keepdims, grad lacks the reduced dims: put them back as
// size-1 dims first (unsqueeze(grad, axes); skip it when axes is empty), then
// broadcast_to_like x.
Grads sum_backward(const NodePtr& node, const NodePtr& grad, const std::vector<int64_t>& axes,
                   bool keepdims) {
  // TODO(student): PA1 Task 1.2 — see handouts/pa1.md#task-12
  throw mlsys::NotImplemented("PA1 Task 1.2", "pa1_autodiff/src/grad_structural.cpp", "handouts/pa1.md#task-12");
}

// node = mean(x, axes, keepdims), axes as for sum. Like sum, divided by the number of
// elements averaged: numel(x, axes) (a 0-dim node; the count may only be known at run time).
Grads mean_backward(const NodePtr& node, const NodePtr& grad, const std::vector<int64_t>& axes,
                    bool keepdims) {
  // TODO(student): PA1 Task 1.2 — see handouts/pa1.md#task-12
  throw mlsys::NotImplemented("PA1 Task 1.2", "pa1_autodiff/src/grad_structural.cpp", "handouts/pa1.md#task-12");
}

// node = max(x, axis, keepdims), axis normalized. The gradient flows to the elements that
// equal the max of their row. When several elements tie for the max, split it evenly among
// them (each gets grad / number of ties), so the gradients of a row still add up to grad.
// Plan: 1. m = node and g = grad with the reduced axis kept as size 1 (unsqueeze unless
// keepdims). 2. mask = equal(x, m) (1 at the maxima, 0 elsewhere; equal broadcasts).
// 3. ties = sum(mask, {axis}, true). 4. dL/dx = mask / ties * g.
Grads max_backward(const NodePtr& node, const NodePtr& grad, int64_t axis, bool keepdims) {
  // TODO(student): PA1 Task 1.2 — see handouts/pa1.md#task-12
  throw mlsys::NotImplemented("PA1 Task 1.2", "pa1_autodiff/src/grad_structural.cpp", "handouts/pa1.md#task-12");
}

}  // namespace pa1
