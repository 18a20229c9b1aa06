// PA2 GPU hidden tests, Task 6.1 (fused GEMM + bias + relu): one case per shape family (small
// and degenerate, large, tall over several launches), against cuBLAS + relu. Bound:
// 2.02 gamma_(K+2) * (|A| @ |B| + |bias|) (one more addition than the GEMM).
#include "hidden_sgemm.h"

using namespace pa2::gpu;
using namespace pa2::gpu::test;

namespace {

void check_epilogue_vs_cublas(const GemmSize& s, uint64_t seed) {
  SCOPED_TRACE("vs cuBLAS + relu, " + describe(s));
  const Tensor A = mlsys::rand({s.M, s.K}, seed, -1.0f, 1.0f, mlsys::Device::CUDA),
               B = mlsys::rand({s.K, s.N}, seed + 1, -1.0f, 1.0f, mlsys::Device::CUDA),
               bias = mlsys::rand({s.N}, seed + 2, -2.0f, 2.0f, mlsys::Device::CUDA);
  const Tensor C = gemm_bias_relu(A, B, bias);
  const Tensor expected = mlsys::relu(mlsys::matmul(A, B) + bias);
  const Tensor bound = (mlsys::matmul(mlsys::abs(A), mlsys::abs(B)) + mlsys::abs(bias)) *
                       static_cast<float>(2.02 * gamma_n(s.K + 2.0));
  EXPECT_TRUE(within_bound(C, expected, bound, kGemmHint));
}

}  // namespace

TEST(Task6_1_Hidden, SmallAndDegenerateShapes) {
  MLSYS_SKIP_WITHOUT_GPU();
  uint64_t seed = 980;
  for (const GemmSize& s : {GemmSize{1, 1000, 1}, GemmSize{1000, 1, 3}, GemmSize{513, 257, 129},
                            GemmSize{96, 1000, 33}})
    check_epilogue_vs_cublas(s, seed++);
}

TEST(Task6_1_Hidden, Large) {
  MLSYS_SKIP_WITHOUT_GPU();
  check_epilogue_vs_cublas({1024, 1536, 768}, 990);
  check_epilogue_vs_cublas({4096, 4096, 64}, 991);
}

TEST(Task6_1_Hidden, TallSplitOverLaunches) {
  MLSYS_SKIP_WITHOUT_GPU();
  check_epilogue_vs_cublas(pa2::gpu::hidden::kTallShape, 992);
}
