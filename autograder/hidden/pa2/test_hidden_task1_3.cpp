// PA2 hidden tests, Task 1.3 (tiled matmul): other shapes than the public tests (stress
// sizes, rows and columns of length 1, long rows or dot products, extreme values). Same checks
// and tolerances as the public tests (pa2_kernels/tests/cpu/pa2_cpu_test_util.h); every check
// records its output for the grader.
#include "pa2_cpu_test_util.h"

namespace {
using pa2::test::check_matmul;
namespace cpu = pa2::cpu;
}  // namespace

TEST(Task1_3_Hidden, Stress_1023x517x1031) { EXPECT_TRUE(check_matmul(cpu::matmul_tiled, {1023, 517, 1031, 0, 61})); }
TEST(Task1_3_Hidden, DotProduct_1x1x5000) { EXPECT_TRUE(check_matmul(cpu::matmul_tiled, {1, 1, 5000, 0, 62})); }
TEST(Task1_3_Hidden, OneBelowTiles_63x255x127) { EXPECT_TRUE(check_matmul(cpu::matmul_tiled, {63, 255, 127, 0, 63})); }
TEST(Task1_3_Hidden, OneAboveTiles_65x257x129) { EXPECT_TRUE(check_matmul(cpu::matmul_tiled, {65, 257, 129, 3, 64})); }
TEST(Task1_3_Hidden, Thin_2000x1x700) { EXPECT_TRUE(check_matmul(cpu::matmul_tiled, {2000, 1, 700, 0, 65})); }
TEST(Task1_3_Hidden, LargeValues) { EXPECT_TRUE(check_matmul(cpu::matmul_tiled, {131, 137, 139, 1, 66, 1e3f})); }
