// PA2 CPU staff layer: argument checks of the raw kernels, the tensor-level entries, and the
// staff references (checked with the same helpers as the student kernels, which also tests the
// helpers). Passes in the student build too: no student code runs past its argument check.
#include <string>

#include "mlsys/ops.h"
#include "mlsys/testing.h"
#include "pa2_cpu_test_util.h"

namespace {

using mlsys::Tensor;
using pa2::cpu::Impl;
using pa2::cpu::MatmulStep;

// Runs fn, expects an mlsys::Error (not NotImplemented) whose message contains every part.
template <typename Fn>
void expect_error(Fn fn, std::initializer_list<const char*> parts) {
  try {
    fn();
    ADD_FAILURE() << "expected mlsys::Error, nothing was thrown";
  } catch (const mlsys::NotImplemented& e) {
    ADD_FAILURE() << "expected an argument error, got " << e.what();
  } catch (const mlsys::Error& e) {
    for (const char* part : parts)
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos)
          << "message: " << e.what() << "\n  should contain: " << part;
  }
}

float buf[64];

}  // namespace

// ---- raw-kernel argument checks (run before any student code) -------------------------------

TEST(Pa2CpuApi, MatmulNullPointer) {
  expect_error([] { pa2::cpu::matmul_naive(nullptr, buf, buf + 32, 2, 2, 2, 2, 2, 2); },
               {"pa2::matmul_naive", "'A'", "null"});
  expect_error([] { pa2::cpu::matmul_parallel(buf, buf + 8, nullptr, 2, 2, 2, 2, 2, 2); },
               {"pa2::matmul_parallel", "'C'", "null"});
}

TEST(Pa2CpuApi, MatmulBadSizes) {
  expect_error([] { pa2::cpu::matmul_tiled(buf, buf + 8, buf + 32, 0, 2, 2, 2, 2, 2); },
               {"'M'", ">= 1", "got 0"});
  expect_error([] { pa2::cpu::matmul_simd(buf, buf + 8, buf + 32, 2, 3, 2, 2, 2, 3); },
               {"'ldb'", ">= N = 3", "got 2"});
  expect_error([] { pa2::cpu::matmul_reorder(buf, buf + 8, buf + 32, 2, 2, 4, 3, 2, 2); },
               {"'lda'", ">= K = 4", "got 3"});
}

TEST(Pa2CpuApi, MatmulOverlap) {
  expect_error([] { pa2::cpu::matmul_naive(buf, buf + 16, buf + 2, 2, 2, 2, 2, 2, 2); },
               {"'C' overlaps 'A'"});
}

TEST(Pa2CpuApi, RowwiseChecks) {
  expect_error([] { pa2::cpu::softmax_forward(nullptr, buf, 1, 4, 4, 4); }, {"softmax_forward", "'x'", "null"});
  expect_error([] { pa2::cpu::softmax_forward(buf, buf, 2, 4, 4, 5); }, {"in place", "ldx == ldy"});
  expect_error([] { pa2::cpu::softmax_forward(buf, buf + 2, 2, 4, 4, 4); }, {"overlap"});
  expect_error([] { pa2::cpu::layernorm_forward(buf, nullptr, buf, buf + 32, nullptr, nullptr, 2, 4, 4, 4, 1e-5f); },
               {"layernorm_forward", "'gamma'", "null"});
  expect_error([] { pa2::cpu::layernorm_forward(buf, buf, buf, buf + 32, nullptr, nullptr, 2, 4, 4, 4, -1.f); },
               {"'eps'"});
}

// ---- the staff references pass the same checks as the student kernels -----------------------

TEST(Pa2CpuApi, ReferenceMatmul) {
  for (auto c : {pa2::test::MatmulCase{1, 1, 1}, {17, 13, 29}, {64, 70, 33, 5}})
    EXPECT_TRUE(pa2::test::check_matmul(pa2::cpu::reference::matmul, c));
}

TEST(Pa2CpuApi, ReferenceSoftmax) {
  pa2::test::RowsCase c{9, 77, 3};
  EXPECT_TRUE(pa2::test::check_softmax(pa2::cpu::reference::softmax_forward, c,
                                       pa2::test::uniform_fill(9, 77, 1, -900.f, 900.f)));
  c.in_place = true;
  EXPECT_TRUE(pa2::test::check_softmax(pa2::cpu::reference::softmax_forward, c,
                                       pa2::test::uniform_fill(9, 77, 2, -5.f, 5.f)));
}

