// PA2 GPU track — the staff code around the student kernels:
//   1. argument validation of every entry (pa2/gpu.h). Validation happens before anything
//      touches the GPU, so these tests run on any machine, with or without a GPU: CPU tensors
//      with wrong shapes or dtypes get shape/dtype errors, CPU tensors with the right shapes
//      get the "must be on the GPU" error;
//   2. misaligned views rejected by the float4 kernels' entries (need a GPU to make a CUDA
//      view; skipped without one);
//   3. the empty / K = 0 cases the entries answer without launching anything (GPU);
//   4. the CPU references themselves, against independent computations: the tensor library's
//      Eigen matmul and softmax, closed forms, finite differences (no GPU needed).
// None of these runs student code, so they pass in the student build too; they are labelled
// "pa2;gpu_entry", not with a task.
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "gpu_test_util.h"

using namespace pa2::gpu;
using namespace pa2::gpu::test;
using mlsys::Device;
using mlsys::DType;

namespace {

// fn() must throw mlsys::Error (not NotImplemented: that would mean validation let the call
// through to the launcher) whose message contains every one of `parts`.
::testing::AssertionResult throws_error(const std::function<void()>& fn,
                                        const std::vector<std::string>& parts) {
  try {
    fn();
  } catch (const mlsys::NotImplemented& e) {
    return ::testing::AssertionFailure()
           << "validation let the call reach the launcher: " << e.what();
  } catch (const mlsys::Error& e) {
    const std::string what = e.what();
    for (const std::string& p : parts)
      if (what.find(p) == std::string::npos)
        return ::testing::AssertionFailure() << "message lacks '" << p << "': " << what;
    return ::testing::AssertionSuccess() << what;
  }
  return ::testing::AssertionFailure() << "no mlsys::Error was thrown";
}

Tensor f32(Shape shape) { return mlsys::zeros(std::move(shape)); }
Tensor i32(Shape shape) { return mlsys::zeros(std::move(shape), DType::Int32); }

// A contiguous CUDA view of `shape` that starts one float past a 16-byte boundary.
Tensor misaligned_cuda(const Shape& shape, uint64_t seed) {
  const int64_t n = mlsys::numel(shape);
  return uniform({n + 1}, seed).cuda().slice(0, 1, n + 1).reshape(shape);
}

}  // namespace

// ============================================================================================
// 1. Validation (no GPU needed)
// ============================================================================================

TEST(GpuEntry_Validation, SgemmShapesDtypesDevices) {
  for (Sgemm kernel : kAllSgemms) {
    SCOPED_TRACE(to_string(kernel));
    EXPECT_TRUE(throws_error([&] { sgemm(kernel, f32({4}), f32({4, 3})); },
                             {"pa2::gpu::sgemm", "'A'", "2-D"}));
    EXPECT_TRUE(throws_error([&] { sgemm(kernel, f32({4, 5}), f32({4, 3})); },
                             {"'B'", "[5, N]", "[4, 3]"}));
    EXPECT_TRUE(throws_error([&] { sgemm(kernel, i32({4, 5}), f32({5, 3})); },
                             {"'A'", "float32", "int32"}));
    EXPECT_TRUE(throws_error([&] { sgemm(kernel, f32({4, 5}), f32({5, 3})); },
                             {"'A'", "GPU", "cpu"}));
  }
}

// An undefined tensor (no storage: the tensor-level null pointer) is named, never launched.
TEST(GpuEntry_Validation, UndefinedTensors) {
  const Tensor none;
  for (Sgemm kernel : kAllSgemms)
    EXPECT_TRUE(throws_error([&] { sgemm(kernel, none, f32({4, 3})); },
                             {"pa2::gpu::sgemm", "'A'", "undefined"}));
  EXPECT_TRUE(throws_error([&] { reduce_sum(none); }, {"reduce_sum", "'x'", "undefined"}));
  EXPECT_TRUE(throws_error([&] { softmax_rows(none); }, {"softmax_rows", "'x'", "undefined"}));
  EXPECT_TRUE(throws_error([&] { layernorm_forward(f32({3, 4}), none, f32({4})); },
                           {"layernorm_forward", "'gamma'", "undefined"}));
  EXPECT_TRUE(throws_error(
      [&] { layernorm_backward(f32({3, 4}), f32({3, 4}), f32({4}), f32({3}), none); },
      {"layernorm_backward", "'rstd'", "undefined"}));
  const Tensor q = f32({1, 2, 5, 64});
  EXPECT_TRUE(throws_error([&] { attention_forward(q, none, q, true); },
                           {"attention_forward", "'k'", "undefined"}));
  EXPECT_TRUE(throws_error([&] { gemm_bias_relu(f32({4, 5}), f32({5, 3}), none); },
                           {"gemm_bias_relu", "'bias'", "undefined"}));
}

