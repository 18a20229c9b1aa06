// PA2 GPU hidden tests, Tasks 4.1-4.4: reduction, softmax and layernorm on other shapes and
// stress sizes. Bounds as in the public tests of each task (see their headers): 1e-5 sum|x|
// for the reduction, rtol 2e-5 / atol 1e-7 for softmax, the gamma_64-based tolerances of
// layernorm forward, gamma_(rows+4) for the column sums of the backward pass.
#include "gpu_test_util.h"

using namespace pa2::gpu;
using namespace pa2::gpu::test;

namespace {

void check_sum(const Tensor& x) {
  SCOPED_TRACE("x " + mlsys::to_string(x.shape()));
  const double sum_abs = mlsys::sum(mlsys::abs(x)).item();
  EXPECT_TRUE(within_bound(reduce_sum(x.cuda()), ref::reduce_sum(x),
                           filled({}, 1e-5 * sum_abs + 1e-6), "check the tails and the passes"));
}

void check_softmax(const Tensor& x) {
  SCOPED_TRACE("x " + mlsys::to_string(x.shape()));
  EXPECT_TRUE(mlsys::test::allclose(softmax_rows(x.cuda()), ref::softmax_rows(x), 2e-5, 1e-7));
}

void check_layernorm(const Tensor& x, float eps, uint64_t seed) {
  SCOPED_TRACE("x " + mlsys::to_string(x.shape()));
  const int64_t cols = x.size(-1), rows = x.numel() / cols;
  const Tensor gamma = uniform({cols}, seed, 0.5f, 1.5f), beta = uniform({cols}, seed + 1);
  const LayerNormForward got = layernorm_forward(x.cuda(), gamma.cuda(), beta.cuda(), eps);
  const LayerNormForward want = ref::layernorm_forward(x, gamma, beta, eps);
  const Tensor xhat =
      (x.reshape({rows, cols}) - want.mean.reshape({rows, 1})) * want.rstd.reshape({rows, 1});
  const double max_x = mlsys::max(mlsys::abs(x)).item(), max_rstd = mlsys::max(want.rstd).item(),
               max_xhat = mlsys::max(mlsys::abs(xhat)).item();
  const double atol = gamma_n(64) * 1.5 * (max_x * max_rstd + 2 * max_xhat) + 1e-6;
  EXPECT_TRUE(mlsys::test::allclose(got.y, want.y, 1e-5, atol));
  EXPECT_TRUE(mlsys::test::allclose(got.rstd, want.rstd, 2 * gamma_n(64) + 1e-6, 0));
}

void check_backward(int64_t rows, int64_t cols, uint64_t seed) {
  SCOPED_TRACE("rows " + std::to_string(rows) + " cols " + std::to_string(cols));
  const Tensor x = mlsys::randn({rows, cols}, seed, -1.0f, 3.0f);
  const Tensor dy = mlsys::randn({rows, cols}, seed + 1);
  const Tensor gamma = uniform({cols}, seed + 2, 0.5f, 1.5f), beta = uniform({cols}, seed + 3);
  const LayerNormForward fwd = ref::layernorm_forward(x, gamma, beta, 1e-5f);
  const LayerNormGrads got = layernorm_backward(dy.cuda(), x.cuda(), gamma.cuda(),
                                                fwd.mean.cuda(), fwd.rstd.cuda());
  const LayerNormGrads want = ref::layernorm_backward(dy, x, gamma, fwd.mean, fwd.rstd);
  const Tensor xhat = (x - fwd.mean.reshape({rows, 1})) * fwd.rstd.reshape({rows, 1});
  const double max_rstd = mlsys::max(fwd.rstd).item();
  const double max_dxhat = mlsys::max(mlsys::abs(dy * gamma)).item();
  const double max_xhat = mlsys::max(mlsys::abs(xhat)).item();
  EXPECT_TRUE(mlsys::test::allclose(
      got.dx, want.dx, 1e-5, gamma_n(64) * max_rstd * max_dxhat * (2 + max_xhat * max_xhat) + 1e-6));
  const float g_rows = static_cast<float>(gamma_n(rows + 4.0));
  EXPECT_TRUE(within_bound(got.dgamma, want.dgamma,
                           mlsys::sum(mlsys::abs(dy * xhat), {0}) * g_rows + 1e-7f, "dgamma"));
  EXPECT_TRUE(within_bound(got.dbeta, want.dbeta, mlsys::sum(mlsys::abs(dy), {0}) * g_rows + 1e-7f,
                           "dbeta"));
}

}  // namespace

