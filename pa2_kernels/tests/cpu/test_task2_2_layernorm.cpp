// PA2 Task 2.2 public tests: layernorm_forward (pa2_kernels/src/cpu/layernorm.cpp) against a
// double-precision two-pass layernorm, checking y and the saved mean / rstd. Tolerances:
// pa2_cpu_test_util.h.
#include "pa2_cpu_test_util.h"

namespace {
using pa2::test::Fill;
using pa2::test::LayernormOptions;
using pa2::test::RowsCase;

::testing::AssertionResult layernorm(RowsCase c, LayernormOptions o = {}, float lo = -2.f,
                                     float hi = 2.f) {
  return pa2::test::check_layernorm(pa2::cpu::layernorm_forward, c,
                                    pa2::test::uniform_fill(c.rows, c.cols, 17, lo, hi), o);
}
}  // namespace

TEST(Task2_2_Layernorm, Tiny_1x1) { EXPECT_TRUE(layernorm({1, 1})); }
TEST(Task2_2_Layernorm, SingleColumn_7x1) { EXPECT_TRUE(layernorm({7, 1})); }
TEST(Task2_2_Layernorm, Small_4x10) { EXPECT_TRUE(layernorm({4, 10})); }
TEST(Task2_2_Layernorm, Odd_33x97) { EXPECT_TRUE(layernorm({33, 97})); }
TEST(Task2_2_Layernorm, Large_64x4096) { EXPECT_TRUE(layernorm({64, 4096})); }
TEST(Task2_2_Layernorm, ManyRows_2000x37) { EXPECT_TRUE(layernorm({2000, 37})); }
TEST(Task2_2_Layernorm, PaddedRows_20x50) { EXPECT_TRUE(layernorm({20, 50, 7})); }
TEST(Task2_2_Layernorm, InPlace_30x130) { EXPECT_TRUE(layernorm({30, 130, 0, true})); }
TEST(Task2_2_Layernorm, NoStats_NullMeanRstd) {
  LayernormOptions o;
  o.stats = false;
  EXPECT_TRUE(layernorm({10, 64}, o));
}
TEST(Task2_2_Layernorm, LargerEps) {
  LayernormOptions o;
  o.eps = 0.1f;
  EXPECT_TRUE(layernorm({10, 64}, o, -0.3f, 0.3f));  // var ~ eps: eps visibly matters
}
TEST(Task2_2_Layernorm, ConstantRows_GiveBeta) {
  // var = 0: rstd = 1/sqrt(eps) and y = beta exactly (x - mu = 0).
  RowsCase c{6, 100};
  Fill constant = [](int64_t r, int64_t) { return float(r) * 1.75f - 3.f; };
  EXPECT_TRUE(pa2::test::check_layernorm(pa2::cpu::layernorm_forward, c, constant));
}
TEST(Task2_2_Layernorm, LargeOffset_1000) {
  // mu ~ 1000, std ~ 0.6: a float sum of squares loses most of the variance here.
  EXPECT_TRUE(layernorm({16, 768}, {}, 999.f, 1001.f));
}
