// PA3 Task 7.1, hidden: ZeRO-1 and the tied-copy sync on other grids (DP = 5 and 7 with padding,
// a middle stage between the tied copies, TP = 4 shards of the copies).
#include "p3d_test_util.h"

namespace {

TEST(Task7_1_Hidden, FiveReplicasPadEveryBucket) { p3dtest::check_zero1({{5, 1, 1}, false}); }

TEST(Task7_1_Hidden, SevenReplicasTied) { p3dtest::check_zero1({{7, 1, 1}, true}); }

TEST(Task7_1_Hidden, TwoReplicasThreeStagesTied) { p3dtest::check_zero1({{2, 1, 3}, true}); }

TEST(Task7_1_Hidden, TiedCopiesAcrossFourStages) { p3dtest::check_tied({1, 1, 4}, true); }

TEST(Task7_1_Hidden, TiedCopiesOnEveryDataAndTensorRank) { p3dtest::check_tied({2, 4, 2}, true); }

}  // namespace
