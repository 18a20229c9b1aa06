// PA2 Task 3.6 — SGEMM with float4 accesses (src/cuda/sgemm_vectorized.cu).
// Checked against the CPU reference (pa2::gpu::ref::sgemm, double precision) within the fp32
// bound gamma_(K+2) * (|A| @ |B|) of gpu_test_util.h. Sizes: tiny, odd (not multiples of any
// tile), non-square, tile multiples,
// every residue of K and N mod 4 (the entry's rejection of misaligned views is staff code,
// tested in test_gpu_entry.cpp).
#include "gpu_test_util.h"

using pa2::gpu::Sgemm;
using namespace pa2::gpu::test;

TEST(Task3_6_SgemmVectorized, TinySizes) {
  MLSYS_SKIP_WITHOUT_GPU();
  check_sgemm_sizes(Sgemm::Vectorized, kTinyGemms);
}

TEST(Task3_6_SgemmVectorized, OddSizes) {
  MLSYS_SKIP_WITHOUT_GPU();
  check_sgemm_sizes(Sgemm::Vectorized, kOddGemms);
}

TEST(Task3_6_SgemmVectorized, NonSquare) {
  MLSYS_SKIP_WITHOUT_GPU();
  check_sgemm_sizes(Sgemm::Vectorized, kNonSquareGemms);
}

TEST(Task3_6_SgemmVectorized, TileMultiples) {
  MLSYS_SKIP_WITHOUT_GPU();
  check_sgemm_sizes(Sgemm::Vectorized, kTileMultipleGemms);
}

// Every residue of K and N mod 4: the float4 paths are legal only for K % 4 == 0 (rows of A)
// and N % 4 == 0 (rows of B and C); the others must fall back to scalar accesses.
TEST(Task3_6_SgemmVectorized, AllResiduesMod4) {
  MLSYS_SKIP_WITHOUT_GPU();
  uint64_t seed = 600;
  for (int K : {60, 61, 62, 63})
    for (int N : {128, 129, 130, 131}) check_sgemm(Sgemm::Vectorized, {130, N, K}, seed++);
}

