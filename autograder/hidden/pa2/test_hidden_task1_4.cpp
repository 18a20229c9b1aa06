// PA2 hidden tests, Task 1.4 (packed SIMD matmul): other shapes than the public tests (stress
// sizes, rows and columns of length 1, long rows or dot products, extreme values). Same checks
// and tolerances as the public tests (pa2_kernels/tests/cpu/pa2_cpu_test_util.h); every check
// records its output for the grader.
#include "pa2_cpu_test_util.h"

namespace {
using pa2::test::check_matmul;
namespace cpu = pa2::cpu;
}  // namespace

TEST(Task1_4_Hidden, Stress_1023x517x1031) { EXPECT_TRUE(check_matmul(cpu::matmul_simd, {1023, 517, 1031, 0, 71})); }
TEST(Task1_4_Hidden, DotProduct_1x1x5000) { EXPECT_TRUE(check_matmul(cpu::matmul_simd, {1, 1, 5000, 0, 72})); }
TEST(Task1_4_Hidden, Thin_2000x1x700) { EXPECT_TRUE(check_matmul(cpu::matmul_simd, {2000, 1, 700, 0, 73})); }
TEST(Task1_4_Hidden, OnePanelPlusOne) {
  EXPECT_TRUE(check_matmul(cpu::matmul_simd, {cpu::kMR + 1, cpu::kNR + 1, 257, 2, 74}));
}
TEST(Task1_4_Hidden, WideAndDeep_13x4099x520) { EXPECT_TRUE(check_matmul(cpu::matmul_simd, {13, 4099, 520, 0, 75})); }
TEST(Task1_4_Hidden, LargeValues) { EXPECT_TRUE(check_matmul(cpu::matmul_simd, {131, 137, 139, 1, 76, 1e3f})); }
