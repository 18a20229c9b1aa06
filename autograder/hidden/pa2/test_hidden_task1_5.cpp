// PA2 hidden tests, Task 1.5 (OpenMP matmul): other shapes than the public tests (stress
// sizes, rows and columns of length 1, long rows or dot products, extreme values). Same checks
// and tolerances as the public tests (pa2_kernels/tests/cpu/pa2_cpu_test_util.h); every check
// records its output for the grader.
#include "pa2_cpu_test_util.h"

namespace {
using pa2::test::check_matmul;
using pa2::test::ThreadCount;
namespace cpu = pa2::cpu;
}  // namespace

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
