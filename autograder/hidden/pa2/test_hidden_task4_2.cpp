// PA2 GPU hidden tests, Task 4.2 (online softmax): one case per family of shapes (one long row,
// many short rows, a large square, a wide spread of values, rows whose max changes at every
// element). Bound as in the public tests: rtol 2e-5, atol 1e-7.
#include "gpu_test_util.h"

using namespace pa2::gpu;
using namespace pa2::gpu::test;

namespace {

void check_softmax(const Tensor& x) {
  SCOPED_TRACE("x " + mlsys::to_string(x.shape()));
  EXPECT_TRUE(mlsys::test::allclose(softmax_rows(x.cuda()), ref::softmax_rows(x), 2e-5, 1e-7));
}

}  // namespace

TEST(Task4_2_Hidden, OneLongRow) {
  MLSYS_SKIP_WITHOUT_GPU();
  check_softmax(uniform({1, 100000}, 410, -8, 8));
}

TEST(Task4_2_Hidden, ManyShortRows) {
  MLSYS_SKIP_WITHOUT_GPU();
  check_softmax(uniform({10000, 3}, 411, -8, 8));
}

TEST(Task4_2_Hidden, LargeSquare) {
  MLSYS_SKIP_WITHOUT_GPU();
  check_softmax(uniform({4096, 4096}, 412, -8, 8));
}

TEST(Task4_2_Hidden, WideSpreadOfValues) {
  MLSYS_SKIP_WITHOUT_GPU();
  check_softmax(mlsys::randn({2, 5000}, 413, 0, 50));
}

// Increasing rows: the running max changes at every element, so every step rescales the sum.
TEST(Task4_2_Hidden, IncreasingRowsRescaleEveryStep) {
  MLSYS_SKIP_WITHOUT_GPU();
  const Tensor ramp = mlsys::arange(0, 3000).reshape({1, 3000}) * 0.01f;
  check_softmax(ramp.expand({4, 3000}).contiguous());
  check_softmax(mlsys::neg(ramp).contiguous());
}
