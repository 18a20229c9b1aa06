// PA2 Task 5.1 — fused attention forward (src/cuda/attention.cu), against the double CPU
// reference pa2::gpu::ref::attention_forward and, for longer sequences, the staff naive GPU
// kernel pa2::gpu::attention_naive (which materializes the T x T scores). d = 64 always; T is
// anything, causal and not. The per-row error bound is derived in gpu_test_util.h
// (attention_bound): score errors of gamma_65 * max|s| and sums over T keys.
#include "gpu_test_util.h"

using namespace pa2::gpu;
using namespace pa2::gpu::test;

// T = 1: softmax over one key is 1, so o = v exactly (up to rounding).
TEST(Task5_1_Attention, SingleKey) {
  MLSYS_SKIP_WITHOUT_GPU();
  check_attention(1, 1, 1, false, 200);
  check_attention(1, 1, 1, true, 201);
  check_attention(2, 3, 1, false, 202);
}

TEST(Task5_1_Attention, ShortSequences) {
  MLSYS_SKIP_WITHOUT_GPU();
  for (bool causal : {false, true}) {
    check_attention(1, 1, 7, causal, 210);
    check_attention(1, 2, 31, causal, 211);
    check_attention(1, 1, 33, causal, 212);
  }
}

// Exactly one, and more than one, tile of 64 queries / 32 keys, and ragged last tiles.
TEST(Task5_1_Attention, TileBoundaries) {
  MLSYS_SKIP_WITHOUT_GPU();
  for (bool causal : {false, true}) {
    check_attention(1, 2, 64, causal, 220);
    check_attention(2, 3, 100, causal, 221);
    check_attention(1, 1, 257, causal, 222);
  }
}

TEST(Task5_1_Attention, ManyHeads) {
  MLSYS_SKIP_WITHOUT_GPU();
  check_attention(2, 8, 96, true, 230);
  check_attention(4, 4, 65, false, 231);
}

// Scores of magnitude ~50: exp overflows unless the running max is subtracted, and the max
// changes between tiles, which exercises the rescaling of l and of the accumulators.
TEST(Task5_1_Attention, LargeScores) {
  MLSYS_SKIP_WITHOUT_GPU();
  check_attention(1, 2, 150, false, 240, 7.0f);
  check_attention(1, 2, 150, true, 241, 7.0f);
}

TEST(Task5_1_Attention, LongSequenceVsNaive) {
  MLSYS_SKIP_WITHOUT_GPU();
  check_attention_vs_naive(1, 2, 1100, false, 250);
  check_attention_vs_naive(1, 2, 1100, true, 251);
}
