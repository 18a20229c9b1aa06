// pa2_kernels/src/cpu/matmul_reorder.cpp — PA2 Task 1.2: loop reordering (i-k-j).
// Edit only the marked region; the rest is given. Handout: handouts/pa2.md#task-12
#include "pa2/cpu.h"

namespace pa2::cpu {

// The same product as Task 1.1, C[M, N] = A[M, K] @ B[K, N], with the loops in i-k-j order:
//
//   for each row i:   C[i, :] = 0
//                     for each p:   C[i, :] += A[i, p] * B[p, :]     (a whole row of B)
//
// Now the innermost loop walks B[p, :] and C[i, :] left to right: unit stride, every float of
// each cache line used, and a loop the compiler vectorizes by itself (check with
// -fopt-info-vec). Same arithmetic, reordered; the sum for C[i, j] still runs over p in order.
//
// Layout: A[i, p] = A[i * lda + p], B[p, j] = B[p * ldb + j], C[i, j] = C[i * ldc + j];
// lda >= K, ldb >= N, ldc >= N; never touch the padding past K or N. C is overwritten (it may
// hold NaN on entry: zero each row of C before accumulating into it). One thread.
// Tests: as Task 1.1 (M, N, K from 1 to a few hundred, primes, non-square, padded).
void matmul_reorder(const float* A, const float* B, float* C, int64_t M, int64_t N, int64_t K,
                    int64_t lda, int64_t ldb, int64_t ldc) {
  check_matmul_args("matmul_reorder", A, B, C, M, N, K, lda, ldb, ldc);
  // BEGIN SOLUTION PA2 Task 1.2
  for (int64_t i = 0; i < M; ++i) {
    float* c = C + i * ldc;
    for (int64_t j = 0; j < N; ++j) c[j] = 0.f;
    for (int64_t p = 0; p < K; ++p) {
      const float a = A[i * lda + p];
      const float* b = B + p * ldb;
      for (int64_t j = 0; j < N; ++j) c[j] += a * b[j];
    }
  }
  // END SOLUTION
}

}  // namespace pa2::cpu
