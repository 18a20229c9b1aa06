// PA2 GPU hidden tests, Task 4.1 (sum reduction): one case per family of inputs (a large
// length that is not a multiple of anything, all-negative values, small and multi-dimensional
// inputs, and 2^24 ones, exact in any order). Bound as in the public tests: 1e-5 sum|x|.
#include "gpu_test_util.h"

using namespace pa2::gpu;
using namespace pa2::gpu::test;

namespace {

void check_sum(const Tensor& x) {
  SCOPED_TRACE("x " + mlsys::to_string(x.shape()));
  const double sum_abs = mlsys::sum(mlsys::abs(x)).item();
  EXPECT_TRUE(within_bound(reduce_sum(x.cuda()), ref::reduce_sum(x),
                           filled({}, 1e-5 * sum_abs + 1e-6), "check the tails and the passes"));
}

}  // namespace

TEST(Task4_1_Hidden, LargeUnalignedLength) {
  MLSYS_SKIP_WITHOUT_GPU();
  check_sum(uniform({(1 << 24) + 3}, 400));
}

TEST(Task4_1_Hidden, AllNegative) {
  MLSYS_SKIP_WITHOUT_GPU();
  check_sum(uniform({1 << 20}, 401, -3.0f, -1.0f));
}

TEST(Task4_1_Hidden, SmallAndMultiDimensional) {
  MLSYS_SKIP_WITHOUT_GPU();
  check_sum(uniform({3, 5, 7, 11}, 402));
  check_sum(uniform({1}, 403));
}

// 2^24 ones: every partial sum is an integer <= 2^24, exact in float32 in any order.
TEST(Task4_1_Hidden, OnesExactAt2To24) {
  MLSYS_SKIP_WITHOUT_GPU();
  const Tensor ones = mlsys::ones({1 << 24}, mlsys::DType::Float32, mlsys::Device::CUDA);
  const float got = reduce_sum(ones).item();
  mlsys::test::record_value("sum", got);  // exact, like the check
  EXPECT_EQ(got, 16777216.0f);
}
