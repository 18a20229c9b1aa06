// PA2 Task 2.1 public tests: softmax_forward (pa2_kernels/src/cpu/softmax.cpp) against a
// double-precision softmax of the same inputs. Tolerances: pa2_cpu_test_util.h.
#include "pa2_cpu_test_util.h"

namespace {
using pa2::test::Fill;
using pa2::test::RowsCase;

::testing::AssertionResult softmax(RowsCase c, float lo = -5.f, float hi = 5.f, uint64_t seed = 3) {
  return pa2::test::check_softmax(pa2::cpu::softmax_forward, c,
                                  pa2::test::uniform_fill(c.rows, c.cols, seed, lo, hi));
}
}  // namespace

TEST(Task2_1_Softmax, Tiny_1x1) { EXPECT_TRUE(softmax({1, 1})); }
TEST(Task2_1_Softmax, SingleRow_1x7) { EXPECT_TRUE(softmax({1, 7})); }
TEST(Task2_1_Softmax, ColumnOfOnes_7x1) { EXPECT_TRUE(softmax({7, 1})); }
TEST(Task2_1_Softmax, Odd_33x97) { EXPECT_TRUE(softmax({33, 97})); }
TEST(Task2_1_Softmax, LongRows_5x1000) { EXPECT_TRUE(softmax({5, 1000})); }
TEST(Task2_1_Softmax, Large_64x4096) { EXPECT_TRUE(softmax({64, 4096})); }
TEST(Task2_1_Softmax, ManyRows_2000x37) { EXPECT_TRUE(softmax({2000, 37})); }
TEST(Task2_1_Softmax, PaddedRows_20x50) { EXPECT_TRUE(softmax({20, 50, 7})); }
TEST(Task2_1_Softmax, InPlace_30x130) { EXPECT_TRUE(softmax({30, 130, 0, true})); }
TEST(Task2_1_Softmax, InPlacePadded_9x77) { EXPECT_TRUE(softmax({9, 77, 3, true})); }
// exp(1000) overflows float: only a max-subtracted softmax survives these.
TEST(Task2_1_Softmax, LargeValues_Stable) { EXPECT_TRUE(softmax({16, 300}, 1000.f, 1010.f)); }
TEST(Task2_1_Softmax, VeryNegative_Stable) { EXPECT_TRUE(softmax({16, 300}, -1010.f, -1000.f)); }
TEST(Task2_1_Softmax, MaskedNegInf) {
  // Every third entry is masked (-inf), as in causal attention; column 0 never is.
  RowsCase c{12, 200};
  Fill u = pa2::test::uniform_fill(c.rows, c.cols, 5, -3.f, 3.f);
  Fill masked = [u](int64_t r, int64_t k) {
    return (k % 3 == 2) ? -std::numeric_limits<float>::infinity() : u(r, k);
  };
  EXPECT_TRUE(pa2::test::check_softmax(pa2::cpu::softmax_forward, c, masked));
}