// Task 3.1's grid covers the columns with its y dimension (at most 65535 blocks of 32).
TEST(GpuEntry_Validation, NaiveSgemmColumnLimit) {
  MLSYS_SKIP_WITHOUT_GPU();
  const int64_t N = int64_t{65535} * 32 + 1;
  const Tensor A = mlsys::zeros({1, 1}, DType::Float32, Device::CUDA),
               B = mlsys::zeros({1, N}, DType::Float32, Device::CUDA);
  EXPECT_TRUE(throws_error([&] { sgemm(Sgemm::Naive, A, B); }, {"naive", "N <= "}));
}

TEST(GpuEntry_Validation, ReduceAndSoftmax) {
  EXPECT_TRUE(throws_error([] { reduce_sum(i32({8})); }, {"reduce_sum", "'x'", "float32"}));
  EXPECT_TRUE(throws_error([] { reduce_sum(f32({8})); }, {"reduce_sum", "GPU"}));
  EXPECT_TRUE(throws_error([] { softmax_rows(mlsys::scalar(1.0f)); },
                           {"softmax_rows", "at least 1 dim"}));
  EXPECT_TRUE(throws_error([] { softmax_rows(f32({3, 4})); }, {"softmax_rows", "GPU"}));
}

TEST(GpuEntry_Validation, LayerNorm) {
  EXPECT_TRUE(throws_error([] { layernorm_forward(f32({3, 4}), f32({5}), f32({4})); },
                           {"layernorm_forward", "'gamma'", "[4]", "[5]"}));
  EXPECT_TRUE(throws_error([] { layernorm_forward(f32({3, 4}), f32({4}), f32({4, 1})); },
                           {"'beta'"}));
  EXPECT_TRUE(throws_error([] { layernorm_forward(f32({3, 0}), f32({0}), f32({0})); },
                           {"cols >= 1"}));
  EXPECT_TRUE(throws_error([] { layernorm_forward(f32({3, 4}), f32({4}), f32({4}), -1.0f); },
                           {"eps"}));
  EXPECT_TRUE(throws_error([] { layernorm_forward(f32({3, 4}), f32({4}), f32({4})); },
                           {"'x'", "GPU"}));
  EXPECT_TRUE(throws_error(
      [] { layernorm_backward(f32({3, 5}), f32({3, 4}), f32({4}), f32({3}), f32({3})); },
      {"layernorm_backward", "'dy'", "[3, 5]"}));
  EXPECT_TRUE(throws_error(
      [] { layernorm_backward(f32({3, 4}), f32({3, 4}), f32({4}), f32({4}), f32({3})); },
      {"'mean'", "[3]"}));
  EXPECT_TRUE(throws_error(
      [] { layernorm_backward(f32({3, 4}), f32({3, 4}), f32({4}), f32({3}), f32({3})); },
      {"GPU"}));
}

TEST(GpuEntry_Validation, Attention) {
  const Tensor q = f32({1, 2, 5, 64});
  EXPECT_TRUE(throws_error([&] { attention_forward(f32({2, 5, 64}), q, q, false); },
                           {"attention_forward", "'q'", "4-D"}));
  EXPECT_TRUE(throws_error([&] { attention_forward(q, f32({1, 2, 6, 64}), q, false); },
                           {"'k'", "[1, 2, 5, 64]"}));
  EXPECT_TRUE(throws_error([&] { attention_forward(q, q, i32({1, 2, 5, 64}), true); },
                           {"'v'", "float32"}));
  const Tensor q32 = f32({1, 2, 5, 32});
  EXPECT_TRUE(throws_error([&] { attention_forward(q32, q32, q32, false); }, {"d = 64"}));
  EXPECT_TRUE(throws_error([&] { attention_forward(q, q, q, false); }, {"'q'", "GPU"}));
  EXPECT_TRUE(throws_error([&] { attention_naive(q32, q32, q32, true); },
                           {"attention_naive", "GPU"}));
}

TEST(GpuEntry_Validation, GemmBiasRelu) {
  EXPECT_TRUE(throws_error([] { gemm_bias_relu(f32({4, 5}), f32({5, 3}), f32({4})); },
                           {"gemm_bias_relu", "'bias'", "[3]", "[4]"}));
  EXPECT_TRUE(throws_error([] { gemm_bias_relu(f32({4, 5}), f32({6, 3}), f32({3})); },
                           {"'B'", "[5, N]"}));
  EXPECT_TRUE(throws_error([] { gemm_bias_relu(f32({4, 5}), f32({5, 3}), f32({3})); },
                           {"'A'", "GPU"}));
}

