// pa2_kernels/src/cpu/matmul_tiled.cpp — PA2 Task 1.3: cache tiling (blocking).
// Edit only the marked region; the rest is given. Handout: handouts/pa2.md#task-13
#include <algorithm>

#include "pa2/cpu.h"

namespace pa2::cpu {

// Tile sizes (in elements). A kTileK x kTileN tile of B is 128 KiB: it stays in L2 (1–2 MiB
// per core on current x86 servers) while every row of an M tile streams over it, and one row
// of it plus the matching row segment of C (2 x 1 KiB) stay in L1 (32–48 KiB). Tune them if
// you like; your code must work for any values, and for sizes that are not multiples of them.
constexpr int64_t kTileM = 64;
constexpr int64_t kTileN = 256;
constexpr int64_t kTileK = 128;

// C[M, N] = A[M, K] @ B[K, N] with cache blocking. Task 1.2's i-k-j loop streams the whole of
// B (K x N floats) through the cache once per row of A: for large K x N, B does not fit in any
// cache and each pass reloads it from memory. Blocking cuts the iteration space into tiles
// small enough that the tile of B being used stays in cache while it is reused:
//
//   1. Zero C (it may hold NaN on entry).
//   2. for i0 in [0, M) step kTileM,  for p0 in [0, K) step kTileK,  for j0 in [0, N) step kTileN:
//   3.   the tile product C[i0:i1, j0:j1] += A[i0:i1, p0:p1] @ B[p0:p1, j0:j1], with
//        i1 = min(i0 + kTileM, M) and likewise p1, j1 (edge tiles are smaller: M, N, K need
//        not be multiples of the tile sizes), computed with Task 1.2's i-k-j loops so that the
//        innermost loop runs along a row of B and C (unit stride, vectorized by the compiler).
//
// Each element of C still sums over p in increasing order, so results match Task 1.2's.
// Layout: A[i, p] = A[i * lda + p], B[p, j] = B[p * ldb + j], C[i, j] = C[i * ldc + j];
// lda >= K, ldb >= N, ldc >= N; never touch the padding past K or N. One thread.
// Tests: sizes from 1x1x1 to several tiles in each dimension, not multiples of the tiles,
// primes, non-square, padded leading dimensions.
void matmul_tiled(const float* A, const float* B, float* C, int64_t M, int64_t N, int64_t K,
                  int64_t lda, int64_t ldb, int64_t ldc) {
  check_matmul_args("matmul_tiled", A, B, C, M, N, K, lda, ldb, ldc);
  // BEGIN SOLUTION PA2 Task 1.3
  for (int64_t i = 0; i < M; ++i) std::fill(C + i * ldc, C + i * ldc + N, 0.f);
  for (int64_t i0 = 0; i0 < M; i0 += kTileM) {
    const int64_t i1 = std::min(i0 + kTileM, M);
    for (int64_t p0 = 0; p0 < K; p0 += kTileK) {
      const int64_t p1 = std::min(p0 + kTileK, K);
      for (int64_t j0 = 0; j0 < N; j0 += kTileN) {
        const int64_t j1 = std::min(j0 + kTileN, N);
        for (int64_t i = i0; i < i1; ++i) {
          float* __restrict c = C + i * ldc;
          for (int64_t p = p0; p < p1; ++p) {
            const float a = A[i * lda + p];
            const float* __restrict b = B + p * ldb;
            for (int64_t j = j0; j < j1; ++j) c[j] += a * b[j];
          }
        }
      }
    }
  }
  // END SOLUTION
}

}  // namespace pa2::cpu
