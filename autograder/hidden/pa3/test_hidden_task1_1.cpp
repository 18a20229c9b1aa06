// PA3 Task 1.1 hidden tests: world sizes 6 and 7 (and 8 with lengths around multiples of it),
// lengths that leave some chunks empty or one element longer, 3-D inputs.
#include "task1_util.h"

namespace {

using pa3test::Task1Test;

TEST_P(Task1Test, OtherLengths) {
  const int p = GetParam();
  for (int64_t n : {int64_t{2}, int64_t{p + 1}, int64_t{3 * p - 1}, int64_t{4099}})
    pa3test::check_reduce_scatter(p, {n}, 111);
}

TEST_P(Task1Test, Large) { pa3test::check_reduce_scatter(GetParam(), {65537}, 112); }

TEST_P(Task1Test, ThreeDimInput) { pa3test::check_reduce_scatter(GetParam(), {3, 4, 5}, 113); }

INSTANTIATE_TEST_SUITE_P(Hidden1_1_ReduceScatter, Task1Test, ::testing::Values(6, 7, 8),
                         [](const ::testing::TestParamInfo<int>& i) {
                           return "p" + std::to_string(i.param);
                         });

}  // namespace
