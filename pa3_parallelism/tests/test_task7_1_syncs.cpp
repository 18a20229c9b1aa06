// PA3 Task 7.1 — the gradient syncs after the pipeline flush: the tied embedding copies (embed
// group) and ZeRO-1 over the DP group. Threads backend. The tests write gradients themselves
// (small multiples of 1/64, so every sum is exact in any order) and compare with sums and AdamW
// updates computed here element by element, and the bytes each rank sends with the ring
// formulas of comm.h.
#include "p3d_test_util.h"

namespace {

TEST(Task7_1_ZeroOne, TwoReplicasOneStage) { p3dtest::check_zero1({{2, 1, 1}, false}); }

TEST(Task7_1_ZeroOne, FourReplicasTwoStages) { p3dtest::check_zero1({{4, 1, 2}, false}); }

TEST(Task7_1_ZeroOne, ThreeReplicasPaddedBucketsTiedAndSharded) {
  // DP = 3: buckets padded to a multiple of 3; tied with PP = 2: the embedding copy is bucket 0
  // of stages 0 and 1; TP = 2: each rank updates its own shard.
  p3dtest::check_zero1({{3, 2, 2}, true});
}

TEST(Task7_1_TiedSync, FirstAndLastStageSumTheirCopies) { p3dtest::check_tied({1, 1, 2}, true); }

TEST(Task7_1_TiedSync, MiddleStagesAndShardsPerPipeline) {
  p3dtest::check_tied({1, 2, 3}, true);  // stage 1 untouched; each TP rank syncs its own vocab rows
}

TEST(Task7_1_TiedSync, UntiedOrOneStageIsANoOp) {
  p3dtest::check_tied({2, 1, 2}, false);
  p3dtest::check_tied({2, 2, 1}, true);
}

}  // namespace
