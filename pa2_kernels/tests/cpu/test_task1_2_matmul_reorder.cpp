// PA2 Task 1.2 public tests: matmul_reorder (pa2_kernels/src/cpu/matmul_reorder.cpp) against
// a double-precision product. Tolerances and the checks beyond values: pa2_cpu_test_util.h.
#include "pa2_cpu_test_util.h"

namespace {
::testing::AssertionResult reorder(int64_t M, int64_t N, int64_t K, int64_t pad = 0) {
  return pa2::test::check_matmul(pa2::cpu::matmul_reorder, {M, N, K, pad});
}
}  // namespace

TEST(Task1_2_MatmulReorder, Tiny_1x1x1) { EXPECT_TRUE(reorder(1, 1, 1)); }
TEST(Task1_2_MatmulReorder, Small_2x3x4) { EXPECT_TRUE(reorder(2, 3, 4)); }
TEST(Task1_2_MatmulReorder, OuterProduct_K1) { EXPECT_TRUE(reorder(37, 23, 1)); }
TEST(Task1_2_MatmulReorder, RowVector_M1) { EXPECT_TRUE(reorder(1, 100, 50)); }
TEST(Task1_2_MatmulReorder, ColumnVector_N1) { EXPECT_TRUE(reorder(100, 1, 50)); }
TEST(Task1_2_MatmulReorder, Primes_17x13x29) { EXPECT_TRUE(reorder(17, 13, 29)); }
TEST(Task1_2_MatmulReorder, Square_64) { EXPECT_TRUE(reorder(64, 64, 64)); }
TEST(Task1_2_MatmulReorder, NonSquare_127x61x97) { EXPECT_TRUE(reorder(127, 61, 97)); }
TEST(Task1_2_MatmulReorder, PaddedLeadingDims_33x45x27) { EXPECT_TRUE(reorder(33, 45, 27, 5)); }
TEST(Task1_2_MatmulReorder, Medium_256x320x288) { EXPECT_TRUE(reorder(256, 320, 288)); }
