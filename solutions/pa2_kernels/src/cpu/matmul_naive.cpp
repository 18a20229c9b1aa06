// pa2_kernels/src/cpu/matmul_naive.cpp — PA2 Task 1.1: naive matmul (the i-j-k loop nest).
// Edit only the marked region; the rest is given. Handout: handouts/pa2.md#task-11
#include "pa2/cpu.h"

namespace pa2::cpu {

// C[M, N] = A[M, K] @ B[K, N], the textbook way: for each row i, for each column j, the dot
// product of row i of A with column j of B, accumulated in a float:
//
//   C[i, j] = sum over p of A[i, p] * B[p, j]
//
// Layout (row-major, explicit leading dimensions; pa2/cpu.h has the shared contract):
//   A[i, p] is A[i * lda + p]     B[p, j] is B[p * ldb + j]     C[i, j] is C[i * ldc + j]
//   lda >= K, ldb >= N, ldc >= N. Columns past K (in A) or N (in B, C) are padding that
//   belongs to someone else: never read or write them.
// C is overwritten: do not assume it starts at zero (the tests fill it with NaN first).
// One thread. Tests: M, N, K from 1 up to a few hundred, primes, non-square, padded leading
// dimensions; results within fp32 rounding of a double-precision product.
//
// This is the baseline every later task is measured against. Note how the innermost loop
// walks B down a column: consecutive p are ldb floats apart, so each access touches a new
// cache line (Task 1.2 fixes that).
void matmul_naive(const float* A, const float* B, float* C, int64_t M, int64_t N, int64_t K,
                  int64_t lda, int64_t ldb, int64_t ldc) {
  check_matmul_args("matmul_naive", A, B, C, M, N, K, lda, ldb, ldc);
  // BEGIN SOLUTION PA2 Task 1.1
  for (int64_t i = 0; i < M; ++i) {
    for (int64_t j = 0; j < N; ++j) {
      float acc = 0.f;
      for (int64_t p = 0; p < K; ++p) acc += A[i * lda + p] * B[p * ldb + j];
      C[i * ldc + j] = acc;
    }
  }
  // END SOLUTION
}

}  // namespace pa2::cpu