TEST(Pa2CpuApi, ReferenceLayernorm) {
  pa2::test::RowsCase c{9, 77, 3};
  EXPECT_TRUE(pa2::test::check_layernorm(pa2::cpu::reference::layernorm_forward, c,
                                         pa2::test::uniform_fill(9, 77, 1, 1e4f, 1e4f + 3.f)));
}

// ---- tensor-level entries ---------------------------------------------------------------------

TEST(Pa2CpuApi, TensorMatmulValidates) {
  Tensor a = mlsys::rand({3, 4}, 1), b = mlsys::rand({5, 2}, 2);
  expect_error([&] { pa2::cpu::matmul(a, b, MatmulStep::Reference); },
               {"pa2::cpu::matmul", "'b'", "[4, N]", "[3, 4]", "got [5, 2]"});
  expect_error([&] { pa2::cpu::matmul(a.astype(mlsys::DType::Int64), a.t(), MatmulStep::Reference); },
               {"'a'", "float32", "int64"});
  expect_error([&] { pa2::cpu::matmul(mlsys::rand({2, 3, 4}, 3), b, MatmulStep::Reference); },
               {"'a'", "matrix", "[2, 3, 4]"});
  expect_error([&] { pa2::cpu::matmul(Tensor(), b, MatmulStep::Reference); }, {"'a'", "undefined"});
}

TEST(Pa2CpuApi, TensorMatmulViews) {
  // A column slice keeps its row stride as the leading dimension; a transpose is copied.
  Tensor big = mlsys::rand({20, 30}, 4, -1.f, 1.f), b = mlsys::rand({30, 7}, 5, -1.f, 1.f);
  Tensor a = big.slice(1, 3, 17);  // [20, 14], strides [30, 1]
  Tensor b2 = b.slice(0, 0, 14);
  MLSYS_EXPECT_ALLCLOSE(pa2::cpu::matmul(a, b2, MatmulStep::Reference), mlsys::matmul(a, b2), 1e-5, 1e-5);
  Tensor bt = mlsys::rand({7, 14}, 6).t();  // [14, 7], column stride 14
  MLSYS_EXPECT_ALLCLOSE(pa2::cpu::matmul(a, bt, MatmulStep::Reference), mlsys::matmul(a, bt), 1e-5, 1e-5);
  Tensor empty_k = pa2::cpu::matmul(mlsys::rand({3, 0}, 7), mlsys::rand({0, 2}, 8), MatmulStep::Reference);
  EXPECT_EQ(empty_k.shape(), (mlsys::Shape{3, 2}));
  MLSYS_EXPECT_ALLCLOSE(empty_k, mlsys::zeros({3, 2}));
}

TEST(Pa2CpuApi, TensorSoftmaxAndLayernorm) {
  Tensor x = mlsys::randn({2, 3, 19}, 9);
  MLSYS_EXPECT_ALLCLOSE(pa2::cpu::softmax(x, Impl::Reference), mlsys::softmax(x, -1), 1e-5, 1e-7);
  Tensor g = mlsys::ones({19}), b = mlsys::zeros({19});
  Tensor y = pa2::cpu::layernorm(x, g, b, 1e-5f, Impl::Reference);
  MLSYS_EXPECT_ALLCLOSE(mlsys::mean(y, {-1}), mlsys::zeros({2, 3}), 0, 1e-5);
  MLSYS_EXPECT_ALLCLOSE(mlsys::mean(y * y, {-1}), mlsys::ones({2, 3}), 1e-3, 1e-3);
  expect_error([&] { pa2::cpu::layernorm(x, mlsys::ones({18}), b, 1e-5f, Impl::Reference); },
               {"pa2::cpu::layernorm", "'gamma'", "[19]", "got [18]"});
  expect_error([&] { pa2::cpu::softmax(mlsys::scalar(1.f), Impl::Reference); }, {"'x'", "0-D"});
}

TEST(Pa2CpuApi, TensorRejectsCuda) {
  MLSYS_SKIP_WITHOUT_GPU();
  Tensor a = mlsys::rand({3, 3}, 1).cuda();
  expect_error([&] { pa2::cpu::matmul(a, a, MatmulStep::Reference); }, {"'a'", "CPU", "cuda"});
}
