// PA2 hidden tests, Tasks 2.1 (softmax) and 2.2 (layernorm): rows of length 1, one very long
// row, extreme values, uniform and one-hot rows, constant rows, large offsets, odd row counts
// for the thread split. Same checks and tolerances as the public tests (pa2_cpu_test_util.h).
#include "pa2_cpu_test_util.h"

namespace {
using pa2::test::check_layernorm;
using pa2::test::check_softmax;
using pa2::test::Fill;
using pa2::test::LayernormOptions;
using pa2::test::RowsCase;
using pa2::test::uniform_fill;
namespace cpu = pa2::cpu;
constexpr float kInf = std::numeric_limits<float>::infinity();
}  // namespace

// ---- Task 2.1 ---------------------------------------------------------------------------------
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

// ---- Task 2.2 ---------------------------------------------------------------------------------
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
