// PA2 hidden tests, Task 1.2 (loop-reordered matmul): other shapes than the public tests (stress
// sizes, rows and columns of length 1, long rows or dot products, extreme values). Same checks
// and tolerances as the public tests (pa2_kernels/tests/cpu/pa2_cpu_test_util.h); every check
// records its output for the grader.
#include "pa2_cpu_test_util.h"

namespace {
using pa2::test::check_matmul;
namespace cpu = pa2::cpu;
}  // namespace

TEST(Task1_2_Hidden, Stress_300x511x257) { EXPECT_TRUE(check_matmul(cpu::matmul_reorder, {300, 511, 257, 0, 51})); }
TEST(Task1_2_Hidden, DotProduct_1x1x5000) { EXPECT_TRUE(check_matmul(cpu::matmul_reorder, {1, 1, 5000, 0, 52})); }
TEST(Task1_2_Hidden, Thin_1000x1x3) { EXPECT_TRUE(check_matmul(cpu::matmul_reorder, {1000, 1, 3, 2, 53})); }
TEST(Task1_2_Hidden, LargeValues) { EXPECT_TRUE(check_matmul(cpu::matmul_reorder, {31, 37, 41, 1, 54, 1e3f})); }
