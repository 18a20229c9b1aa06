// PA2 Task 3.1 — naive SGEMM, one thread per element of C (src/cuda/sgemm_naive.cu).
// Checked against the CPU reference (pa2::gpu::ref::sgemm, double precision) within the fp32
// bound gamma_(K+2) * (|A| @ |B|) of gpu_test_util.h. Sizes: tiny, odd (not multiples of any
// tile), non-square, tile multiples.
#include "gpu_test_util.h"

using pa2::gpu::Sgemm;
using namespace pa2::gpu::test;

TEST(Task3_1_SgemmNaive, TinySizes) {
  MLSYS_SKIP_WITHOUT_GPU();
  check_sgemm_sizes(Sgemm::Naive, kTinyGemms);
}

TEST(Task3_1_SgemmNaive, OddSizes) {
  MLSYS_SKIP_WITHOUT_GPU();
  check_sgemm_sizes(Sgemm::Naive, kOddGemms);
}

TEST(Task3_1_SgemmNaive, NonSquare) {
  MLSYS_SKIP_WITHOUT_GPU();
  check_sgemm_sizes(Sgemm::Naive, kNonSquareGemms);
}

TEST(Task3_1_SgemmNaive, TileMultiples) {
  MLSYS_SKIP_WITHOUT_GPU();
  check_sgemm_sizes(Sgemm::Naive, kTileMultipleGemms);
}
