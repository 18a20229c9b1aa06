// PA2 hidden tests, Task 2.1 (fused softmax): other shapes than the public tests (stress
// sizes, rows and columns of length 1, long rows or dot products, extreme values). Same checks
// and tolerances as the public tests (pa2_kernels/tests/cpu/pa2_cpu_test_util.h); every check
// records its output for the grader.
#include "pa2_cpu_test_util.h"

namespace {
using pa2::test::check_softmax;
using pa2::test::Fill;
using pa2::test::uniform_fill;
namespace cpu = pa2::cpu;
constexpr float kInf = std::numeric_limits<float>::infinity();
}  // namespace

TEST(Task2_1_Hidden, RowsOfLength1_1000x1) {
  EXPECT_TRUE(check_softmax(cpu::softmax_forward, {1000, 1}, uniform_fill(1000, 1, 1, -50.f, 50.f)));
}
TEST(Task2_1_Hidden, OneLongRow_1x100003) {
  EXPECT_TRUE(check_softmax(cpu::softmax_forward, {1, 100003}, uniform_fill(1, 100003, 2, -8.f, 8.f)));
}
TEST(Task2_1_Hidden, HugeValues_1e4) {
  EXPECT_TRUE(check_softmax(cpu::softmax_forward, {8, 257}, uniform_fill(8, 257, 3, 1e4f, 1e4f + 50.f)));
}
TEST(Task2_1_Hidden, WideSpread_pm100) {
  EXPECT_TRUE(check_softmax(cpu::softmax_forward, {8, 257}, uniform_fill(8, 257, 4, -100.f, 100.f)));
}
TEST(Task2_1_Hidden, EqualEntries_Uniform) {
  Fill equal = [](int64_t r, int64_t) { return float(r) - 3.f; };
  EXPECT_TRUE(check_softmax(cpu::softmax_forward, {7, 1001}, equal));
}
TEST(Task2_1_Hidden, AllMaskedButOne_OneHot) {
  Fill one_hot = [](int64_t r, int64_t c) { return c == (r * 37) % 300 ? 2.5f : -kInf; };
  EXPECT_TRUE(check_softmax(cpu::softmax_forward, {11, 300}, one_hot));
}
TEST(Task2_1_Hidden, InPlacePadded_OddRows_10007x19) {
  EXPECT_TRUE(check_softmax(cpu::softmax_forward, {10007, 19, 5, true}, uniform_fill(10007, 19, 5, -4.f, 4.f)));
}