// ============================================================================================
// 2. Misaligned views (GPU)
// ============================================================================================

TEST(GpuEntry_Alignment, Float4KernelsRejectMisalignedViews) {
  MLSYS_SKIP_WITHOUT_GPU();
  const Tensor A = misaligned_cuda({64, 64}, 1), B = uniform({64, 64}, 2).cuda();
  ASSERT_TRUE(A.is_contiguous());
  EXPECT_TRUE(throws_error([&] { sgemm(Sgemm::Vectorized, A, B); }, {"'A'", "16-byte"}));
  EXPECT_TRUE(throws_error([&] { sgemm(Sgemm::Vectorized, B, A); }, {"'B'", "16-byte"}));
  EXPECT_TRUE(throws_error([&] { gemm_bias_relu(A, B, uniform({64}, 3).cuda()); },
                           {"'A'", "16-byte"}));
  EXPECT_TRUE(throws_error([&] { reduce_sum(A); }, {"'x'", "16-byte"}));
  EXPECT_TRUE(throws_error([&] { softmax_rows(A); }, {"'x'", "16-byte"}));
  const Tensor g = uniform({64}, 4).cuda();
  EXPECT_TRUE(throws_error([&] { layernorm_forward(A, g, g); }, {"'x'", "16-byte"}));
  const Tensor q = misaligned_cuda({1, 1, 8, 64}, 5), k = uniform({1, 1, 8, 64}, 6).cuda();
  EXPECT_TRUE(throws_error([&] { attention_forward(q, k, k, false); }, {"'q'", "16-byte"}));
}

TEST(GpuEntry_Alignment, NonContiguousViewsRejected) {
  MLSYS_SKIP_WITHOUT_GPU();
  const Tensor A = uniform({64, 32}, 1).cuda().t();  // [32, 64], strides [1, 32]
  const Tensor B = uniform({64, 16}, 2).cuda();
  EXPECT_TRUE(throws_error([&] { sgemm(Sgemm::Naive, A, B); }, {"'A'", "contiguous"}));
}

// ============================================================================================
// 3. Cases the entries answer without a launch (GPU)
// ============================================================================================

TEST(GpuEntry_Empty, ZeroSizes) {
  MLSYS_SKIP_WITHOUT_GPU();
  for (Sgemm kernel : kAllSgemms) {
    const Tensor C = sgemm(kernel, mlsys::zeros({3, 0}, DType::Float32, Device::CUDA),
                           mlsys::zeros({0, 5}, DType::Float32, Device::CUDA));
    EXPECT_TRUE(mlsys::test::allclose(C, mlsys::zeros({3, 5})));
    EXPECT_EQ(sgemm(kernel, mlsys::zeros({0, 4}, DType::Float32, Device::CUDA),
                    mlsys::zeros({4, 5}, DType::Float32, Device::CUDA))
                  .shape(),
              (Shape{0, 5}));
  }
  EXPECT_EQ(reduce_sum(mlsys::zeros({0}, DType::Float32, Device::CUDA)).item(), 0.0f);
  const Tensor bias = mlsys::from_vector<float>({-1.0f, 2.0f}, {2});
  const Tensor C = gemm_bias_relu(mlsys::zeros({3, 0}, DType::Float32, Device::CUDA),
                                  mlsys::zeros({0, 2}, DType::Float32, Device::CUDA), bias.cuda());
  EXPECT_TRUE(mlsys::test::allclose(C, mlsys::from_vector<float>({0, 2, 0, 2, 0, 2}, {3, 2})));
}

// ============================================================================================
// 4. The CPU references against independent computations (no GPU needed)
// ============================================================================================

TEST(GpuEntry_Reference, SgemmMatchesEigen) {
  const Tensor A = uniform({37, 53}, 11), B = uniform({53, 29}, 12);
  EXPECT_TRUE(mlsys::test::allclose(ref::sgemm(A, B), mlsys::matmul(A, B), 1e-5, 1e-5));
  const Tensor bias = uniform({29}, 13);
  EXPECT_TRUE(mlsys::test::allclose(ref::gemm_bias_relu(A, B, bias),
                                    mlsys::relu(mlsys::matmul(A, B) + bias), 1e-5, 1e-5));
}

