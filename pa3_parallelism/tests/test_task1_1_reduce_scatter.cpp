// PA3 Task 1.1 — ring reduce-scatter (pa3_parallelism/src/collectives.cpp).
// On p = 1, 2, 3, 4, 5, 8 ranks and n = 0, 1, p-1, an odd length and 100,003: each rank's chunk
// against the float64 sum within the float32 rounding bound, `in` untouched, and the bytes and
// messages each rank sent exactly as the ring sends them (n - |chunk r| elements, p-1 messages).
// Every case then runs again with each message changed in transit (every element arrives
// increased by a random delta; task1_util.h): the result must be built from the messages your
// rank received.
#include "task1_util.h"

namespace {

using pa3test::Task1Test;

TEST_P(Task1Test, Lengths) {
  const int p = GetParam();
  for (int64_t n : {int64_t{0}, int64_t{1}, int64_t{p - 1}, int64_t{2 * p + 3}})
    pa3test::check_reduce_scatter(p, {n}, 11);
}

TEST_P(Task1Test, Large) { pa3test::check_reduce_scatter(GetParam(), {100003}, 12); }

// `in` is read as a flat array whatever its shape.
TEST_P(Task1Test, MatrixInput) { pa3test::check_reduce_scatter(GetParam(), {7, 9}, 13); }

INSTANTIATE_TEST_SUITE_P(Task1_1_ReduceScatter, Task1Test, ::testing::Values(1, 2, 3, 4, 5, 8),
                         [](const ::testing::TestParamInfo<int>& i) {
                           return "p" + std::to_string(i.param);
                         });

}  // namespace
