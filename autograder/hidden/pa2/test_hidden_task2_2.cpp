// PA2 hidden tests, Task 2.2 (fused layernorm forward): other shapes than the public tests (stress
// sizes, rows and columns of length 1, long rows or dot products, extreme values). Same checks
// and tolerances as the public tests (pa2_kernels/tests/cpu/pa2_cpu_test_util.h); every check
// records its output for the grader.
#include "pa2_cpu_test_util.h"

namespace {
using pa2::test::check_layernorm;
using pa2::test::Fill;
using pa2::test::LayernormOptions;
using pa2::test::uniform_fill;
namespace cpu = pa2::cpu;
}  // namespace

TEST(Task2_2_Hidden, RowsOfLength1_1000x1) {
  EXPECT_TRUE(check_layernorm(cpu::layernorm_forward, {1000, 1}, uniform_fill(1000, 1, 1, -50.f, 50.f)));
}
TEST(Task2_2_Hidden, OneLongRow_1x100003) {
  EXPECT_TRUE(check_layernorm(cpu::layernorm_forward, {1, 100003}, uniform_fill(1, 100003, 2, -3.f, 3.f)));
}
TEST(Task2_2_Hidden, ConstantRows_Various) {
  const float values[] = {0.f, -3.5f, 1e4f, 1e-3f, 7.25f};
  Fill constant = [values](int64_t r, int64_t) { return values[r % 5]; };
  EXPECT_TRUE(check_layernorm(cpu::layernorm_forward, {10, 333}, constant));
}
TEST(Task2_2_Hidden, LargeOffset_1e4) {
  EXPECT_TRUE(check_layernorm(cpu::layernorm_forward, {16, 1024}, uniform_fill(16, 1024, 3, 1e4f - 1.f, 1e4f + 1.f)));
}
TEST(Task2_2_Hidden, LargeScale_1e3) {
  EXPECT_TRUE(check_layernorm(cpu::layernorm_forward, {16, 515}, uniform_fill(16, 515, 4, -1e3f, 1e3f)));
}
TEST(Task2_2_Hidden, TinyScale_1em3) {
  LayernormOptions o;
  o.eps = 1e-12f;  // eps far below var = 3e-7: the normalization must still be exact
  EXPECT_TRUE(check_layernorm(cpu::layernorm_forward, {16, 515}, uniform_fill(16, 515, 5, -1e-3f, 1e-3f), o));
}
TEST(Task2_2_Hidden, ZeroEps) {
  LayernormOptions o;
  o.eps = 0.f;
  EXPECT_TRUE(check_layernorm(cpu::layernorm_forward, {9, 64}, uniform_fill(9, 64, 6, -1.f, 1.f), o));
}
TEST(Task2_2_Hidden, InPlacePadded_OddRows_10007x19_NoStats) {
  LayernormOptions o;
  o.stats = false;
  EXPECT_TRUE(check_layernorm(cpu::layernorm_forward, {10007, 19, 5, true}, uniform_fill(10007, 19, 7, -4.f, 4.f), o));
}