TEST(GpuEntry_Reference, ReduceSumClosedForm) {
  const int64_t n = 100000;  // sum of 0 .. n-1 = n (n - 1) / 2, exact in double
  EXPECT_EQ(ref::reduce_sum(mlsys::arange(0, n)).item(), static_cast<float>(n * (n - 1) / 2));
}

TEST(GpuEntry_Reference, SoftmaxMatchesLibrary) {
  const Tensor x = uniform({7, 333}, 14, -50, 50);
  EXPECT_TRUE(mlsys::test::allclose(ref::softmax_rows(x), mlsys::softmax(x, -1), 1e-5, 1e-7));
}

TEST(GpuEntry_Reference, LayerNormForwardMatchesFormula) {
  const Tensor x = mlsys::randn({6, 50}, 15, 3.0f, 2.0f);
  const Tensor gamma = uniform({50}, 16), beta = uniform({50}, 17);
  const LayerNormForward out = ref::layernorm_forward(x, gamma, beta, 1e-5f);
  const Tensor mean = mlsys::mean(x, {-1}, true);
  const Tensor var = mlsys::mean((x - mean) * (x - mean), {-1}, true);
  const Tensor rstd = 1.0f / mlsys::sqrt(var + 1e-5f);
  EXPECT_TRUE(mlsys::test::allclose(out.y, (x - mean) * rstd * gamma + beta, 1e-4, 1e-5));
  EXPECT_TRUE(mlsys::test::allclose(out.mean, mean.reshape({6}), 1e-5, 1e-5));
  EXPECT_TRUE(mlsys::test::allclose(out.rstd, rstd.reshape({6}), 1e-4, 1e-6));
}

// L = sum(y * w) with y = layernorm(x; gamma, beta): the reference backward's dx, dgamma and
// dbeta for dy = w must match central finite differences of L.
TEST(GpuEntry_Reference, LayerNormBackwardMatchesFiniteDifferences) {
  const int64_t rows = 3, cols = 7;
  const Tensor x = mlsys::randn({rows, cols}, 18), w = mlsys::randn({rows, cols}, 19);
  const Tensor gamma = uniform({cols}, 20, 0.5f, 1.5f), beta = uniform({cols}, 21);
  const float eps = 1e-5f;
  auto loss = [&](const Tensor& xx, const Tensor& gg, const Tensor& bb) {
    const std::vector<double> y = ref::layernorm_forward(xx, gg, bb, eps).y.to_vector<double>(),
                              wv = w.to_vector<double>();
    double s = 0.0;
    for (size_t i = 0; i < y.size(); ++i) s += y[i] * wv[i];
    return s;
  };
  const LayerNormForward fwd = ref::layernorm_forward(x, gamma, beta, eps);
  const LayerNormGrads g = ref::layernorm_backward(w, x, gamma, fwd.mean, fwd.rstd);
  EXPECT_TRUE(mlsys::test::gradcheck([&](const Tensor& t) { return loss(t, gamma, beta); }, x,
                                     g.dx));
  EXPECT_TRUE(mlsys::test::gradcheck([&](const Tensor& t) { return loss(x, t, beta); }, gamma,
                                     g.dgamma));
  EXPECT_TRUE(mlsys::test::gradcheck([&](const Tensor& t) { return loss(x, gamma, t); }, beta,
                                     g.dbeta));
}

// softmax(q k^T / sqrt(d) + mask) v through the tensor library (Eigen batched matmul).
TEST(GpuEntry_Reference, AttentionMatchesLibrary) {
  const int64_t T = 19, d = 16;
  const Tensor q = mlsys::randn({2, 3, T, d}, 22), k = mlsys::randn({2, 3, T, d}, 23),
               v = mlsys::randn({2, 3, T, d}, 24);
  for (bool causal : {false, true}) {
    Tensor s = mlsys::matmul(q, k.transpose(-1, -2)) / std::sqrt(static_cast<float>(d));
    if (causal) {
      Tensor mask = mlsys::zeros({T, T});
      for (int64_t i = 0; i < T; ++i)
        for (int64_t j = i + 1; j < T; ++j) mask.set({i, j}, -INFINITY);
      s = s + mask;
    }
    const Tensor o = mlsys::matmul(mlsys::softmax(s, -1), v);
    EXPECT_TRUE(mlsys::test::allclose(ref::attention_forward(q, k, v, causal), o, 1e-4, 1e-5))
        << (causal ? "causal" : "full");
  }
}

TEST(GpuEntry_Reference, RejectsGpuTensors) {
  MLSYS_SKIP_WITHOUT_GPU();
  EXPECT_TRUE(throws_error([] { ref::reduce_sum(uniform({4}, 1).cuda()); }, {"CPU tensor"}));
}
