// PA2 Task 4.3 — layernorm forward (src/cuda/layernorm_forward.cu), against the double
// reference pa2::gpu::ref::layernorm_forward: y, and the saved mean and rstd.
//
// Bound: mean and var are sums of cols terms, within gamma_L * sum|terms| for a longest chain L
// (at most a few dozen for a block or warp tree; tests allow L = 64). An error dm in the mean
// moves y by dm * rstd * |gamma|; a relative error r in rstd moves it by r * |xhat * gamma|.
// So |dy| <= gamma_64 * max|gamma| * (max|x| * rstd + 2 max|xhat|) + a few u * |y|, computed
// from the data below (it is about 1e-5 for x ~ N(0, 1), 1e-3 for x ~ N(100, 1), where the
// two-pass variance matters: E[x^2] - mean^2 would be off by ~10%).
#include "gpu_test_util.h"

using namespace pa2::gpu;
using namespace pa2::gpu::test;

namespace {

constexpr const char* kLayerNormHint =
    "check the block sums (every thread must see the row's total), that the variance is "
    "computed as the mean of (x - mean)^2 (not E[x^2] - mean^2), the 1/cols (biased) variance, "
    "rows whose length is not a multiple of 4, and that mean/rstd are written once per row";

void check_layernorm(const Tensor& x, float eps, uint64_t seed) {
  SCOPED_TRACE("x " + mlsys::to_string(x.shape()) + " eps " + std::to_string(eps));
  const int64_t cols = x.size(-1);
  const Tensor gamma = uniform({cols}, seed, 0.5f, 1.5f), beta = uniform({cols}, seed + 1, -1, 1);
  const LayerNormForward got = layernorm_forward(x.cuda(), gamma.cuda(), beta.cuda(), eps);
  const LayerNormForward want = ref::layernorm_forward(x, gamma, beta, eps);

  const int64_t rows = x.numel() / cols;
  const Tensor x2 = x.reshape({rows, cols});
  const Tensor xhat = (x2 - want.mean.reshape({rows, 1})) * want.rstd.reshape({rows, 1});
  const double max_x = mlsys::max(mlsys::abs(x)).item();
  const double max_rstd = mlsys::max(want.rstd).item();
  const double max_xhat = mlsys::max(mlsys::abs(xhat)).item();
  const double atol = gamma_n(64) * 1.5 * (max_x * max_rstd + 2 * max_xhat) + 1e-6;
  EXPECT_TRUE(mlsys::test::allclose(got.y, want.y, 1e-5, atol, kLayerNormHint));
  EXPECT_TRUE(mlsys::test::allclose(got.mean, want.mean, 1e-5, gamma_n(64) * max_x + 1e-7,
                                    kLayerNormHint));
  EXPECT_TRUE(mlsys::test::allclose(got.rstd, want.rstd, 2 * gamma_n(64) + 1e-6, 0,
                                    kLayerNormHint));
}

}  // namespace

TEST(Task4_3_LayerNormForward, SmallRows) {
  MLSYS_SKIP_WITHOUT_GPU();
  check_layernorm(mlsys::randn({1, 1}, 60), 1e-5f, 61);  // var 0: y = beta
  check_layernorm(mlsys::randn({3, 5}, 62), 1e-5f, 63);
  check_layernorm(mlsys::randn({7, 31}, 64), 1e-5f, 65);
}

TEST(Task4_3_LayerNormForward, TransformerWidths) {
  MLSYS_SKIP_WITHOUT_GPU();
  check_layernorm(mlsys::randn({16, 768}, 66), 1e-5f, 67);
  check_layernorm(mlsys::randn({2, 3, 64}, 68), 1e-5f, 69);
  check_layernorm(mlsys::randn({4, 1024}, 70, 0, 3), 1e-5f, 71);
}

TEST(Task4_3_LayerNormForward, OddWidths) {
  MLSYS_SKIP_WITHOUT_GPU();
  check_layernorm(mlsys::randn({7, 1001}, 72), 1e-5f, 73);
  check_layernorm(mlsys::randn({3, 4999}, 74), 1e-2f, 75);
}

// mean 100, std 1: the one-pass formula E[x^2] - mean^2 loses most of its digits here.
TEST(Task4_3_LayerNormForward, LargeMeanNeedsTwoPasses) {
  MLSYS_SKIP_WITHOUT_GPU();
  check_layernorm(mlsys::randn({8, 768}, 76, 100.0f, 1.0f), 1e-5f, 77);
}
