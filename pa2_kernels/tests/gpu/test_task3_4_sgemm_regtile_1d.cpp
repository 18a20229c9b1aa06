// PA2 Task 3.4 — SGEMM with 1-D register tiling (src/cuda/sgemm_regtile_1d.cu).
// Checked against the CPU reference (pa2::gpu::ref::sgemm, double precision) within the fp32
// bound gamma_(K+2) * (|A| @ |B|) of gpu_test_util.h. Sizes: tiny, odd (not multiples of any
// tile), non-square, tile multiples.
#include "gpu_test_util.h"

using pa2::gpu::Sgemm;
using namespace pa2::gpu::test;

TEST(Task3_4_SgemmRegTile1D, TinySizes) {
  MLSYS_SKIP_WITHOUT_GPU();
  check_sgemm_sizes(Sgemm::RegTile1D, kTinyGemms);
}

TEST(Task3_4_SgemmRegTile1D, OddSizes) {
  MLSYS_SKIP_WITHOUT_GPU();
  check_sgemm_sizes(Sgemm::RegTile1D, kOddGemms);
}

TEST(Task3_4_SgemmRegTile1D, NonSquare) {
  MLSYS_SKIP_WITHOUT_GPU();
  check_sgemm_sizes(Sgemm::RegTile1D, kNonSquareGemms);
}

TEST(Task3_4_SgemmRegTile1D, TileMultiples) {
  MLSYS_SKIP_WITHOUT_GPU();
  check_sgemm_sizes(Sgemm::RegTile1D, kTileMultipleGemms);
}

// The contract's tiles: the 64 x 8 tile of A and the 8 x 64 tile of B in static shared memory
// (4 KiB).
TEST(Task3_4_SgemmRegTile1D, KeepsTilesInSharedMemory) {
  MLSYS_SKIP_WITHOUT_GPU();
  expect_static_shared_at_least(reinterpret_cast<const void*>(&pa2::gpu::sgemm_regtile_1d_kernel),
                                "sgemm_regtile_1d_kernel", 2 * 64 * 8 * sizeof(float));
}
