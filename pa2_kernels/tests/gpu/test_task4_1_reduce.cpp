// PA2 Task 4.1 — sum reduction with warp shuffles (src/cuda/reduce.cu), against the double
// reference pa2::gpu::ref::reduce_sum.
//
// Bound: a float32 sum in any order is within gamma_L * sum|x_i| of the exact sum, where L is
// the longest chain of additions any input goes through (Higham §4.2). A grid-stride loop plus
// a tree (or atomics over block sums) gives chains of a few hundred at most, and rounding
// errors of a long chain grow like sqrt(L) in practice. The tests allow 1e-5 * sum|x_i|
// (gamma_L for L ~ 170); sums of ones are exact in any order (every partial sum is an integer
// below 2^24), so they are compared exactly.
#include "gpu_test_util.h"

using namespace pa2::gpu;
using namespace pa2::gpu::test;

namespace {

constexpr const char* kReduceHint =
    "check the grid-stride loop bounds (the last elements, n % 4 leftovers), that every warp's "
    "lane 0 result reaches shared memory, and that the second pass covers all partial sums";

void check_sum(const Tensor& x) {
  SCOPED_TRACE("x " + mlsys::to_string(x.shape()));
  const Tensor got = reduce_sum(x.cuda());
  ASSERT_EQ(got.dim(), 0);
  const double sum_abs = mlsys::sum(mlsys::abs(x)).item();
  EXPECT_TRUE(within_bound(got, ref::reduce_sum(x), filled({}, 1e-5 * sum_abs + 1e-6),
                           kReduceHint));
}

}  // namespace

TEST(Task4_1_Reduce, TinySizes) {
  MLSYS_SKIP_WITHOUT_GPU();
  uint64_t seed = 10;
  for (int64_t n : {1, 2, 3, 4, 5, 7, 8}) check_sum(uniform({n}, seed++));
}

TEST(Task4_1_Reduce, AroundWarpAndBlockSizes) {
  MLSYS_SKIP_WITHOUT_GPU();
  uint64_t seed = 20;
  for (int64_t n : {31, 32, 33, 255, 256, 257, 1023, 1024, 1025, 4097})
    check_sum(uniform({n}, seed++));
}

TEST(Task4_1_Reduce, ManyBlocks) {
  MLSYS_SKIP_WITHOUT_GPU();
  check_sum(uniform({1000003}, 30));               // more than kReduceMaxBlocks blocks' worth
  check_sum(uniform({4096, 1027}, 31, 0.0f, 1.0f));  // 2-D, all positive
}

TEST(Task4_1_Reduce, OnesAreExact) {
  MLSYS_SKIP_WITHOUT_GPU();
  for (int64_t n : {1, 33, 1000, 262147, 4194305}) {
    const Tensor got = reduce_sum(mlsys::ones({n}, mlsys::DType::Float32, mlsys::Device::CUDA));
    mlsys::test::record_value("sum", got.item());  // exact, like the check
    EXPECT_EQ(got.item(), static_cast<float>(n)) << "n = " << n;
  }
}
