// mlsys/ops.h — math on tensors. Same API on CPU and CUDA; inputs must share a device.
//
// Elementwise ops follow NumPy broadcasting and work on any view (non-contiguous, expanded);
// results are fresh contiguous tensors. Math ops take float32; comparisons return float32
// 0/1 masks. Reductions take a list of axes (empty = all axes) and keepdims.
//
// NaN propagates as in NumPy: relu, sign, maximum and minimum of a NaN are NaN; max and min
// over a slice holding a NaN are NaN, and argmax gives the index of its first NaN. Sums
// (sum, mean, sum_to, the softmax denominators) accumulate so that their error stays at a
// few float32 ulps however many elements they add.
#pragma once

#include <vector>

#include "mlsys/tensor.h"

namespace mlsys {

// ---- elementwise -------------------------------------------------------------------------
enum class UnaryOp { Neg, Exp, Log, Sqrt, Tanh, Relu, Sigmoid, Abs, Sign, ReluGrad };
enum class BinaryOp { Add, Sub, Mul, Div, Pow, Maximum, Minimum, Eq, Ne, Lt, Le, Gt, Ge };

Tensor unary(UnaryOp op, const Tensor& x);
Tensor binary(BinaryOp op, const Tensor& a, const Tensor& b);
Tensor binary(BinaryOp op, const Tensor& a, float b);  // a (op) scalar
Tensor binary(BinaryOp op, float a, const Tensor& b);  // scalar (op) b

inline Tensor neg(const Tensor& x) { return unary(UnaryOp::Neg, x); }
inline Tensor exp(const Tensor& x) { return unary(UnaryOp::Exp, x); }
inline Tensor log(const Tensor& x) { return unary(UnaryOp::Log, x); }
inline Tensor sqrt(const Tensor& x) { return unary(UnaryOp::Sqrt, x); }
inline Tensor tanh(const Tensor& x) { return unary(UnaryOp::Tanh, x); }
inline Tensor relu(const Tensor& x) { return unary(UnaryOp::Relu, x); }
inline Tensor sigmoid(const Tensor& x) { return unary(UnaryOp::Sigmoid, x); }
inline Tensor abs(const Tensor& x) { return unary(UnaryOp::Abs, x); }
inline Tensor sign(const Tensor& x) { return unary(UnaryOp::Sign, x); }

inline Tensor add(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Add, a, b); }
inline Tensor sub(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Sub, a, b); }
inline Tensor mul(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Mul, a, b); }
inline Tensor div(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Div, a, b); }
inline Tensor pow(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Pow, a, b); }
inline Tensor pow(const Tensor& a, float b) { return binary(BinaryOp::Pow, a, b); }
inline Tensor maximum(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Maximum, a, b); }
inline Tensor minimum(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Minimum, a, b); }
inline Tensor eq(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Eq, a, b); }
inline Tensor ne(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Ne, a, b); }
inline Tensor lt(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Lt, a, b); }
inline Tensor le(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Le, a, b); }
inline Tensor gt(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Gt, a, b); }
inline Tensor ge(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Ge, a, b); }

// cond != 0 ? a : b, all three broadcast together.
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);

Tensor operator-(const Tensor& x);
Tensor operator+(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a, const Tensor& b);
Tensor operator*(const Tensor& a, const Tensor& b);
Tensor operator/(const Tensor& a, const Tensor& b);
Tensor operator+(const Tensor& a, float b);
Tensor operator-(const Tensor& a, float b);
Tensor operator*(const Tensor& a, float b);
Tensor operator/(const Tensor& a, float b);
Tensor operator+(float a, const Tensor& b);
Tensor operator-(float a, const Tensor& b);
Tensor operator*(float a, const Tensor& b);
Tensor operator/(float a, const Tensor& b);

// ---- reductions ----------------------------------------------------------------------------
// axes: any subset of dims, negative allowed, no repeats; {} reduces over all dims.
Tensor sum(const Tensor& x, std::vector<int64_t> axes = {}, bool keepdims = false);
Tensor mean(const Tensor& x, std::vector<int64_t> axes = {}, bool keepdims = false);
Tensor max(const Tensor& x, std::vector<int64_t> axes = {}, bool keepdims = false);
Tensor min(const Tensor& x, std::vector<int64_t> axes = {}, bool keepdims = false);
// Index of the (first) largest element along one axis, int64; a NaN counts as the largest.
Tensor argmax(const Tensor& x, int64_t axis, bool keepdims = false);
// Sums `x` down to `shape` (the inverse of broadcasting `shape` up to x.shape()).
Tensor sum_to(const Tensor& x, const Shape& shape);

// ---- linear algebra ------------------------------------------------------------------------
// a [..., M, K] @ b [..., K, N] -> [..., M, N]; batch dims broadcast. Both at least 2-D.
// CPU: Eigen (transposed views are used without copying); CUDA: cuBLAS, TF32 off.
Tensor matmul(const Tensor& a, const Tensor& b);

// ---- normalization -------------------------------------------------------------------------
// Numerically stable (max subtracted) along `axis`.
Tensor softmax(const Tensor& x, int64_t axis = -1);
Tensor log_softmax(const Tensor& x, int64_t axis = -1);

}  // namespace mlsys
