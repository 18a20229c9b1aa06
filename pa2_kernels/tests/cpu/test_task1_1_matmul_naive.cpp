// PA2 Task 1.1 public tests: matmul_naive (pa2_kernels/src/cpu/matmul_naive.cpp) against a
// double-precision product. Tolerances and the checks beyond values: pa2_cpu_test_util.h.
#include "pa2_cpu_test_util.h"

namespace {
::testing::AssertionResult naive(int64_t M, int64_t N, int64_t K, int64_t pad = 0) {
  return pa2::test::check_matmul(pa2::cpu::matmul_naive, {M, N, K, pad});
}
}  // namespace

TEST(Task1_1_MatmulNaive, Tiny_1x1x1) { EXPECT_TRUE(naive(1, 1, 1)); }
TEST(Task1_1_MatmulNaive, Small_2x3x4) { EXPECT_TRUE(naive(2, 3, 4)); }
TEST(Task1_1_MatmulNaive, OuterProduct_K1) { EXPECT_TRUE(naive(37, 23, 1)); }
TEST(Task1_1_MatmulNaive, RowVector_M1) { EXPECT_TRUE(naive(1, 100, 50)); }
TEST(Task1_1_MatmulNaive, ColumnVector_N1) { EXPECT_TRUE(naive(100, 1, 50)); }
TEST(Task1_1_MatmulNaive, Primes_17x13x29) { EXPECT_TRUE(naive(17, 13, 29)); }
TEST(Task1_1_MatmulNaive, Square_64) { EXPECT_TRUE(naive(64, 64, 64)); }
TEST(Task1_1_MatmulNaive, NonSquare_127x61x97) { EXPECT_TRUE(naive(127, 61, 97)); }
TEST(Task1_1_MatmulNaive, PaddedLeadingDims_33x45x27) { EXPECT_TRUE(naive(33, 45, 27, 5)); }
TEST(Task1_1_MatmulNaive, Medium_256x320x288) { EXPECT_TRUE(naive(256, 320, 288)); }
