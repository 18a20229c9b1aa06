// PA2 GPU hidden tests, Tasks 3.1-3.6: the shape families every SGEMM step is checked on. Each
// family is one test case, so one failing family costs only its share of the hidden points.
// Bounds as in the public tests (pa2_kernels/tests/gpu/gpu_test_util.h): gamma_(K+2) *
// (|A| @ |B|) against the double reference, 2.02 gamma_(K+1) * (|A| @ |B|) against cuBLAS (both
// results carry gamma_K). Every check records C for the grader (within_bound).
#pragma once

#include "gpu_test_util.h"

namespace pa2::gpu::hidden {

using test::GemmSize;

// Degenerate: a single row, column or inner dimension of 1, and a long K.
inline const std::vector<GemmSize> kDegenerateShapes = {{1, 1000, 1}, {1000, 1, 3}, {3, 3, 1000}};
// Odd sizes: primes and one past a power of two, nothing a multiple of a tile.
inline const std::vector<GemmSize> kOddShapes = {{513, 257, 129}, {96, 1000, 33}, {7, 11, 13}};
// Very wide, few rows.
inline const std::vector<GemmSize> kWideShapes = {{65, 2049, 5}, {2, 70001, 3}};
// More rows than one launch's grid covers (65535 blocks of up to 128 rows along y): the entry
// splits the product into several launches over blocks of rows.
constexpr GemmSize kTallShape = {65535 * 128 + 257, 1, 2};
// Large products, against cuBLAS (the double reference is too slow for them).
inline const std::vector<GemmSize> kLargeSquareShapes = {{2048, 1536, 1024}, {1000, 1000, 1000}};
inline const std::vector<GemmSize> kLargeSkinnyShapes = {{4096, 8, 4096}, {8, 4096, 4096}};

inline void check_vs_cublas(Sgemm kernel, const std::vector<GemmSize>& shapes, uint64_t seed) {
  for (const GemmSize& s : shapes) test::check_sgemm_vs_cublas(kernel, s, seed++);
}

}  // namespace pa2::gpu::hidden

// The six hidden cases of one SGEMM step: SUITE is Task3_<k>_Hidden, KERNEL its Sgemm value,
// SEED the first seed (each case uses its own range).
#define PA2_HIDDEN_SGEMM_TESTS(SUITE, KERNEL, SEED)                                          \
  TEST(SUITE, DegenerateShapes) {                                                           \
    MLSYS_SKIP_WITHOUT_GPU();                                                               \
    pa2::gpu::test::check_sgemm_sizes(KERNEL, pa2::gpu::hidden::kDegenerateShapes, SEED);   \
  }                                                                                         \
  TEST(SUITE, OddShapes) {                                                                  \
    MLSYS_SKIP_WITHOUT_GPU();                                                               \
    pa2::gpu::test::check_sgemm_sizes(KERNEL, pa2::gpu::hidden::kOddShapes, SEED + 10);     \
  }                                                                                         \
  TEST(SUITE, WideShapes) {                                                                 \
    MLSYS_SKIP_WITHOUT_GPU();                                                               \
    pa2::gpu::test::check_sgemm_sizes(KERNEL, pa2::gpu::hidden::kWideShapes, SEED + 20);    \
  }                                                                                         \
  TEST(SUITE, TallSplitOverLaunches) {                                                      \
    MLSYS_SKIP_WITHOUT_GPU();                                                               \
    pa2::gpu::test::check_sgemm(KERNEL, pa2::gpu::hidden::kTallShape, SEED + 30);           \
  }                                                                                         \
  TEST(SUITE, LargeSquareVsCublas) {                                                        \
    MLSYS_SKIP_WITHOUT_GPU();                                                               \
    pa2::gpu::hidden::check_vs_cublas(KERNEL, pa2::gpu::hidden::kLargeSquareShapes, SEED + 40); \
  }                                                                                         \
  TEST(SUITE, LargeSkinnyVsCublas) {                                                        \
    MLSYS_SKIP_WITHOUT_GPU();                                                               \
    pa2::gpu::hidden::check_vs_cublas(KERNEL, pa2::gpu::hidden::kLargeSkinnyShapes, SEED + 50); \
  }
