// PA3 Task 1.4 hidden tests: world sizes 6 and 7 from every root, other lengths and dtypes.
#include "task1_util.h"

namespace {

using pa3test::Task1Test;

TEST_P(Task1Test, EveryRoot) {
  const int p = GetParam();
  for (int root = 0; root < p; ++root)
    pa3test::check_broadcast(p, {p + 2}, root, mlsys::DType::Float32, 141);
}

TEST_P(Task1Test, OtherLengths) {
  const int p = GetParam();
  for (int64_t n : {int64_t{0}, int64_t{2}, int64_t{4099}})
    pa3test::check_broadcast(p, {n}, 1, mlsys::DType::Float32, 142);
}

TEST_P(Task1Test, Int64Large) {
  pa3test::check_broadcast(GetParam(), {257, 3}, 2, mlsys::DType::Int64, 143);
}

INSTANTIATE_TEST_SUITE_P(Hidden1_4_Broadcast, Task1Test, ::testing::Values(6, 7),
                         [](const ::testing::TestParamInfo<int>& i) {
                           return "p" + std::to_string(i.param);
                         });

}  // namespace
