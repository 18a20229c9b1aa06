// PA2 Task 1.3 public tests: matmul_tiled (pa2_kernels/src/cpu/matmul_tiled.cpp) against a
// double-precision product. Sizes below, at and above the tile sizes (64 x 256 x 128 by
// default) and not multiples of them. Tolerances: pa2_cpu_test_util.h.
#include "pa2_cpu_test_util.h"

namespace {
::testing::AssertionResult tiled(int64_t M, int64_t N, int64_t K, int64_t pad = 0) {
  return pa2::test::check_matmul(pa2::cpu::matmul_tiled, {M, N, K, pad});
}
}  // namespace

TEST(Task1_3_MatmulTiled, Tiny_1x1x1) { EXPECT_TRUE(tiled(1, 1, 1)); }
TEST(Task1_3_MatmulTiled, Small_2x3x4) { EXPECT_TRUE(tiled(2, 3, 4)); }
TEST(Task1_3_MatmulTiled, OuterProduct_K1) { EXPECT_TRUE(tiled(37, 23, 1)); }
TEST(Task1_3_MatmulTiled, RowVector_M1) { EXPECT_TRUE(tiled(1, 300, 200)); }
TEST(Task1_3_MatmulTiled, ColumnVector_N1) { EXPECT_TRUE(tiled(300, 1, 200)); }
TEST(Task1_3_MatmulTiled, Primes_17x13x29) { EXPECT_TRUE(tiled(17, 13, 29)); }
TEST(Task1_3_MatmulTiled, ExactTiles_128x512x256) { EXPECT_TRUE(tiled(128, 512, 256)); }
TEST(Task1_3_MatmulTiled, PartialTiles_130x300x200) { EXPECT_TRUE(tiled(130, 300, 200)); }
TEST(Task1_3_MatmulTiled, NonSquare_67x521x131) { EXPECT_TRUE(tiled(67, 521, 131)); }
TEST(Task1_3_MatmulTiled, PaddedLeadingDims_100x270x140) { EXPECT_TRUE(tiled(100, 270, 140, 7)); }
TEST(Task1_3_MatmulTiled, Large_512x384x448) { EXPECT_TRUE(tiled(512, 384, 448)); }
