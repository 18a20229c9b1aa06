// PA2 Task 4.2 — row softmax, online one pass (src/cuda/softmax.cu), against the double
// reference pa2::gpu::ref::softmax_rows.
//
// Bound: y_j = exp(x_j - m) / s. The difference x_j - m rounds once (relative u, and then
// exp turns an absolute error e into a relative one: e = u |x_j - m|); expf is within 2 ulp;
// s is a sum of positive terms, within gamma_L relative for a longest chain L (at most a few
// hundred additions and rescalings for any sensible order; rounding grows like sqrt(L) in
// practice); the division or the multiplication by 1/s adds 2u. The tests use rtol 2e-5
// (~ gamma_L for L ~ 300) and atol 1e-7 (for the tiny outputs of |x_j - m| up to 2000).
#include "gpu_test_util.h"

using namespace pa2::gpu;
using namespace pa2::gpu::test;

namespace {

constexpr const char* kSoftmaxHint =
    "check the (max, sum) combination rule (rescale both sums to the new max), the handling of "
    "the initial (-inf, 0) pair, rows whose length is not a multiple of 4 or of the block size, "
    "and that every thread gets the row's final max and sum before writing";

void check_softmax(const Tensor& x) {
  SCOPED_TRACE("x " + mlsys::to_string(x.shape()));
  const Tensor y = softmax_rows(x.cuda());
  EXPECT_TRUE(mlsys::test::allclose(y, ref::softmax_rows(x), 2e-5, 1e-7, kSoftmaxHint));
}

}  // namespace

TEST(Task4_2_Softmax, TinyRows) {
  MLSYS_SKIP_WITHOUT_GPU();
  check_softmax(uniform({1, 1}, 40, -3, 3));
  check_softmax(uniform({1, 5}, 41, -3, 3));
  check_softmax(uniform({3, 7}, 42, -3, 3));
  check_softmax(uniform({17, 33}, 43, -3, 3));
}

TEST(Task4_2_Softmax, LongAndOddRows) {
  MLSYS_SKIP_WITHOUT_GPU();
  check_softmax(uniform({64, 1000}, 44, -5, 5));
  check_softmax(uniform({5, 4096}, 45, -5, 5));
  check_softmax(uniform({9, 1023}, 46, -5, 5));
  check_softmax(uniform({3, 5000}, 47, -5, 5));
}

TEST(Task4_2_Softmax, ManyRowsAndLeadingDims) {
  MLSYS_SKIP_WITHOUT_GPU();
  check_softmax(uniform({2, 3, 50}, 48, -5, 5));
  check_softmax(uniform({4096, 31}, 49, -5, 5));
}

// Values far outside exp's float range: only a max-subtracted softmax survives them.
TEST(Task4_2_Softmax, LargeMagnitudes) {
  MLSYS_SKIP_WITHOUT_GPU();
  check_softmax(uniform({8, 300}, 50, -1000, 1000));
  check_softmax(uniform({8, 300}, 51, 900, 1000));
}

TEST(Task4_2_Softmax, EqualValuesGiveUniformRows) {
  MLSYS_SKIP_WITHOUT_GPU();
  const Tensor y = softmax_rows(mlsys::full({3, 777}, 42.0f, mlsys::DType::Float32,
                                            mlsys::Device::CUDA));
  EXPECT_TRUE(mlsys::test::allclose(y, mlsys::full({3, 777}, 1.0f / 777), 2e-5, 1e-7,
                                    kSoftmaxHint));
}

// -inf marks masked positions (as attention masks do): their probability is 0, and a row's
// first chunk may consist of -inf only.
TEST(Task4_2_Softmax, MinusInfinityEntries) {
  MLSYS_SKIP_WITHOUT_GPU();
  Tensor x = uniform({4, 600}, 52, -3, 3);
  for (int64_t r = 0; r < 4; ++r)
    for (int64_t j = 0; j < 600; ++j)
      if (j < 300 || j % 7 == r) x.set({r, j}, -INFINITY);
  check_softmax(x);
}
