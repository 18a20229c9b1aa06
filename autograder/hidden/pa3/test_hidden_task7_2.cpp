// PA3 Task 7.2, hidden: layouts of 6 and 8 ranks not in the public sweep, odd micro-batch counts,
// uneven layer splits, tied embeddings with TP and PP, one micro-batch. Fewer steps than the
// public sweep (the same checks: bit for bit at TP = 1, kTpTolerance otherwise).
#include "p3d_test_util.h"

namespace {

TEST(Task7_2_Hidden, SixRanksOddMicroBatches) {
  p3dtest::check_layouts(p3dtest::config(),
                         {{3, 2, 1, "1f1b", 3}, {1, 2, 3, "gpipe", 3}, {2, 1, 3, "1f1b", 3},
                          {3, 1, 2, "gpipe", 1}},
                         6, 18, 6);
}

TEST(Task7_2_Hidden, UnevenLayerSplits) {
  p3dtest::check_layouts(p3dtest::config(),
                         {{2, 1, 2, "1f1b", 5, {1, 3}}, {1, 2, 2, "gpipe", 5, {3, 1}},
                          {1, 1, 3, "1f1b", 5, {1, 1, 2}}},
                         5, 10, 6);
}

TEST(Task7_2_Hidden, TiedEmbeddingsInThreeDimensions) {
  p3dtest::check_layouts(p3dtest::config(true),
                         {{2, 2, 2, "1f1b", 2}, {2, 1, 4, "gpipe", 3}, {1, 4, 2, "1f1b", 3},
                          {4, 2, 1, "gpipe", 2}},
                         6, 24, 6);
}

}  // namespace
