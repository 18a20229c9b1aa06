// PA2 Task 3.5 — SGEMM with 2-D register tiling (src/cuda/sgemm_regtile_2d.cu).
// Checked against the CPU reference (pa2::gpu::ref::sgemm, double precision) within the fp32
// bound gamma_(K+2) * (|A| @ |B|) of gpu_test_util.h. Sizes: tiny, odd (not multiples of any
// tile), non-square, tile multiples.
#include "gpu_test_util.h"

using pa2::gpu::Sgemm;
using namespace pa2::gpu::test;

TEST(Task3_5_SgemmRegTile2D, TinySizes) {
  MLSYS_SKIP_WITHOUT_GPU();
  check_sgemm_sizes(Sgemm::RegTile2D, kTinyGemms);
}

TEST(Task3_5_SgemmRegTile2D, OddSizes) {
  MLSYS_SKIP_WITHOUT_GPU();
  check_sgemm_sizes(Sgemm::RegTile2D, kOddGemms);
}

TEST(Task3_5_SgemmRegTile2D, NonSquare) {
  MLSYS_SKIP_WITHOUT_GPU();
  check_sgemm_sizes(Sgemm::RegTile2D, kNonSquareGemms);
}

TEST(Task3_5_SgemmRegTile2D, TileMultiples) {
  MLSYS_SKIP_WITHOUT_GPU();
  check_sgemm_sizes(Sgemm::RegTile2D, kTileMultipleGemms);
}
