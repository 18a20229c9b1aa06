// PA3 Task 1.3 — ring all-reduce as reduce-scatter + all-gather
// (pa3_parallelism/src/collectives.cpp; it uses your Tasks 1.1 and 1.2).
// On p = 1, 2, 3, 4, 5, 8 ranks and n = 0, 1, p-1, an odd length and 100,003: every rank within
// the float32 rounding bound of the float64 sum, all ranks identical bit for bit, and each
// rank's traffic exactly 2n - |chunk r| - |chunk r+1| elements in 2(p-1) messages
// (= 2(p-1)/p n when p divides n).
// Every case then runs again with each message changed in transit (every element arrives
// increased by a random delta; task1_util.h): the result must be built from the messages your
// rank received.
#include "task1_util.h"

namespace {

using pa3test::Task1Test;

TEST_P(Task1Test, Lengths) {
  const int p = GetParam();
  for (int64_t n : {int64_t{0}, int64_t{1}, int64_t{p - 1}, int64_t{2 * p + 3}})
    pa3test::check_all_reduce(p, {n}, 31);
}

TEST_P(Task1Test, Large) { pa3test::check_all_reduce(GetParam(), {100003}, 32); }

// The textbook case: p divides n, so every rank sends exactly 2(p-1)/p n elements.
TEST_P(Task1Test, DivisibleLength) {
  const int p = GetParam();
  pa3test::check_all_reduce(p, {40 * p}, 33);
}

// In place on a tensor of any shape; the shape is kept.
TEST_P(Task1Test, MatrixInPlace) { pa3test::check_all_reduce(GetParam(), {5, 3, 7}, 34); }

INSTANTIATE_TEST_SUITE_P(Task1_3_AllReduce, Task1Test, ::testing::Values(1, 2, 3, 4, 5, 8),
                         [](const ::testing::TestParamInfo<int>& i) {
                           return "p" + std::to_string(i.param);
                         });

}  // namespace
