// PA3 Task 1.2 — ring all-gather (pa3_parallelism/src/collectives.cpp).
// On p = 1, 2, 3, 4, 5, 8 ranks and n = 0, 1, p-1, an odd length and 100,003: every rank's out
// is exactly every rank's chunk in rank order (float32, int32, int64), and the bytes and
// messages each rank sent are exactly the ring's (n - |chunk r+1| elements, p-1 messages).
// Every case then runs again with each message changed in transit (every element arrives
// increased by a random delta; task1_util.h): the result must be built from the messages your
// rank received.
#include "task1_util.h"

namespace {

using pa3test::Task1Test;

TEST_P(Task1Test, Lengths) {
  const int p = GetParam();
  for (int64_t n : {int64_t{0}, int64_t{1}, int64_t{p - 1}, int64_t{2 * p + 3}})
    pa3test::check_all_gather(p, n, mlsys::DType::Float32, 21);
}

TEST_P(Task1Test, Large) {
  pa3test::check_all_gather(GetParam(), 100003, mlsys::DType::Float32, 22);
}

// Any dtype: all-gather only moves bytes.
TEST_P(Task1Test, IntegerDtypes) {
  const int p = GetParam();
  pa3test::check_all_gather(p, 3 * p + 1, mlsys::DType::Int32, 23);
  pa3test::check_all_gather(p, 3 * p + 2, mlsys::DType::Int64, 24);
}

INSTANTIATE_TEST_SUITE_P(Task1_2_AllGather, Task1Test, ::testing::Values(1, 2, 3, 4, 5, 8),
                         [](const ::testing::TestParamInfo<int>& i) {
                           return "p" + std::to_string(i.param);
                         });

}  // namespace
