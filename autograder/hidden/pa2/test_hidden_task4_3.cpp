// PA2 GPU hidden tests, Task 4.3 (layernorm forward): one case per family of shapes (large,
// one long row, many short rows with a large eps, a large offset, constant rows). Tolerances as
// in the public tests (gamma_64-based).
#include "gpu_test_util.h"

using namespace pa2::gpu;
using namespace pa2::gpu::test;

namespace {

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

}  // namespace

TEST(Task4_3_Hidden, Large) {
  MLSYS_SKIP_WITHOUT_GPU();
  check_layernorm(mlsys::randn({4096, 1024}, 420), 1e-5f, 421);
}

TEST(Task4_3_Hidden, OneLongRow) {
  MLSYS_SKIP_WITHOUT_GPU();
  check_layernorm(mlsys::randn({1, 20000}, 422, 0, 2), 1e-5f, 423);
}

TEST(Task4_3_Hidden, ManyShortRowsLargeEps) {
  MLSYS_SKIP_WITHOUT_GPU();
  check_layernorm(mlsys::randn({10000, 7}, 424), 1e-2f, 425);
}

TEST(Task4_3_Hidden, LargeOffset) {
  MLSYS_SKIP_WITHOUT_GPU();
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
