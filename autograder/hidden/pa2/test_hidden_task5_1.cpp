// PA2 GPU hidden tests, Task 5.1: fused attention on other sequence lengths (around the 32-key
// and 64-query tiles), many heads, large scores, long sequences against the naive kernel, and a
// closed form. Bounds: attention_bound of gpu_test_util.h (doubled against the naive kernel).
#include "gpu_test_util.h"

using namespace pa2::gpu;
using namespace pa2::gpu::test;

TEST(Task5_1_Hidden, TileEdgeLengths) {
  MLSYS_SKIP_WITHOUT_GPU();
  uint64_t seed = 500;
  for (int64_t T : {31, 32, 63, 65, 127, 129})
    for (bool causal : {false, true}) check_attention(1, 2, T, causal, seed++);
}

TEST(Task5_1_Hidden, ManyHeadsAndLargeScores) {
  MLSYS_SKIP_WITHOUT_GPU();
  check_attention(5, 8, 70, true, 520);
  check_attention(1, 1, 200, false, 521, 10.0f);
  check_attention(1, 1, 200, true, 522, 10.0f);
}

TEST(Task5_1_Hidden, LongSequencesVsNaive) {
  MLSYS_SKIP_WITHOUT_GPU();
  check_attention_vs_naive(1, 4, 2048, true, 530);
  check_attention_vs_naive(1, 4, 2048, false, 531);
  check_attention_vs_naive(1, 1, 4097, true, 532);
}

// q = 0 makes every score 0: each query averages the values it can see. Causal:
// o[i] = mean(v[0..i]); full: o[i] = mean(v[0..T-1]).
TEST(Task5_1_Hidden, ZeroQueriesAverageValues) {
  MLSYS_SKIP_WITHOUT_GPU();
  const int64_t T = 300;
  const Tensor v = mlsys::randn({1, 1, T, kHeadDim}, 540);
  const Tensor zeros = mlsys::zeros({1, 1, T, kHeadDim});
  const Tensor k = mlsys::randn({1, 1, T, kHeadDim}, 541);
  std::vector<float> expect_causal(T * kHeadDim), expect_full(T * kHeadDim);
  const std::vector<double> vv = v.to_vector<double>();
  std::vector<double> running(kHeadDim, 0.0), total(kHeadDim, 0.0);
  for (int64_t i = 0; i < T; ++i)
    for (int64_t c = 0; c < kHeadDim; ++c) total[c] += vv[i * kHeadDim + c];
  for (int64_t i = 0; i < T; ++i)
    for (int64_t c = 0; c < kHeadDim; ++c) {
      running[c] += vv[i * kHeadDim + c];
      expect_causal[i * kHeadDim + c] = static_cast<float>(running[c] / (i + 1));
      expect_full[i * kHeadDim + c] = static_cast<float>(total[c] / T);
    }
  // Every p is exactly 1/visible up to the rounding of the sums: gamma_(2T + 72) * max|v|.
  const double tol = gamma_n(2.0 * T + 72) * mlsys::max(mlsys::abs(v)).item();
  const Shape shape{1, 1, T, kHeadDim};
  EXPECT_TRUE(mlsys::test::allclose(attention_forward(zeros.cuda(), k.cuda(), v.cuda(), true),
                                    mlsys::from_vector<float>(expect_causal, shape), 0, tol));
  EXPECT_TRUE(mlsys::test::allclose(attention_forward(zeros.cuda(), k.cuda(), v.cuda(), false),
                                    mlsys::from_vector<float>(expect_full, shape), 0, tol));
}
