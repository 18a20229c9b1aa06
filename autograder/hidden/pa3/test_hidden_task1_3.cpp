// PA3 Task 1.3 hidden tests: world sizes 6 and 7 (and 8), other lengths and shapes; all ranks
// identical bit for bit.
#include "task1_util.h"

namespace {

using pa3test::Task1Test;

TEST_P(Task1Test, OtherLengths) {
  const int p = GetParam();
  for (int64_t n : {int64_t{2}, int64_t{p + 1}, int64_t{3 * p - 1}, int64_t{4099}})
    pa3test::check_all_reduce(p, {n}, 131);
}

TEST_P(Task1Test, Large) { pa3test::check_all_reduce(GetParam(), {65537}, 132); }

TEST_P(Task1Test, MatrixInPlace) { pa3test::check_all_reduce(GetParam(), {6, 7}, 133); }

INSTANTIATE_TEST_SUITE_P(Hidden1_3_AllReduce, Task1Test, ::testing::Values(6, 7, 8),
                         [](const ::testing::TestParamInfo<int>& i) {
                           return "p" + std::to_string(i.param);
                         });

}  // namespace
