// PA2 Task 3.2 — SGEMM with coalesced accesses (src/cuda/sgemm_coalesced.cu).
// Checked against the CPU reference (pa2::gpu::ref::sgemm, double precision) within the fp32
// bound gamma_(K+2) * (|A| @ |B|) of gpu_test_util.h. Sizes: tiny, odd (not multiples of any
// tile), non-square, tile multiples.
#include "gpu_test_util.h"

using pa2::gpu::Sgemm;
using namespace pa2::gpu::test;

TEST(Task3_2_SgemmCoalesced, TinySizes) {
  MLSYS_SKIP_WITHOUT_GPU();
  check_sgemm_sizes(Sgemm::Coalesced, kTinyGemms);
}

TEST(Task3_2_SgemmCoalesced, OddSizes) {
  MLSYS_SKIP_WITHOUT_GPU();
  check_sgemm_sizes(Sgemm::Coalesced, kOddGemms);
}

TEST(Task3_2_SgemmCoalesced, NonSquare) {
  MLSYS_SKIP_WITHOUT_GPU();
  check_sgemm_sizes(Sgemm::Coalesced, kNonSquareGemms);
}

TEST(Task3_2_SgemmCoalesced, TileMultiples) {
  MLSYS_SKIP_WITHOUT_GPU();
  check_sgemm_sizes(Sgemm::Coalesced, kTileMultipleGemms);
}
