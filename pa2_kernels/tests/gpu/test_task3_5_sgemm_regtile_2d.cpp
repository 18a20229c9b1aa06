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

// The contract's tiles: the transposed 8 x 128 tile of A and the 8 x 128 tile of B in static
// shared memory (8 KiB).
TEST(Task3_5_SgemmRegTile2D, KeepsTilesInSharedMemory) {
  MLSYS_SKIP_WITHOUT_GPU();
  expect_static_shared_at_least(reinterpret_cast<const void*>(&pa2::gpu::sgemm_regtile_2d_kernel),
                                "sgemm_regtile_2d_kernel", 2 * 8 * 128 * sizeof(float));
}

// The 8 x 8 accumulators of each thread live in registers: at least 64 per thread.
TEST(Task3_5_SgemmRegTile2D, KeepsAccumulatorsInRegisters) {
  MLSYS_SKIP_WITHOUT_GPU();
  expect_registers_at_least(reinterpret_cast<const void*>(&pa2::gpu::sgemm_regtile_2d_kernel),
                            "sgemm_regtile_2d_kernel", 64);
}
