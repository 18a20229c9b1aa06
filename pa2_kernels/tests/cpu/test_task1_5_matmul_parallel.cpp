// PA2 Task 1.5 public tests: matmul_parallel (pa2_kernels/src/cpu/matmul_parallel.cpp) against
// a double-precision product, with 1, 2 and 3 OpenMP threads. Tolerances: pa2_cpu_test_util.h.
#include "pa2_cpu_test_util.h"

namespace {
::testing::AssertionResult parallel(int threads, int64_t M, int64_t N, int64_t K, int64_t pad = 0) {
  pa2::test::ThreadCount scope(threads);
  return pa2::test::check_matmul(pa2::cpu::matmul_parallel, {M, N, K, pad});
}
}  // namespace

TEST(Task1_5_MatmulParallel, Tiny_1x1x1) { EXPECT_TRUE(parallel(2, 1, 1, 1)); }
TEST(Task1_5_MatmulParallel, OuterProduct_K1) { EXPECT_TRUE(parallel(2, 37, 23, 1)); }
TEST(Task1_5_MatmulParallel, RowVector_M1) { EXPECT_TRUE(parallel(2, 1, 300, 200)); }
TEST(Task1_5_MatmulParallel, ColumnVector_N1) { EXPECT_TRUE(parallel(2, 300, 1, 200)); }
TEST(Task1_5_MatmulParallel, Primes_17x13x29) { EXPECT_TRUE(parallel(2, 17, 13, 29)); }
TEST(Task1_5_MatmulParallel, FewerRowsThanThreads_5x1000x300) { EXPECT_TRUE(parallel(3, 5, 1000, 300)); }
TEST(Task1_5_MatmulParallel, PartialBlocks_259x131x301) { EXPECT_TRUE(parallel(2, 259, 131, 301)); }
TEST(Task1_5_MatmulParallel, PaddedLeadingDims_100x270x140) { EXPECT_TRUE(parallel(2, 100, 270, 140, 7)); }
TEST(Task1_5_MatmulParallel, WideN_7x4500x300) { EXPECT_TRUE(parallel(2, 7, 4500, 300)); }
TEST(Task1_5_MatmulParallel, OneThread_300x200x280) { EXPECT_TRUE(parallel(1, 300, 200, 280)); }
TEST(Task1_5_MatmulParallel, ThreeThreads_300x200x280) { EXPECT_TRUE(parallel(3, 300, 200, 280)); }
TEST(Task1_5_MatmulParallel, Large_600x512x700) { EXPECT_TRUE(parallel(2, 600, 512, 700)); }
