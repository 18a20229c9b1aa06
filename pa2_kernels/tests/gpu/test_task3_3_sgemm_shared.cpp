// PA2 Task 3.3 — SGEMM with shared-memory tiles (src/cuda/sgemm_shared.cu).
// Checked against the CPU reference (pa2::gpu::ref::sgemm, double precision) within the fp32
// bound gamma_(K+2) * (|A| @ |B|) of gpu_test_util.h. Sizes: tiny, odd (not multiples of any
// tile), non-square, tile multiples.
#include "gpu_test_util.h"

using pa2::gpu::Sgemm;
using namespace pa2::gpu::test;

TEST(Task3_3_SgemmShared, TinySizes) {
  MLSYS_SKIP_WITHOUT_GPU();
  check_sgemm_sizes(Sgemm::SharedTiled, kTinyGemms);
}

TEST(Task3_3_SgemmShared, OddSizes) {
  MLSYS_SKIP_WITHOUT_GPU();
  check_sgemm_sizes(Sgemm::SharedTiled, kOddGemms);
}

TEST(Task3_3_SgemmShared, NonSquare) {
  MLSYS_SKIP_WITHOUT_GPU();
  check_sgemm_sizes(Sgemm::SharedTiled, kNonSquareGemms);
}

TEST(Task3_3_SgemmShared, TileMultiples) {
  MLSYS_SKIP_WITHOUT_GPU();
  check_sgemm_sizes(Sgemm::SharedTiled, kTileMultipleGemms);
}

// The contract's tiles: two 32 x 32 float tiles in static shared memory (8 KiB). A kernel
// without them (Task 3.2's, resubmitted) fails here whatever its results.
TEST(Task3_3_SgemmShared, KeepsTilesInSharedMemory) {
  MLSYS_SKIP_WITHOUT_GPU();
  expect_static_shared_at_least(reinterpret_cast<const void*>(&pa2::gpu::sgemm_shared_kernel),
                                "sgemm_shared_kernel", 2 * 32 * 32 * sizeof(float));
}
