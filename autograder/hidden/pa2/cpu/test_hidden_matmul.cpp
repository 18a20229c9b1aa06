// PA2 hidden tests, Tasks 1.1-1.5 (matmul). Other shapes than the public tests: stress sizes,
// rows and columns of length 1, long dot products, large values, more threads than cores.
// Same checks and tolerances as the public tests (pa2_cpu_test_util.h).
#include "pa2_cpu_test_util.h"

namespace {
using pa2::test::check_matmul;
using pa2::test::MatmulCase;
using pa2::test::ThreadCount;
namespace cpu = pa2::cpu;
}  // namespace

// ---- Task 1.1 ---------------------------------------------------------------------------------
TEST(Task1_1_Hidden, Stress_300x511x257) { EXPECT_TRUE(check_matmul(cpu::matmul_naive, {300, 511, 257, 0, 41})); }
TEST(Task1_1_Hidden, DotProduct_1x1x5000) { EXPECT_TRUE(check_matmul(cpu::matmul_naive, {1, 1, 5000, 0, 42})); }
TEST(Task1_1_Hidden, Thin_1000x1x3) { EXPECT_TRUE(check_matmul(cpu::matmul_naive, {1000, 1, 3, 2, 43})); }
TEST(Task1_1_Hidden, LargeValues) { EXPECT_TRUE(check_matmul(cpu::matmul_naive, {31, 37, 41, 1, 44, 1e3f})); }

// ---- Task 1.2 ---------------------------------------------------------------------------------
TEST(Task1_2_Hidden, Stress_300x511x257) { EXPECT_TRUE(check_matmul(cpu::matmul_reorder, {300, 511, 257, 0, 51})); }
TEST(Task1_2_Hidden, DotProduct_1x1x5000) { EXPECT_TRUE(check_matmul(cpu::matmul_reorder, {1, 1, 5000, 0, 52})); }
TEST(Task1_2_Hidden, Thin_1000x1x3) { EXPECT_TRUE(check_matmul(cpu::matmul_reorder, {1000, 1, 3, 2, 53})); }
TEST(Task1_2_Hidden, LargeValues) { EXPECT_TRUE(check_matmul(cpu::matmul_reorder, {31, 37, 41, 1, 54, 1e3f})); }

// ---- Task 1.3 ---------------------------------------------------------------------------------
TEST(Task1_3_Hidden, Stress_1023x517x1031) { EXPECT_TRUE(check_matmul(cpu::matmul_tiled, {1023, 517, 1031, 0, 61})); }
TEST(Task1_3_Hidden, DotProduct_1x1x5000) { EXPECT_TRUE(check_matmul(cpu::matmul_tiled, {1, 1, 5000, 0, 62})); }
TEST(Task1_3_Hidden, OneBelowTiles_63x255x127) { EXPECT_TRUE(check_matmul(cpu::matmul_tiled, {63, 255, 127, 0, 63})); }
TEST(Task1_3_Hidden, OneAboveTiles_65x257x129) { EXPECT_TRUE(check_matmul(cpu::matmul_tiled, {65, 257, 129, 3, 64})); }
TEST(Task1_3_Hidden, Thin_2000x1x700) { EXPECT_TRUE(check_matmul(cpu::matmul_tiled, {2000, 1, 700, 0, 65})); }
TEST(Task1_3_Hidden, LargeValues) { EXPECT_TRUE(check_matmul(cpu::matmul_tiled, {131, 137, 139, 1, 66, 1e3f})); }

// ---- Task 1.4 ---------------------------------------------------------------------------------
TEST(Task1_4_Hidden, Stress_1023x517x1031) { EXPECT_TRUE(check_matmul(cpu::matmul_simd, {1023, 517, 1031, 0, 71})); }
TEST(Task1_4_Hidden, DotProduct_1x1x5000) { EXPECT_TRUE(check_matmul(cpu::matmul_simd, {1, 1, 5000, 0, 72})); }
TEST(Task1_4_Hidden, Thin_2000x1x700) { EXPECT_TRUE(check_matmul(cpu::matmul_simd, {2000, 1, 700, 0, 73})); }
TEST(Task1_4_Hidden, OnePanelPlusOne) {
  EXPECT_TRUE(check_matmul(cpu::matmul_simd, {cpu::kMR + 1, cpu::kNR + 1, 257, 2, 74}));
}
TEST(Task1_4_Hidden, WideAndDeep_13x4099x520) { EXPECT_TRUE(check_matmul(cpu::matmul_simd, {13, 4099, 520, 0, 75})); }
TEST(Task1_4_Hidden, LargeValues) { EXPECT_TRUE(check_matmul(cpu::matmul_simd, {131, 137, 139, 1, 76, 1e3f})); }

// ---- Task 1.5 ---------------------------------------------------------------------------------
TEST(Task1_5_Hidden, Stress_1023x517x1031) {
  ThreadCount threads(2);
  EXPECT_TRUE(check_matmul(cpu::matmul_parallel, {1023, 517, 1031, 0, 81}));
}
TEST(Task1_5_Hidden, Oversubscribed_7Threads_301x299x263) {
  ThreadCount threads(7);
  EXPECT_TRUE(check_matmul(cpu::matmul_parallel, {301, 299, 263, 1, 82}));
}
TEST(Task1_5_Hidden, DotProduct_1x1x5000) {
  ThreadCount threads(4);
  EXPECT_TRUE(check_matmul(cpu::matmul_parallel, {1, 1, 5000, 0, 83}));
}
TEST(Task1_5_Hidden, Thin_2000x1x700) {
  ThreadCount threads(3);
  EXPECT_TRUE(check_matmul(cpu::matmul_parallel, {2000, 1, 700, 0, 84}));
}
TEST(Task1_5_Hidden, WideAndDeep_13x4099x520) {
  ThreadCount threads(2);
  EXPECT_TRUE(check_matmul(cpu::matmul_parallel, {13, 4099, 520, 0, 85}));
}
TEST(Task1_5_Hidden, LargeValues) {
  ThreadCount threads(2);
  EXPECT_TRUE(check_matmul(cpu::matmul_parallel, {131, 137, 139, 1, 86, 1e3f}));
}