TEST(Task4_1_Hidden, StressAndShapes) {
  MLSYS_SKIP_WITHOUT_GPU();
  check_sum(uniform({(1 << 24) + 3}, 400));
  check_sum(uniform({1 << 20}, 401, -3.0f, -1.0f));  // all negative
  check_sum(uniform({3, 5, 7, 11}, 402));
  check_sum(uniform({1}, 403));
}

// 2^24 ones: every partial sum is an integer <= 2^24, exact in float32 in any order.
TEST(Task4_1_Hidden, OnesExactAt2To24) {
  MLSYS_SKIP_WITHOUT_GPU();
  const Tensor ones = mlsys::ones({1 << 24}, mlsys::DType::Float32, mlsys::Device::CUDA);
  const float got = reduce_sum(ones).item();
  mlsys::test::record_value("sum", got);  // exact, like the check
  EXPECT_EQ(got, 16777216.0f);
}

TEST(Task4_2_Hidden, StressAndShapes) {
  MLSYS_SKIP_WITHOUT_GPU();
  check_softmax(uniform({1, 100000}, 410, -8, 8));
  check_softmax(uniform({10000, 3}, 411, -8, 8));
  check_softmax(uniform({4096, 4096}, 412, -8, 8));
  check_softmax(mlsys::randn({2, 5000}, 413, 0, 50));
}

// Increasing rows: the running max changes at every element, so every step rescales the sum.
TEST(Task4_2_Hidden, IncreasingRowsRescaleEveryStep) {
  MLSYS_SKIP_WITHOUT_GPU();
  const Tensor ramp = mlsys::arange(0, 3000).reshape({1, 3000}) * 0.01f;
  check_softmax(ramp.expand({4, 3000}).contiguous());
  check_softmax(mlsys::neg(ramp).contiguous());
}

TEST(Task4_3_Hidden, StressAndShapes) {
  MLSYS_SKIP_WITHOUT_GPU();
  check_layernorm(mlsys::randn({4096, 1024}, 420), 1e-5f, 421);
  check_layernorm(mlsys::randn({1, 20000}, 422, 0, 2), 1e-5f, 423);
  check_layernorm(mlsys::randn({10000, 7}, 424), 1e-2f, 425);
  check_layernorm(mlsys::randn({16, 64}, 426, 1000.0f, 1.0f), 1e-5f, 427);
}

// Constant rows have variance 0: y = beta exactly (x - mean is exactly 0).
TEST(Task4_3_Hidden, ConstantRows) {
  MLSYS_SKIP_WITHOUT_GPU();
  const Tensor x = mlsys::full({5, 333}, 3.25f);
  const Tensor gamma = uniform({333}, 428), beta = uniform({333}, 429);
  const LayerNormForward got = layernorm_forward(x.cuda(), gamma.cuda(), beta.cuda(), 1e-5f);
  EXPECT_TRUE(mlsys::test::allclose(got.y, beta.expand({5, 333}), 0, 1e-6));
}

TEST(Task4_4_Hidden, StressAndShapes) {
  MLSYS_SKIP_WITHOUT_GPU();
  check_backward(4096, 768, 430);
  check_backward(1, 5000, 431);
  check_backward(777, 129, 432);
  check_backward(5000, 1, 433);  // one column: xhat = 0, dx = 0
}
