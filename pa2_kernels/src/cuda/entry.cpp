// The tensor-level entries of the PA2 GPU track (pa2/gpu.h): validate, allocate, launch.
//
// Every entry checks its arguments in the same order, and all of it before touching the GPU:
//   1. defined, float32, rank and shapes (errors name the argument, expected vs got);
//   2. device: on the GPU (a CPU tensor gets an error telling how to move it);
//   3. layout: contiguous, and for the kernels allowed to use float4 accesses (Tasks 3.6, 4.x,
//      5.1, 6.1) a start on a 16-byte boundary;
//   4. sizes that fit the kernels' int index math and grid limits.
// Only then are the outputs allocated and the launcher called on the default stream. A
// launcher that reports an error (a bad launch configuration, a sticky error of an earlier
// kernel) becomes mlsys::Error naming the entry and the launcher. A stub launcher's
// mlsys::NotImplemented passes through unchanged.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include "cuda_check.h"
#include "launchers.h"
#include "mlsys/ops.h"
#include "pa2/gpu.h"

namespace pa2::gpu {

using mlsys::Device;
using mlsys::DType;
using mlsys::Shape;

namespace {

constexpr int64_t kMaxInt = std::numeric_limits<int>::max();

void require_float(const Tensor& t, const char* op, const char* name) {
  PA2_CHECK(t.defined(), op, "argument '", name, "' is an undefined tensor");
  PA2_CHECK(t.dtype() == DType::Float32, op, "argument '", name, "' must be float32, got ",
            t.describe());
}

void require_shape(const Tensor& t, const Shape& expected, const char* op, const char* name,
                   const std::string& why = "") {
  PA2_CHECK(t.shape() == expected, op, "argument '", name, "' expected shape ",
            mlsys::to_string(expected), why.empty() ? "" : " (", why, why.empty() ? "" : ")",
            ", got ", mlsys::to_string(t.shape()));
}

// Device and layout (steps 2 and 3). `aligned`: the kernel may use 16-byte accesses.
void require_gpu_layout(const Tensor& t, const char* op, const char* name, bool aligned) {
  PA2_CHECK(t.device() == Device::CUDA, op, "argument '", name,
            "' must be on the GPU (move it with .cuda()), got ", t.describe());
  PA2_CHECK(t.is_contiguous(), op, "argument '", name,
            "' must be contiguous (call .contiguous()), got ", t.describe(), " with strides ",
            mlsys::to_string(t.strides()));
  if (aligned && t.numel() > 0)
    PA2_CHECK(reinterpret_cast<std::uintptr_t>(t.raw_data()) % 16 == 0, op, "argument '", name,
              "' must start on a 16-byte boundary (the kernel uses float4 accesses), but this "
              "view starts at element offset ", t.offset(),
              " of its storage; pass .clone() for an aligned copy");
}

void require_fits_int(int64_t n, const char* op, const char* what) {
  PA2_CHECK(n <= kMaxInt, op, what, " has ", n, " elements; the kernels index with int, so at "
            "most ", kMaxInt, " are supported");
}

void check_launch(cudaError_t status, const char* op, const char* launcher) {
  PA2_CHECK(status == cudaSuccess, op, launcher, " failed: ", cudaGetErrorString(status), " (",
            cudaGetErrorName(status), ")");
}

// The leading dims of x [..., cols] flattened into a row count.
int64_t rows_of(const Tensor& x) { return x.size(-1) == 0 ? 0 : x.numel() / x.size(-1); }

Shape leading_shape(const Tensor& x) {
  return Shape(x.shape().begin(), x.shape().end() - 1);
}

}  // namespace

// ============================================================================================
// Task 3: SGEMM
// ============================================================================================

const char* to_string(Sgemm kernel) {
  switch (kernel) {
    case Sgemm::Naive: return "naive";
    case Sgemm::Coalesced: return "coalesced";
    case Sgemm::SharedTiled: return "shared";
    case Sgemm::RegTile1D: return "regtile_1d";
    case Sgemm::RegTile2D: return "regtile_2d";
    case Sgemm::Vectorized: return "vectorized";
  }
  return "?";
}

const char* task_of(Sgemm kernel) {
  switch (kernel) {
    case Sgemm::Naive: return "PA2 Task 3.1";
    case Sgemm::Coalesced: return "PA2 Task 3.2";
    case Sgemm::SharedTiled: return "PA2 Task 3.3";
    case Sgemm::RegTile1D: return "PA2 Task 3.4";
    case Sgemm::RegTile2D: return "PA2 Task 3.5";
    case Sgemm::Vectorized: return "PA2 Task 3.6";
  }
  return "?";
}

namespace {

// Shapes of A [M, K] @ B [K, N] (step 1), shared by sgemm and gemm_bias_relu.
void check_matmul_shapes(const Tensor& A, const Tensor& B, const char* op) {
  require_float(A, op, "A");
  require_float(B, op, "B");
  PA2_CHECK(A.dim() == 2, op, "argument 'A' must be 2-D [M, K], got ", A.describe());
  PA2_CHECK(B.dim() == 2, op, "argument 'B' must be 2-D [K, N], got ", B.describe());
  PA2_CHECK(B.size(0) == A.size(1), op, "argument 'B' expected shape [", A.size(1),
            ", N] (K must match A ", mlsys::to_string(A.shape()), "), got ",
            mlsys::to_string(B.shape()));
}

void check_matmul_sizes(const Tensor& A, const Tensor& B, const char* op) {
  require_fits_int(A.numel(), op, "argument 'A'");
  require_fits_int(B.numel(), op, "argument 'B'");
  require_fits_int(A.size(0) * B.size(1), op, "the result");
}

// The SGEMM launchers (and Task 6.1's) put the rows of C on the grid's y dimension (at most
// 65535 blocks), in tiles of 32 to 128 rows; an M above 65535 * 32 would make the launch fail.
// The entries therefore run a tall product as several launches over consecutive row blocks of A
// and C (B shared), each of at most kRowsPerLaunch rows: 65535 * 32 rounded down to a multiple
// of 128, so every chunk but the last is whole tiles and, with A, B, C 16-byte aligned, every
// chunk's A and C start 16-byte aligned too (kRowsPerLaunch * K floats is a multiple of 4).
constexpr int kRowsPerLaunch = (65535 * 32 / 128) * 128;  // 2,097,024
static_assert(kRowsPerLaunch % 128 == 0 && (kRowsPerLaunch + 31) / 32 <= 65535,
              "a chunk of rows must fit the grid's y dimension of every SGEMM launcher");

// Calls launch(a_rows, c_rows, rows) for consecutive chunks of at most kRowsPerLaunch rows;
// stops at the first launcher error.
template <typename Launch>
cudaError_t for_row_chunks(const float* a, float* c, int M, int N, int K, Launch launch) {
  for (int r0 = 0; r0 < M; r0 += kRowsPerLaunch) {
    const int rows = std::min(kRowsPerLaunch, M - r0);
    const cudaError_t status = launch(a + static_cast<int64_t>(r0) * K,
                                      c + static_cast<int64_t>(r0) * N, rows);
    if (status != cudaSuccess) return status;
  }
  return cudaSuccess;
}

}  // namespace

Tensor sgemm(Sgemm kernel, const Tensor& A, const Tensor& B) {
  const char* op = "gpu::sgemm";
  check_matmul_shapes(A, B, op);
  const bool aligned = kernel == Sgemm::Vectorized;
  require_gpu_layout(A, op, "A", aligned);
  require_gpu_layout(B, op, "B", aligned);
  check_matmul_sizes(A, B, op);
  // Task 3.1 puts the columns of C on the grid's y dimension (blocks of 32, at most 65535).
  if (kernel == Sgemm::Naive)
    PA2_CHECK(B.size(1) <= int64_t{65535} * 32, op, "the naive kernel supports N <= ",
              int64_t{65535} * 32, " (its grid's y dimension covers the columns), got N = ",
              B.size(1), "; use another Sgemm kernel");

  const int M = static_cast<int>(A.size(0)), K = static_cast<int>(A.size(1)),
            N = static_cast<int>(B.size(1));
  Tensor C({M, N}, DType::Float32, Device::CUDA);
  if (M == 0 || N == 0) return C;
  if (K == 0) {
    C.fill_(0.0f);
    return C;
  }
  const float* a = A.data<float>();
  const float* b = B.data<float>();
  float* c = C.data<float>();
  // Runs `launcher` over chunks of rows (see for_row_chunks).
  auto run = [&](auto launcher, const char* name) {
    check_launch(for_row_chunks(a, c, M, N, K,
                                [&](const float* a_rows, float* c_rows, int rows) {
                                  return launcher(a_rows, b, c_rows, rows, N, K, nullptr);
                                }),
                 op, name);
  };
  switch (kernel) {
    case Sgemm::Naive:
      run(launch_sgemm_naive, "launch_sgemm_naive");
      break;
    case Sgemm::Coalesced:
      run(launch_sgemm_coalesced, "launch_sgemm_coalesced");
      break;
    case Sgemm::SharedTiled:
      run(launch_sgemm_shared, "launch_sgemm_shared");
      break;
    case Sgemm::RegTile1D:
      run(launch_sgemm_regtile_1d, "launch_sgemm_regtile_1d");
      break;
    case Sgemm::RegTile2D:
      run(launch_sgemm_regtile_2d, "launch_sgemm_regtile_2d");
      break;
    case Sgemm::Vectorized:
      run(launch_sgemm_vectorized, "launch_sgemm_vectorized");
      break;
  }
  return C;
}

// ============================================================================================
// Task 4: reductions, softmax, layernorm
// ============================================================================================

Tensor reduce_sum(const Tensor& x) {
  const char* op = "gpu::reduce_sum";
  require_float(x, op, "x");
  require_gpu_layout(x, op, "x", true);
  Tensor out(Shape{}, DType::Float32, Device::CUDA);
  if (x.numel() == 0) {
    out.fill_(0.0f);
    return out;
  }
  Tensor partial({kReduceMaxBlocks}, DType::Float32, Device::CUDA);
  check_launch(launch_reduce_sum(x.data<float>(), x.numel(), out.data<float>(),
                                 partial.data<float>(), nullptr),
               op, "launch_reduce_sum");
  return out;
}

Tensor softmax_rows(const Tensor& x) {
  const char* op = "gpu::softmax_rows";
  require_float(x, op, "x");
  PA2_CHECK(x.dim() >= 1, op, "argument 'x' must have at least 1 dim [..., cols], got ",
            x.describe());
  require_gpu_layout(x, op, "x", true);
  const int64_t rows = rows_of(x), cols = x.size(-1);
  require_fits_int(x.numel(), op, "argument 'x'");
  Tensor y(x.shape(), DType::Float32, Device::CUDA);
  if (x.numel() == 0) return y;
  check_launch(launch_softmax_rows(x.data<float>(), y.data<float>(), static_cast<int>(rows),
                                   static_cast<int>(cols), nullptr),
               op, "launch_softmax_rows");
  return y;
}

LayerNormForward layernorm_forward(const Tensor& x, const Tensor& gamma, const Tensor& beta,
                                   float eps) {
  const char* op = "gpu::layernorm_forward";
  require_float(x, op, "x");
  require_float(gamma, op, "gamma");
  require_float(beta, op, "beta");
  PA2_CHECK(x.dim() >= 1 && x.size(-1) >= 1, op,
            "argument 'x' must be [..., cols] with cols >= 1, got ", x.describe());
  const int64_t cols = x.size(-1);
  require_shape(gamma, {cols}, op, "gamma", "cols of x");
  require_shape(beta, {cols}, op, "beta", "cols of x");
  PA2_CHECK(std::isfinite(eps) && eps >= 0.0f, op, "eps must be finite and >= 0, got ", eps);
  require_gpu_layout(x, op, "x", true);
  require_gpu_layout(gamma, op, "gamma", true);
  require_gpu_layout(beta, op, "beta", true);
  require_fits_int(x.numel(), op, "argument 'x'");

  const int64_t rows = rows_of(x);
  LayerNormForward out{Tensor(x.shape(), DType::Float32, Device::CUDA),
                       Tensor(leading_shape(x), DType::Float32, Device::CUDA),
                       Tensor(leading_shape(x), DType::Float32, Device::CUDA)};
  if (rows == 0) return out;
  check_launch(launch_layernorm_forward(x.data<float>(), gamma.data<float>(),
                                        beta.data<float>(), out.y.data<float>(),
                                        out.mean.data<float>(), out.rstd.data<float>(),
                                        static_cast<int>(rows), static_cast<int>(cols), eps,
                                        nullptr),
               op, "launch_layernorm_forward");
  return out;
}

LayerNormGrads layernorm_backward(const Tensor& dy, const Tensor& x, const Tensor& gamma,
                                  const Tensor& mean, const Tensor& rstd) {
  const char* op = "gpu::layernorm_backward";
  require_float(dy, op, "dy");
  require_float(x, op, "x");
  require_float(gamma, op, "gamma");
  require_float(mean, op, "mean");
  require_float(rstd, op, "rstd");
  PA2_CHECK(x.dim() >= 1 && x.size(-1) >= 1, op,
            "argument 'x' must be [..., cols] with cols >= 1, got ", x.describe());
  const int64_t cols = x.size(-1);
  require_shape(dy, x.shape(), op, "dy", "the shape of x");
  require_shape(gamma, {cols}, op, "gamma", "cols of x");
  require_shape(mean, leading_shape(x), op, "mean", "x's shape without its last dim");
  require_shape(rstd, leading_shape(x), op, "rstd", "x's shape without its last dim");
  require_gpu_layout(dy, op, "dy", true);
  require_gpu_layout(x, op, "x", true);
  require_gpu_layout(gamma, op, "gamma", true);
  require_gpu_layout(mean, op, "mean", true);
  require_gpu_layout(rstd, op, "rstd", true);
  require_fits_int(x.numel(), op, "argument 'x'");

  const int64_t rows = rows_of(x);
  LayerNormGrads out{Tensor(x.shape(), DType::Float32, Device::CUDA),
                     Tensor({cols}, DType::Float32, Device::CUDA),
                     Tensor({cols}, DType::Float32, Device::CUDA)};
  if (rows == 0) {
    out.dgamma.fill_(0.0f);
    out.dbeta.fill_(0.0f);
    return out;
  }
  check_launch(launch_layernorm_backward(dy.data<float>(), x.data<float>(), gamma.data<float>(),
                                         mean.data<float>(), rstd.data<float>(),
                                         out.dx.data<float>(), out.dgamma.data<float>(),
                                         out.dbeta.data<float>(), static_cast<int>(rows),
                                         static_cast<int>(cols), nullptr),
               op, "launch_layernorm_backward");
  return out;
}

// ============================================================================================
// Task 5: attention
// ============================================================================================

namespace {

// q, k, v [B, H, T, d] float32, same shapes (step 1); returns B * H.
int64_t check_attention_shapes(const Tensor& q, const Tensor& k, const Tensor& v,
                               const char* op) {
  require_float(q, op, "q");
  require_float(k, op, "k");
  require_float(v, op, "v");
  PA2_CHECK(q.dim() == 4, op, "argument 'q' must be 4-D [B, H, T, d], got ", q.describe());
  require_shape(k, q.shape(), op, "k", "the shape of q");
  require_shape(v, q.shape(), op, "v", "the shape of q");
  return q.size(0) * q.size(1);
}

}  // namespace

Tensor attention_forward(const Tensor& q, const Tensor& k, const Tensor& v, bool causal) {
  const char* op = "gpu::attention_forward";
  const int64_t BH = check_attention_shapes(q, k, v, op);
  PA2_CHECK(q.size(3) == kHeadDim, op, "the fused kernel supports head size d = ", kHeadDim,
            " only; argument 'q' is ", q.describe());
  require_gpu_layout(q, op, "q", true);
  require_gpu_layout(k, op, "k", true);
  require_gpu_layout(v, op, "v", true);
  PA2_CHECK(BH <= 65535, op, "B * H = ", BH, " exceeds 65535 (the grid's y dimension)");
  require_fits_int(q.numel(), op, "argument 'q'");

  Tensor o(q.shape(), DType::Float32, Device::CUDA);
  if (q.numel() == 0) return o;
  check_launch(launch_attention_forward(q.data<float>(), k.data<float>(), v.data<float>(),
                                        o.data<float>(), static_cast<int>(BH),
                                        static_cast<int>(q.size(2)), causal, nullptr),
               op, "launch_attention_forward");
  return o;
}

Tensor attention_naive(const Tensor& q, const Tensor& k, const Tensor& v, bool causal) {
  const char* op = "gpu::attention_naive";
  const int64_t BH = check_attention_shapes(q, k, v, op);
  require_gpu_layout(q, op, "q", false);
  require_gpu_layout(k, op, "k", false);
  require_gpu_layout(v, op, "v", false);
  const int64_t T = q.size(2), d = q.size(3);
  PA2_CHECK(BH <= 65535, op, "B * H = ", BH, " exceeds 65535 (the grid's z dimension)");
  require_fits_int(q.numel(), op, "argument 'q'");
  require_fits_int(BH * T, op, "the score matrix's row count");

  Tensor o(q.shape(), DType::Float32, Device::CUDA);
  if (q.numel() == 0) return o;
  Tensor scores({BH, T, T}, DType::Float32, Device::CUDA);
  check_launch(launch_attention_naive(q.data<float>(), k.data<float>(), v.data<float>(),
                                      o.data<float>(), scores.data<float>(),
                                      static_cast<int>(BH), static_cast<int>(T),
                                      static_cast<int>(d), causal, nullptr),
               op, "launch_attention_naive");
  return o;
}

// ============================================================================================
// Task 6: fused epilogue
// ============================================================================================

Tensor gemm_bias_relu(const Tensor& A, const Tensor& B, const Tensor& bias) {
  const char* op = "gpu::gemm_bias_relu";
  check_matmul_shapes(A, B, op);
  require_float(bias, op, "bias");
  require_shape(bias, {B.size(1)}, op, "bias", "N of B");
  require_gpu_layout(A, op, "A", true);
  require_gpu_layout(B, op, "B", true);
  require_gpu_layout(bias, op, "bias", false);
  check_matmul_sizes(A, B, op);

  const int M = static_cast<int>(A.size(0)), K = static_cast<int>(A.size(1)),
            N = static_cast<int>(B.size(1));
  Tensor C({M, N}, DType::Float32, Device::CUDA);
  if (M == 0 || N == 0) return C;
  if (K == 0) {  // relu(0 + bias), broadcast down the rows
    C.copy_(mlsys::relu(bias));
    return C;
  }
  const float* b = B.data<float>();
  const float* bias_data = bias.data<float>();
  check_launch(for_row_chunks(A.data<float>(), C.data<float>(), M, N, K,
                              [&](const float* a_rows, float* c_rows, int rows) {
                                return launch_gemm_bias_relu(a_rows, b, bias_data, c_rows, rows,
                                                             N, K, nullptr);
                              }),
               op, "launch_gemm_bias_relu");
  return C;
}

}  // namespace pa2::gpu
