// PA2 GPU hidden tests, Tasks 3.1-3.6 and 6.1: SGEMM and the fused epilogue on shapes the
// public tests do not use (degenerate, very wide or tall, primes, larger), and stress sizes
// against cuBLAS. Bounds as in the public tests (gpu_test_util.h): gamma_(K+2) * (|A| @ |B|)
// against the double reference, 2.02 gamma_(K+1) * (|A| @ |B|) against cuBLAS (both results
// carry gamma_K), plus |bias| and one more addition for the epilogue.
#include "gpu_test_util.h"

using namespace pa2::gpu;
using namespace pa2::gpu::test;

namespace {

const std::vector<GemmSize> kHiddenShapes = {{1, 1000, 1}, {1000, 1, 3},   {3, 3, 1000},
                                             {513, 257, 129}, {96, 1000, 33}, {7, 11, 13},
                                             {65, 2049, 5}, {2, 70001, 3}};
const std::vector<GemmSize> kStressShapes = {{2048, 1536, 1024}, {4096, 8, 4096},
                                             {8, 4096, 4096}, {1000, 1000, 1000}};

// More rows than one launch's grid covers (65535 blocks of up to 128 rows along y): the entry
// splits the product into several launches over blocks of rows.
constexpr GemmSize kTallShape = {65535 * 128 + 257, 1, 2};

void hidden_sgemm(Sgemm kernel) {
  check_sgemm_sizes(kernel, kHiddenShapes, 900);
  check_sgemm(kernel, kTallShape, 940);
  uint64_t seed = 950;
  for (const GemmSize& s : kStressShapes) check_sgemm_vs_cublas(kernel, s, seed++);
}

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

TEST(Task3_1_Hidden, ShapesAndStress) {
  MLSYS_SKIP_WITHOUT_GPU();
  hidden_sgemm(Sgemm::Naive);
}
TEST(Task3_2_Hidden, ShapesAndStress) {
  MLSYS_SKIP_WITHOUT_GPU();
  hidden_sgemm(Sgemm::Coalesced);
}
TEST(Task3_3_Hidden, ShapesAndStress) {
  MLSYS_SKIP_WITHOUT_GPU();
  hidden_sgemm(Sgemm::SharedTiled);
}
TEST(Task3_4_Hidden, ShapesAndStress) {
  MLSYS_SKIP_WITHOUT_GPU();
  hidden_sgemm(Sgemm::RegTile1D);
}
TEST(Task3_5_Hidden, ShapesAndStress) {
  MLSYS_SKIP_WITHOUT_GPU();
  hidden_sgemm(Sgemm::RegTile2D);
}
TEST(Task3_6_Hidden, ShapesAndStress) {
  MLSYS_SKIP_WITHOUT_GPU();
  hidden_sgemm(Sgemm::Vectorized);
}

// Residues mod 4 of M, N, K together with sizes around the 128 x 128 tile.
TEST(Task3_6_Hidden, TileEdges) {
  MLSYS_SKIP_WITHOUT_GPU();
  uint64_t seed = 970;
  for (int M : {127, 128, 129})
    for (int N : {126, 127, 128, 129})
      check_sgemm(Sgemm::Vectorized, {M, N, 9 + M % 4}, seed++);
}

TEST(Task6_1_Hidden, ShapesAndStress) {
  MLSYS_SKIP_WITHOUT_GPU();
  uint64_t seed = 980;
  for (const GemmSize& s : {GemmSize{1, 1000, 1}, GemmSize{1000, 1, 3}, GemmSize{513, 257, 129},
                            GemmSize{96, 1000, 33}})
    check_epilogue_vs_cublas(s, seed++);
  check_epilogue_vs_cublas({1024, 1536, 768}, seed++);
  check_epilogue_vs_cublas({4096, 4096, 64}, seed++);
  check_epilogue_vs_cublas(kTallShape, seed++);
}
