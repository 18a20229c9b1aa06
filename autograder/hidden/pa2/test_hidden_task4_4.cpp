// PA2 GPU hidden tests, Task 4.4 (layernorm backward): one case per family of shapes (large,
// one long row, odd sizes, one column). Tolerances as in the public tests: gamma_64-based for dx,
// gamma_(rows+4) for the column sums dgamma and dbeta.
#include "gpu_test_util.h"

using namespace pa2::gpu;
using namespace pa2::gpu::test;

namespace {

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

TEST(Task4_4_Hidden, Large) {
  MLSYS_SKIP_WITHOUT_GPU();
  check_backward(4096, 768, 430);
}

TEST(Task4_4_Hidden, OneLongRow) {
  MLSYS_SKIP_WITHOUT_GPU();
  check_backward(1, 5000, 431);
}

TEST(Task4_4_Hidden, OddSizes) {
  MLSYS_SKIP_WITHOUT_GPU();
  check_backward(777, 129, 432);
}

// One column: xhat = 0, so dx = 0.
TEST(Task4_4_Hidden, OneColumn) {
  MLSYS_SKIP_WITHOUT_GPU();
  check_backward(5000, 1, 433);
}
