// PA2 Task 4.4 — layernorm backward (src/cuda/layernorm_backward.cu): dx, dgamma, dbeta
// against the double reference pa2::gpu::ref::layernorm_backward (whose formulas
// test_gpu_entry.cpp checks against finite differences). The saved mean and rstd come from
// the CPU reference forward, so this test does not depend on Task 4.3.
//
// Bounds: dgamma[j] and dbeta[j] are sums over the rows, within gamma_(rows+4) times the sum
// of |terms| for ANY order (the + 4 covers xhat's roundings), computed elementwise below. dx
// combines two row sums (chains of length L <= 64 allowed, as in Task 4.3) with
// rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)):
// |d dx| <= gamma_64 * rstd * max|dxhat| * (2 + max|xhat|^2) + a few u * |dx|.
#include "gpu_test_util.h"

using namespace pa2::gpu;
using namespace pa2::gpu::test;

namespace {

constexpr const char* kBackwardHint =
    "check both row sums of dx (sum of dxhat and of dxhat * xhat, divided by cols), that dgamma "
    "and dbeta are written for every column (their memory is not zeroed for you), and the "
    "column-sum kernel's bounds when rows or cols are not multiples of the block shape";

void check_backward(int64_t rows, int64_t cols, uint64_t seed) {
  SCOPED_TRACE("rows " + std::to_string(rows) + " cols " + std::to_string(cols));
  const Tensor x = mlsys::randn({rows, cols}, seed, 0.5f, 2.0f);
  const Tensor dy = mlsys::randn({rows, cols}, seed + 1);
  const Tensor gamma = uniform({cols}, seed + 2, 0.5f, 1.5f), beta = uniform({cols}, seed + 3);
  const LayerNormForward fwd = ref::layernorm_forward(x, gamma, beta, 1e-5f);
  const LayerNormGrads got = layernorm_backward(dy.cuda(), x.cuda(), gamma.cuda(),
                                                fwd.mean.cuda(), fwd.rstd.cuda());
  const LayerNormGrads want = ref::layernorm_backward(dy, x, gamma, fwd.mean, fwd.rstd);

  // xhat = (x - mean) * rstd, from the reference forward.
  const Tensor xhat = (x - fwd.mean.reshape({rows, 1})) * fwd.rstd.reshape({rows, 1});
  const double max_rstd = mlsys::max(fwd.rstd).item();
  const double max_dxhat = mlsys::max(mlsys::abs(dy * gamma)).item();
  const double max_xhat = mlsys::max(mlsys::abs(xhat)).item();
  const double dx_atol = gamma_n(64) * max_rstd * max_dxhat * (2 + max_xhat * max_xhat) + 1e-6;
  EXPECT_TRUE(mlsys::test::allclose(got.dx, want.dx, 1e-5, dx_atol, kBackwardHint));

  const float g_rows = static_cast<float>(gamma_n(rows + 4.0));
  const Tensor dgamma_bound = mlsys::sum(mlsys::abs(dy * xhat), {0}) * g_rows + 1e-7f;
  const Tensor dbeta_bound = mlsys::sum(mlsys::abs(dy), {0}) * g_rows + 1e-7f;
  EXPECT_TRUE(within_bound(got.dgamma, want.dgamma, dgamma_bound, kBackwardHint));
  EXPECT_TRUE(within_bound(got.dbeta, want.dbeta, dbeta_bound, kBackwardHint));
}

}  // namespace

TEST(Task4_4_LayerNormBackward, SmallShapes) {
  MLSYS_SKIP_WITHOUT_GPU();
  check_backward(1, 1, 80);
  check_backward(4, 6, 81);
  check_backward(3, 33, 82);
}

TEST(Task4_4_LayerNormBackward, TransformerWidths) {
  MLSYS_SKIP_WITHOUT_GPU();
  check_backward(16, 768, 83);
  check_backward(64, 256, 84);
}

TEST(Task4_4_LayerNormBackward, OddShapes) {
  MLSYS_SKIP_WITHOUT_GPU();
  check_backward(33, 1001, 85);
  check_backward(2000, 3, 86);  // many rows, few columns: the column sums are long
  check_backward(9, 37, 87);
}
