// PA3 Task 1.4 — binomial-tree broadcast (pa3_parallelism/src/collectives.cpp).
// On p = 1, 2, 3, 4, 5, 8 ranks, from every root: every rank ends with root's exact values
// (float32, int32, int64; n = 0, 1, p-1, odd, 100,003), and each rank sends one full copy per
// child of the binomial tree (p-1 messages in all).
// Every case then runs again with each message changed in transit (every element arrives
// increased by a random delta; task1_util.h): the result must be built from the messages your
// rank received.
#include "task1_util.h"

namespace {

using pa3test::Task1Test;

// The tree written out by hand for p = 8 and p = 5 from root 0 (handouts/pa3.md, Task 1.4):
// 0 -> 4, 2, 1; 4 -> 6, 5; 2 -> 3; 6 -> 7 and 0 -> 4, 2, 1; 2 -> 3.
TEST(Task1_4_BinomialTree, HandWrittenTrees) {
  EXPECT_EQ(pa3test::binomial_sends(8, 0), (std::vector<int64_t>{3, 0, 1, 0, 2, 0, 1, 0}));
  EXPECT_EQ(pa3test::binomial_sends(5, 0), (std::vector<int64_t>{3, 0, 1, 0, 0}));
  EXPECT_EQ(pa3test::binomial_sends(5, 3), (std::vector<int64_t>{1, 0, 0, 3, 0}));
  pa3::ScopedDeadline deadline(pa3test::kDeadlineSeconds);
  pa3test::check_broadcast(8, {4}, 0, mlsys::DType::Float32, 40);
  pa3test::check_broadcast(5, {4}, 3, mlsys::DType::Float32, 40);
}

TEST_P(Task1Test, EveryRoot) {
  const int p = GetParam();
  for (int root = 0; root < p; ++root)
    pa3test::check_broadcast(p, {2 * p + 3}, root, mlsys::DType::Float32, 41);
}

TEST_P(Task1Test, Lengths) {
  const int p = GetParam();
  for (int64_t n : {int64_t{0}, int64_t{1}, int64_t{p - 1}})
    pa3test::check_broadcast(p, {n}, p / 2, mlsys::DType::Float32, 42);
}

TEST_P(Task1Test, Large) {
  const int p = GetParam();
  pa3test::check_broadcast(p, {100003}, p - 1, mlsys::DType::Float32, 43);
}

TEST_P(Task1Test, IntegerDtypesAndShapes) {
  const int p = GetParam();
  pa3test::check_broadcast(p, {3, 5}, 0, mlsys::DType::Int32, 44);
  pa3test::check_broadcast(p, {2, 2, 3}, p - 1, mlsys::DType::Int64, 45);
}

INSTANTIATE_TEST_SUITE_P(Task1_4_Broadcast, Task1Test, ::testing::Values(1, 2, 3, 4, 5, 8),
                         [](const ::testing::TestParamInfo<int>& i) {
                           return "p" + std::to_string(i.param);
                         });

}  // namespace
