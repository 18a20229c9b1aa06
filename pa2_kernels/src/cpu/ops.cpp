// pa2_kernels/src/cpu/ops.cpp — argument checks and tensor-level entries (staff code).
//
// The kernels see raw pointers; everything a user can get wrong is caught here first, with a
// message that names the op, the argument, what was expected and what was given.
#include <cmath>
#include <cstdint>
#include <functional>

#include "pa2/cpu.h"

namespace pa2::cpu {

// ---------------------------------------------------------------------------------------------
// Raw-pointer argument checks
// ---------------------------------------------------------------------------------------------

namespace {

// [first, last) of the floats a strided matrix touches.
struct Span {
  const float* first;
  const float* last;
};
Span span_of(const float* p, int64_t rows, int64_t cols, int64_t ld) {
  return {p, p + (rows - 1) * ld + cols};
}
bool overlap(Span a, Span b) {
  std::less<const float*> lt;  // a total order even across unrelated arrays
  return lt(a.first, b.last) && lt(b.first, a.last);
}

void check_positive(const char* op, const char* name, int64_t value) {
  PA2_CHECK(value >= 1, op, "argument '", name, "' expected >= 1, got ", value);
}
void check_not_null(const char* op, const char* name, const void* p) {
  PA2_CHECK(p != nullptr, op, "argument '", name, "' is a null pointer");
}
void check_ld(const char* op, const char* name, int64_t ld, const char* what, int64_t cols) {
  PA2_CHECK(ld >= cols, op, "argument '", name, "' (leading dimension) expected >= ", what, " = ",
            cols, ", got ", ld);
}

}  // namespace

void check_matmul_args(const char* op, const float* A, const float* B, const float* C,
                       int64_t M, int64_t N, int64_t K, int64_t lda, int64_t ldb, int64_t ldc) {
  check_not_null(op, "A", A);
  check_not_null(op, "B", B);
  check_not_null(op, "C", C);
  check_positive(op, "M", M);
  check_positive(op, "N", N);
  check_positive(op, "K", K);
  check_ld(op, "lda", lda, "K", K);
  check_ld(op, "ldb", ldb, "N", N);
  check_ld(op, "ldc", ldc, "N", N);
  Span c = span_of(C, M, N, ldc);
  PA2_CHECK(!overlap(c, span_of(A, M, K, lda)), op,
            "argument 'C' overlaps 'A' (C is written while A is read; use separate arrays)");
  PA2_CHECK(!overlap(c, span_of(B, K, N, ldb)), op,
            "argument 'C' overlaps 'B' (C is written while B is read; use separate arrays)");
}

void check_rowwise_args(const char* op, const float* x, const float* y, int64_t rows,
                        int64_t cols, int64_t ldx, int64_t ldy) {
  check_not_null(op, "x", x);
  check_not_null(op, "y", y);
  check_positive(op, "rows", rows);
  check_positive(op, "cols", cols);
  check_ld(op, "ldx", ldx, "cols", cols);
  check_ld(op, "ldy", ldy, "cols", cols);
  if (x == y) {
    PA2_CHECK(ldx == ldy, op, "in place (x == y) needs ldx == ldy, got ldx = ", ldx,
              " and ldy = ", ldy);
  } else {
    PA2_CHECK(!overlap(span_of(x, rows, cols, ldx), span_of(y, rows, cols, ldy)), op,
              "arguments 'x' and 'y' overlap without being the same array (pass y == x to "
              "work in place)");
  }
}

void check_layernorm_args(const char* op, const float* x, const float* gamma,
                          const float* beta, const float* y, const float* mean,
                          const float* rstd, int64_t rows, int64_t cols, int64_t ldx,
                          int64_t ldy, float eps) {
  check_rowwise_args(op, x, y, rows, cols, ldx, ldy);
  check_not_null(op, "gamma", gamma);
  check_not_null(op, "beta", beta);
  PA2_CHECK(std::isfinite(eps) && eps >= 0.f, op, "argument 'eps' expected a finite value >= 0, got ",
            eps);
  Span ys = span_of(y, rows, cols, ldy);
  if (mean) PA2_CHECK(!overlap(span_of(mean, 1, rows, rows), ys), op, "argument 'mean' overlaps 'y'");
  if (rstd) PA2_CHECK(!overlap(span_of(rstd, 1, rows, rows), ys), op, "argument 'rstd' overlaps 'y'");
}

// ---------------------------------------------------------------------------------------------
// Tensor-level entries
// ---------------------------------------------------------------------------------------------

const char* to_string(MatmulStep step) {
  switch (step) {
    case MatmulStep::Reference: return "reference";
    case MatmulStep::Naive: return "naive";
    case MatmulStep::Reorder: return "reorder";
    case MatmulStep::Tiled: return "tiled";
    case MatmulStep::Simd: return "simd";
    case MatmulStep::Parallel: return "parallel";
  }
  return "?";
}

namespace {

using mlsys::Tensor;

void check_tensor(const char* op, const char* name, const Tensor& t) {
  PA2_CHECK(t.defined(), op, "argument '", name, "' is an undefined tensor");
  PA2_CHECK(t.dtype() == mlsys::DType::Float32, op, "argument '", name,
            "' expected dtype float32, got ", mlsys::to_string(t.dtype()), " (use .astype())");
  PA2_CHECK(t.device() == mlsys::Device::CPU, op, "argument '", name,
            "' expected a CPU tensor, got one on ", mlsys::to_string(t.device()),
            " (call .cpu(), or use the GPU track's entry)");
}

// A 2-D float32 CPU tensor as (pointer, leading dimension), copying only when its rows are not
// evenly strided with unit column stride. `keep` owns the memory the pointer points into.
struct MatrixView {
  Tensor keep;
  const float* data;
  int64_t rows, cols, ld;
};
MatrixView as_matrix(const Tensor& t) {
  int64_t rows = t.size(0), cols = t.size(1);
  bool usable = t.strides()[1] == 1 && (rows == 1 || t.strides()[0] >= cols);
  Tensor m = usable ? t : t.contiguous();
  int64_t ld = (rows == 1 || !usable) ? cols : m.strides()[0];
  return {m, m.data<float>(), rows, cols, ld};
}

using MatmulKernel = void (*)(const float*, const float*, float*, int64_t, int64_t, int64_t,
                              int64_t, int64_t, int64_t);
MatmulKernel matmul_kernel(MatmulStep step) {
  switch (step) {
    case MatmulStep::Reference: return reference::matmul;
    case MatmulStep::Naive: return matmul_naive;
    case MatmulStep::Reorder: return matmul_reorder;
    case MatmulStep::Tiled: return matmul_tiled;
    case MatmulStep::Simd: return matmul_simd;
    case MatmulStep::Parallel: return matmul_parallel;
  }
  PA2_FAIL("cpu::matmul", "unknown MatmulStep ", static_cast<int>(step));
}

// x (rank >= 1) as rows x cols with the last axis as cols. Copies unless x is 2-D with usable
// strides, or contiguous.
MatrixView as_rows(const Tensor& x) {
  if (x.dim() == 2) return as_matrix(x);
  Tensor c = x.contiguous();
  int64_t cols = x.size(-1);
  return {c, c.data<float>(), c.numel() / cols, cols, cols};
}

}  // namespace

mlsys::Tensor matmul(const mlsys::Tensor& a, const mlsys::Tensor& b, MatmulStep step) {
  const char* op = "cpu::matmul";
  check_tensor(op, "a", a);
  check_tensor(op, "b", b);
  PA2_CHECK(a.dim() == 2, op, "argument 'a' expected a matrix [M, K], got shape ",
            mlsys::to_string(a.shape()));
  PA2_CHECK(b.dim() == 2, op, "argument 'b' expected a matrix [K, N], got shape ",
            mlsys::to_string(b.shape()));
  PA2_CHECK(b.size(0) == a.size(1), op, "argument 'b' expected shape [", a.size(1),
            ", N] (its rows must equal the columns of a ", mlsys::to_string(a.shape()), "), got ",
            mlsys::to_string(b.shape()));
  int64_t M = a.size(0), K = a.size(1), N = b.size(1);
  if (M == 0 || N == 0 || K == 0) return mlsys::zeros({M, N});
  MatrixView A = as_matrix(a), B = as_matrix(b);
  Tensor c = mlsys::empty({M, N});
  matmul_kernel(step)(A.data, B.data, c.data<float>(), M, N, K, A.ld, B.ld, N);
  return c;
}

mlsys::Tensor softmax(const mlsys::Tensor& x, Impl impl) {
  const char* op = "cpu::softmax";
  check_tensor(op, "x", x);
  PA2_CHECK(x.dim() >= 1, op, "argument 'x' expected at least 1 dimension, got a 0-D tensor");
  Tensor y = mlsys::empty(x.shape());
  if (x.numel() == 0) return y;
  MatrixView X = as_rows(x);
  auto kernel = impl == Impl::Reference ? reference::softmax_forward : softmax_forward;
  kernel(X.data, y.data<float>(), X.rows, X.cols, X.ld, X.cols);
  return y;
}

mlsys::Tensor layernorm(const mlsys::Tensor& x, const mlsys::Tensor& gamma,
                        const mlsys::Tensor& beta, float eps, Impl impl) {
  const char* op = "cpu::layernorm";
  check_tensor(op, "x", x);
  check_tensor(op, "gamma", gamma);
  check_tensor(op, "beta", beta);
  PA2_CHECK(x.dim() >= 1, op, "argument 'x' expected at least 1 dimension [..., C], got a 0-D tensor");
  int64_t C = x.size(-1);
  PA2_CHECK(gamma.dim() == 1 && gamma.size(0) == C, op, "argument 'gamma' expected shape [", C,
            "] (the last dimension of x ", mlsys::to_string(x.shape()), "), got ",
            mlsys::to_string(gamma.shape()));
  PA2_CHECK(beta.dim() == 1 && beta.size(0) == C, op, "argument 'beta' expected shape [", C,
            "] (the last dimension of x ", mlsys::to_string(x.shape()), "), got ",
            mlsys::to_string(beta.shape()));
  PA2_CHECK(std::isfinite(eps) && eps >= 0.f, op, "argument 'eps' expected a finite value >= 0, got ",
            eps);
  Tensor y = mlsys::empty(x.shape());
  if (x.numel() == 0) return y;
  MatrixView X = as_rows(x);
  Tensor g = gamma.contiguous(), b = beta.contiguous();
  auto kernel = impl == Impl::Reference ? reference::layernorm_forward : layernorm_forward;
  kernel(X.data, g.data<float>(), b.data<float>(), y.data<float>(), nullptr, nullptr, X.rows,
         X.cols, X.ld, X.cols, eps);
  return y;
}

}  // namespace pa2::cpu
