// PA2 Task 6.1 — fused GEMM epilogue C = relu(A @ B + bias) (src/cuda/gemm_bias_relu.cu),
// against the double reference pa2::gpu::ref::gemm_bias_relu. relu is 1-Lipschitz, so the
// bound of the GEMM carries over: gamma_(K+3) * (|A| @ |B| + |bias|) elementwise (one more
// addition for the bias). Biases of both signs: relu clips about half of the outputs.
#include "gpu_test_util.h"

using namespace pa2::gpu;
using namespace pa2::gpu::test;

namespace {

void check_epilogue(const GemmSize& s, uint64_t seed) {
  SCOPED_TRACE(describe(s));
  const Tensor A = uniform({s.M, s.K}, seed), B = uniform({s.K, s.N}, seed + 1),
               bias = uniform({s.N}, seed + 2, -2, 2);
  const Tensor C = gemm_bias_relu(A.cuda(), B.cuda(), bias.cuda());
  const Tensor bound = gemm_bound_cpu(A, B, &bias) *
                       static_cast<float>(gamma_n(s.K + 3.0) / gamma_n(s.K + 2.0));
  EXPECT_TRUE(within_bound(C, ref::gemm_bias_relu(A, B, bias), bound,
                           std::string(kGemmHint) + "; the bias is indexed by the column, and "
                           "relu applies after the bias"));
}

}  // namespace

TEST(Task6_1_GemmBiasRelu, TinySizes) {
  MLSYS_SKIP_WITHOUT_GPU();
  uint64_t seed = 300;
  for (const GemmSize& s : kTinyGemms) check_epilogue(s, seed++);
}

TEST(Task6_1_GemmBiasRelu, OddSizes) {
  MLSYS_SKIP_WITHOUT_GPU();
  uint64_t seed = 310;
  for (const GemmSize& s : kOddGemms) check_epilogue(s, seed++);
  for (int K : {61, 62, 63})
    for (int N : {129, 130, 131}) check_epilogue({130, N, K}, seed++);
}

TEST(Task6_1_GemmBiasRelu, NonSquareAndTileMultiples) {
  MLSYS_SKIP_WITHOUT_GPU();
  uint64_t seed = 330;
  for (const GemmSize& s : kNonSquareGemms) check_epilogue(s, seed++);
  for (const GemmSize& s : kTileMultipleGemms) check_epilogue(s, seed++);
}
