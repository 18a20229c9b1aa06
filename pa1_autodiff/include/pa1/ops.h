// pa1/ops.h — every op of the graph, as functions that build compute nodes.
//
// Each function returns a new node; nothing is computed until an Executor runs it. Shapes
// follow mlsys (NumPy broadcasting for elementwise ops, negative axes count from the end).
// Math ops take float32 nodes; labels and indices are int64. The forward computations are
// staff code (src/ops.cpp); the gradients are the students' *_backward functions (backward.h).
//
// Dimension names used below: B batch (or any leading dims), C channels/features/classes,
// V vocabulary (embedding rows), M, N, K matmul.
#pragma once

#include <cstdint>
#include <vector>

#include "pa1/graph.h"

namespace pa1 {

// ============================================================================================
// Elementwise (Task 1.1 writes their gradients)
// ============================================================================================
// Binary ops broadcast their inputs like NumPy; their gradients sum back to each input's shape.
NodePtr add(const NodePtr& a, const NodePtr& b);
NodePtr sub(const NodePtr& a, const NodePtr& b);
NodePtr mul(const NodePtr& a, const NodePtr& b);
NodePtr div(const NodePtr& a, const NodePtr& b);

// Scalar forms. add_scalar, mul_scalar, pow_scalar and rsub_scalar are ops; the others are
// built from them (a - c = a + (-c), a / c = a * (1/c), c / a = c * a^-1).
NodePtr add_scalar(const NodePtr& a, float c);  // a + c
NodePtr mul_scalar(const NodePtr& a, float c);  // a * c
NodePtr pow_scalar(const NodePtr& a, float p);  // a ^ p (elementwise; a > 0 unless p is an integer)
// c - a: one node where -a + c would be two (it appears in gradients such as tanh's 1 - y^2).
// Its gradient, -grad, is given (staff code).
NodePtr rsub_scalar(const NodePtr& a, float c);

NodePtr neg(const NodePtr& x);
NodePtr exp(const NodePtr& x);
NodePtr log(const NodePtr& x);
NodePtr sqrt(const NodePtr& x);
NodePtr relu(const NodePtr& x);
NodePtr sigmoid(const NodePtr& x);
NodePtr tanh(const NodePtr& x);

// ============================================================================================
// Shapes, reductions, matmul (Task 1.2)
// ============================================================================================
// a [..., M, K] @ b [..., K, N] -> [..., M, N]; batch dims broadcast. trans_a uses a's last
// two dims swapped (a is [..., K, M]), trans_b likewise (b is [..., N, K]); no copy is made.
NodePtr matmul(const NodePtr& a, const NodePtr& b, bool trans_a = false, bool trans_b = false);
// out.shape[i] = x.shape[dims[i]]; dims is a permutation of 0..rank-1 (negative allowed).
NodePtr permute(const NodePtr& x, std::vector<int64_t> dims);
// Swaps two dims (a permute).
NodePtr transpose(const NodePtr& x, int64_t dim0 = -2, int64_t dim1 = -1);
// Same elements, new shape; one dim of `shape` may be -1 (inferred from the element count).
NodePtr reshape(const NodePtr& x, Shape shape);
// NumPy broadcast_to: size-1 dims repeat, new leading dims are added.
NodePtr broadcast_to(const NodePtr& x, Shape shape);
// Reductions: axes {} means every axis; keepdims keeps reduced dims with size 1.
NodePtr sum(const NodePtr& x, std::vector<int64_t> axes = {}, bool keepdims = false);
NodePtr mean(const NodePtr& x, std::vector<int64_t> axes = {}, bool keepdims = false);
// Largest element along one axis.
NodePtr max(const NodePtr& x, int64_t axis, bool keepdims = false);

// ============================================================================================
// Neural-network ops (Task 1.3)
// ============================================================================================
NodePtr softmax(const NodePtr& x, int64_t axis = -1);
NodePtr log_softmax(const NodePtr& x, int64_t axis = -1);
// logits float32 [B..., C], labels int64 [B...] with values in [0, C) -> a 0-dim float32 node:
// the mean over the B... rows of -log_softmax(logits)[row, label]. Stable for any logits.
NodePtr softmax_cross_entropy(const NodePtr& logits, const NodePtr& labels);
// Normalizes over the last axis C: (x - mean) / sqrt(var + eps) * gain + bias, var biased
// (divided by C). x [..., C], gain [C], bias [C].
NodePtr layernorm(const NodePtr& x, const NodePtr& gain, const NodePtr& bias, float eps = 1e-5f);
// GELU, tanh approximation: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
NodePtr gelu(const NodePtr& x);
// table float32 [V, C], indices int64 [B...] in [0, V) -> [B..., C]: rows of the table.
NodePtr embedding(const NodePtr& table, const NodePtr& indices);
// Inverted dropout: each element is zeroed with probability p, the rest scaled by 1/(1-p).
// The mask is a function of (seed, RunContext::step, element index) only: the same run of
// the same executor always drops the same elements, and a node's gradient uses its mask.
// The identity when the executor runs with training = false, or when p == 0.
NodePtr dropout(const NodePtr& x, float p, uint64_t seed);

// ============================================================================================
// Helpers that gradients are built from
// ============================================================================================
// "*_like" ops take their target shape from another node at run time, so they work when the
// static shape has -1 dims. The `like` input only provides a shape: no gradient flows to it.
// When both static shapes are fully known and equal they return x itself (no new node).
NodePtr sum_to_like(const NodePtr& x, const NodePtr& like);        // mlsys::sum_to(x, like.shape)
NodePtr broadcast_to_like(const NodePtr& x, const NodePtr& like);  // x broadcast to like.shape
NodePtr reshape_like(const NodePtr& x, const NodePtr& like);       // x reshaped to like.shape
// Inserts size-1 dims at `axes`, positions in the result (negative: from the result's end).
NodePtr unsqueeze(const NodePtr& x, std::vector<int64_t> axes);
// Removes size-1 dims at `axes`, positions in x.
NodePtr squeeze(const NodePtr& x, std::vector<int64_t> axes);
// A 0-dim float32 node: the number of elements of x over `axes` ({}: all of x). Not
// differentiable (a count).
NodePtr numel(const NodePtr& x, std::vector<int64_t> axes = {});
// labels int64 [B...] -> float32 [B..., depth] with 1 at each label, 0 elsewhere.
NodePtr one_hot(const NodePtr& labels, int64_t depth);
// float32 mask, 1 where a == b (broadcast), 0 elsewhere. Not differentiable.
NodePtr equal(const NodePtr& a, const NodePtr& b);
// float32 mask, 1 where x > 0, 0 elsewhere (the derivative of relu). Not differentiable.
NodePtr relu_mask(const NodePtr& x);
// src float32 [B..., C], indices int64 [B...], like [V, C] -> [V, C]: zeros, then row
// indices[i] += src[i] for every i (repeated indices add up). The adjoint of embedding.
NodePtr scatter_add_rows(const NodePtr& src, const NodePtr& indices, const NodePtr& like);
// float32 zeros / ones with x's shape (and device). Not differentiable.
NodePtr zeros_like(const NodePtr& x);
NodePtr ones_like(const NodePtr& x);

// ============================================================================================
// Operators
// ============================================================================================
NodePtr operator+(const NodePtr& a, const NodePtr& b);
NodePtr operator-(const NodePtr& a, const NodePtr& b);
NodePtr operator*(const NodePtr& a, const NodePtr& b);
NodePtr operator/(const NodePtr& a, const NodePtr& b);
NodePtr operator-(const NodePtr& x);
NodePtr operator+(const NodePtr& a, float c);
NodePtr operator+(float c, const NodePtr& a);
NodePtr operator-(const NodePtr& a, float c);
NodePtr operator-(float c, const NodePtr& a);
NodePtr operator*(const NodePtr& a, float c);
NodePtr operator*(float c, const NodePtr& a);
NodePtr operator/(const NodePtr& a, float c);
NodePtr operator/(float c, const NodePtr& a);

}  // namespace pa1
