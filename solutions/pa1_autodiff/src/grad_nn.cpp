// pa1_autodiff/src/grad_nn.cpp — PA1 Task 1.3: gradients of the neural-network ops
// (softmax, log_softmax, softmax cross-entropy, layernorm, gelu, embedding, dropout).
// Edit only the marked regions; the rest is given.
//
// Same contract as Tasks 1.1 and 1.2 (pa1/backward.h): return one node per input holding
// dL/d(input) with that input's shape, nullptr for integer inputs (labels, indices), built
// from the ops of pa1/ops.h. Write each gradient as a composition of ops, never with a
// dedicated "backward op": that is what makes second derivatives work.
//
// Tests (tests/test_task1_3_nn.cpp) compare against central finite differences, on softmax
// axes other than the last, and on batches given as [B, C] and [B, T, C]. Hidden tests also
// use logits of +-1e4 (your gradient must stay finite: build it from softmax/log_softmax
// nodes, which are stable, not from exp of the logits).
#include "pa1/backward.h"
#include "pa1/ops.h"

namespace pa1 {

// ============================================================================================
// Softmax family
// ============================================================================================

// node = s = softmax(x, axis), axis normalized. ds_i/dx_j = s_i (delta_ij - s_j), so
//   dL/dx = s * (grad - sum(grad * s, axis, keepdims))
Grads softmax_backward(const NodePtr& node, const NodePtr& grad, int64_t axis) {
  // BEGIN SOLUTION PA1 Task 1.3
  return {node * (grad - sum(grad * node, {axis}, true))};
  // END SOLUTION
}

// node = log_softmax(x, axis) = x - log(sum(exp(x), axis)). Derive dL/dx; exp(node) is the
// softmax.
Grads log_softmax_backward(const NodePtr& node, const NodePtr& grad, int64_t axis) {
  // BEGIN SOLUTION PA1 Task 1.3
  return {grad - exp(node) * sum(grad, {axis}, true)};
  // END SOLUTION
}

// node = softmax_cross_entropy(logits, labels): logits [B..., C] float32, labels [B...] int64,
// node a 0-dim mean over the R = numel(labels) rows of -log_softmax(logits)[row, label].
// grad is 0-dim. Returns {dL/dlogits, nullptr}:
//   dL/dlogits = (softmax(logits) - one_hot(labels, C)) * grad / R
// C is logits->shape.back() (always known); R may only be known at run time: numel(labels).
Grads softmax_cross_entropy_backward(const NodePtr& node, const NodePtr& grad) {
  // BEGIN SOLUTION PA1 Task 1.3
  const NodePtr& logits = node->inputs[0];
  const NodePtr& labels = node->inputs[1];
  const int64_t C = logits->shape.back();
  NodePtr probs_minus_target = softmax(logits, -1) - one_hot(labels, C);
  return {probs_minus_target * (grad / numel(labels)), nullptr};
  // END SOLUTION
}

// ============================================================================================
// Layer normalization
// ============================================================================================

// node = layernorm(x, gain, bias, eps) over the last axis (size C):
//   mu = mean(x), var = mean((x - mu)^2), rstd = (var + eps)^-1/2, xhat = (x - mu) * rstd
//   node = xhat * gain + bias        x [..., C], gain [C], bias [C]
// Returns {dL/dx, dL/dgain, dL/dbias}. Plan:
// 1. Rebuild xhat and rstd from x with ops (means over axis -1 with keepdims).
// 2. dL/dbias = grad summed down to [C];  dL/dgain = (grad * xhat) summed down to [C].
// 3. With dxhat = grad * gain (the gradient w.r.t. xhat), the gradient through the mean and
//    the variance works out to
//      dL/dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat))
//    (means over the last axis, keepdims). Check it by differentiating xhat yourself.
Grads layernorm_backward(const NodePtr& node, const NodePtr& grad, float eps) {
  // BEGIN SOLUTION PA1 Task 1.3
  const NodePtr& x = node->inputs[0];
  const NodePtr& gain = node->inputs[1];
  const NodePtr& bias = node->inputs[2];
  NodePtr xc = x - mean(x, {-1}, true);
  NodePtr rstd = pow_scalar(mean(xc * xc, {-1}, true) + eps, -0.5f);
  NodePtr xhat = xc * rstd;
  NodePtr dxhat = grad * gain;
  NodePtr grad_x = rstd * (dxhat - mean(dxhat, {-1}, true) - xhat * mean(dxhat * xhat, {-1}, true));
  return {grad_x, sum_to_like(grad * xhat, gain), sum_to_like(grad, bias)};
  // END SOLUTION
}

// ============================================================================================
// GELU, embedding, dropout
// ============================================================================================

// node = gelu(x) = 0.5 x (1 + tanh(u)), u = k (x + 0.044715 x^3), k = sqrt(2 / pi). Then
//   d gelu/dx = 0.5 (1 + tanh(u)) + 0.5 x (1 - tanh(u)^2) k (1 + 3 * 0.044715 x^2)
Grads gelu_backward(const NodePtr& node, const NodePtr& grad) {
  // BEGIN SOLUTION PA1 Task 1.3
  const NodePtr& x = node->inputs[0];
  const float k = 0.7978845608028654f;  // sqrt(2 / pi), as in the forward
  NodePtr x2 = x * x;
  NodePtr t = tanh((x + x2 * x * 0.044715f) * k);
  NodePtr dgelu = (1.f + t) * 0.5f + x * 0.5f * (1.f - t * t) * (k * (1.f + x2 * (3.f * 0.044715f)));
  return {grad * dgelu};
  // END SOLUTION
}

// node = embedding(table, indices): table [V, C], indices int64 [B...], node [B..., C] with
// node[i] = table[indices[i]]. Returns {dL/dtable, nullptr}: row v of dL/dtable is the sum of
// grad[i] over every i with indices[i] == v (scatter_add_rows does exactly that).
Grads embedding_backward(const NodePtr& node, const NodePtr& grad) {
  // BEGIN SOLUTION PA1 Task 1.3
  const NodePtr& table = node->inputs[0];
  const NodePtr& indices = node->inputs[1];
  return {scatter_add_rows(grad, indices, table), nullptr};
  // END SOLUTION
}

// node = dropout(x, p, seed) = x * mask / (1 - p), the 0/1 mask a function of (seed, the
// executor's step, element index). The gradient is grad * mask / (1 - p): the same mask.
// Hint: what does dropout(grad, p, seed) compute when it runs in the same step as node?
Grads dropout_backward(const NodePtr& node, const NodePtr& grad, float p, uint64_t seed) {
  // BEGIN SOLUTION PA1 Task 1.3
  return {dropout(grad, p, seed)};
  // END SOLUTION
}

}  // namespace pa1
