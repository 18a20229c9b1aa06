// PA3 Task 1.2 hidden tests: world sizes 6 and 7 (and 8), other lengths, integer dtypes.
#include "task1_util.h"

namespace {

using pa3test::Task1Test;

TEST_P(Task1Test, OtherLengths) {
  const int p = GetParam();
  for (int64_t n : {int64_t{2}, int64_t{p + 1}, int64_t{3 * p - 1}, int64_t{4099}})
    pa3test::check_all_gather(p, n, mlsys::DType::Float32, 121);
}

TEST_P(Task1Test, Large) {
  pa3test::check_all_gather(GetParam(), 65537, mlsys::DType::Float32, 122);
}

TEST_P(Task1Test, IntegerDtypes) {
  const int p = GetParam();
  pa3test::check_all_gather(p, p - 2, mlsys::DType::Int64, 123);
  pa3test::check_all_gather(p, 5 * p + 3, mlsys::DType::Int32, 124);
}

INSTANTIATE_TEST_SUITE_P(Hidden1_2_AllGather, Task1Test, ::testing::Values(6, 7, 8),
                         [](const ::testing::TestParamInfo<int>& i) {
                           return "p" + std::to_string(i.param);
                         });

}  // namespace
