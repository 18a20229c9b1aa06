// pa2_kernels/src/cpu/reference.cpp — the staff reference of every CPU kernel (staff code).
//
// Plain loops that accumulate in double: slow and obviously right. Same signatures and
// contracts as the student kernels (pa2/cpu.h), so any of them can stand in for another.
// The tests do not use these for expected values (they compute their own, in double, with
// Eigen); the tensor-level entries use them for Impl::Reference / MatmulStep::Reference.
#include <algorithm>
#include <cmath>
#include <limits>

#include "pa2/cpu.h"

namespace pa2::cpu::reference {

void matmul(const float* A, const float* B, float* C, int64_t M, int64_t N, int64_t K,
            int64_t lda, int64_t ldb, int64_t ldc) {
  check_matmul_args("reference::matmul", A, B, C, M, N, K, lda, ldb, ldc);
  for (int64_t i = 0; i < M; ++i) {
    for (int64_t j = 0; j < N; ++j) {
      double acc = 0;
      for (int64_t p = 0; p < K; ++p) acc += double(A[i * lda + p]) * double(B[p * ldb + j]);
      C[i * ldc + j] = static_cast<float>(acc);
    }
  }
}

void softmax_forward(const float* x, float* y, int64_t rows, int64_t cols, int64_t ldx,
                     int64_t ldy) {
  check_rowwise_args("reference::softmax_forward", x, y, rows, cols, ldx, ldy);
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * ldx;
    float* yr = y + r * ldy;
    double max = -std::numeric_limits<double>::infinity();
    for (int64_t c = 0; c < cols; ++c) max = std::max(max, double(xr[c]));
    double sum = 0;
    for (int64_t c = 0; c < cols; ++c) sum += std::exp(double(xr[c]) - max);
    for (int64_t c = 0; c < cols; ++c) yr[c] = static_cast<float>(std::exp(double(xr[c]) - max) / sum);
  }
}

void layernorm_forward(const float* x, const float* gamma, const float* beta, float* y,
                       float* mean, float* rstd, int64_t rows, int64_t cols, int64_t ldx,
                       int64_t ldy, float eps) {
  check_layernorm_args("reference::layernorm_forward", x, gamma, beta, y, mean, rstd, rows,
                       cols, ldx, ldy, eps);
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * ldx;
    float* yr = y + r * ldy;
    double mu = 0;
    for (int64_t c = 0; c < cols; ++c) mu += xr[c];
    mu /= double(cols);
    double var = 0;  // two passes: exact enough to be the yardstick
    for (int64_t c = 0; c < cols; ++c) var += (xr[c] - mu) * (xr[c] - mu);
    var /= double(cols);
    double rs = 1.0 / std::sqrt(var + double(eps));
    for (int64_t c = 0; c < cols; ++c)
      yr[c] = static_cast<float>((xr[c] - mu) * rs * double(gamma[c]) + double(beta[c]));
    if (mean) mean[r] = static_cast<float>(mu);
    if (rstd) rstd[r] = static_cast<float>(rs);
  }
}

}  // namespace pa2::cpu::reference
