// pa2/gpu.h — PA2, GPU track: the tensor-level entry of every kernel, and its CPU reference.
//
// Each op has three layers (STYLE 4):
//
//   pa2::gpu::sgemm(...)            this header, staff code (src/cuda/entry.cpp): validates
//                                   shapes, dtypes, devices, contiguity and alignment, then
//   pa2::gpu::launch_sgemm_*(...)   the launcher (a student file, src/cuda/<task>.cu; declared
//                                   in src/cuda/launchers.h): picks the grid, launches
//   sgemm_*_kernel<<<...>>>         the __global__ kernel over raw pointers (same student file)
//
// and one CPU reference in plain C++ with the same signature (pa2::gpu::ref, staff code,
// src/cuda/reference.cpp) that the tests compare against. Every entry validates before it
// touches the GPU, so a bad call throws mlsys::Error ("pa2::gpu::sgemm: ...") on any machine,
// with or without a GPU.
//
// Conventions: float32 everywhere; matrices are row-major and contiguous; M, N, K for matmul
// (A [M, K] @ B [K, N] = C [M, N]); rows x cols for softmax and layernorm (the last axis is the
// normalized one, every leading axis is a row); B, H, T, d for attention. Results are fresh
// tensors on the inputs' device. Kernels run on the default stream; entries return without
// waiting (copying a result to the CPU waits, and reports any kernel error).
#pragma once

#include <cstdint>

#include "mlsys/tensor.h"

namespace pa2::gpu {

using mlsys::Tensor;

// ============================================================================================
// Task 3: SGEMM, from naive to register-tiled and vectorized
// ============================================================================================

// The six SGEMM kernels of Task 3, one per sub-task and student file.
enum class Sgemm {
  Naive,        // Task 3.1  src/cuda/sgemm_naive.cu
  Coalesced,    // Task 3.2  src/cuda/sgemm_coalesced.cu
  SharedTiled,  // Task 3.3  src/cuda/sgemm_shared.cu
  RegTile1D,    // Task 3.4  src/cuda/sgemm_regtile_1d.cu
  RegTile2D,    // Task 3.5  src/cuda/sgemm_regtile_2d.cu
  Vectorized,   // Task 3.6  src/cuda/sgemm_vectorized.cu
};
constexpr Sgemm kAllSgemms[] = {Sgemm::Naive,     Sgemm::Coalesced, Sgemm::SharedTiled,
                                Sgemm::RegTile1D, Sgemm::RegTile2D, Sgemm::Vectorized};
const char* to_string(Sgemm kernel);  // "naive", "coalesced", ...
const char* task_of(Sgemm kernel);    // "PA2 Task 3.1", ...

// C = A @ B. A [M, K], B [K, N] float32, CUDA, contiguous -> C [M, N]. Any M, N, K >= 0
// (K = 0 gives zeros), each matrix under 2^31 elements; Sgemm::Naive also needs N <= 65535 * 32
// (its grid's y dimension covers the columns). Sgemm::Vectorized also needs A and B to start on
// a 16-byte boundary (a fresh tensor always does; a sliced view may not). A product with more
// rows than one launch's grid covers runs as several launches over blocks of rows.
Tensor sgemm(Sgemm kernel, const Tensor& A, const Tensor& B);

// ============================================================================================
// Task 4: reductions, softmax, layernorm
// ============================================================================================

// Tasks 4.x take float32 CUDA tensors that are contiguous and start on a 16-byte boundary
// (their kernels may use float4 accesses; a fresh tensor always qualifies).

// Task 4.1: the sum of every element of x (any shape, may be empty) as a 0-dim tensor.
Tensor reduce_sum(const Tensor& x);

// Task 4.2: softmax along the last axis. x [..., cols], cols >= 1.
Tensor softmax_rows(const Tensor& x);

// Task 4.3: y = (x - mean) * rstd * gamma + beta along the last axis, with
// mean = sum(x) / cols, var = sum((x - mean)^2) / cols (biased), rstd = 1 / sqrt(var + eps).
// x [..., cols], gamma [cols], beta [cols]; y like x; mean and rstd [...] (x's leading
// shape), saved for the backward pass.
struct LayerNormForward {
  Tensor y, mean, rstd;
};
LayerNormForward layernorm_forward(const Tensor& x, const Tensor& gamma, const Tensor& beta,
                                   float eps = 1e-5f);

// Task 4.4: the gradients of L with respect to x, gamma and beta, given dy = dL/dy and the
// saved mean and rstd of layernorm_forward. dx like x; dgamma, dbeta [cols].
struct LayerNormGrads {
  Tensor dx, dgamma, dbeta;
};
LayerNormGrads layernorm_backward(const Tensor& dy, const Tensor& x, const Tensor& gamma,
                                  const Tensor& mean, const Tensor& rstd);

// ============================================================================================
// Task 5: fused attention
// ============================================================================================

constexpr int kHeadDim = 64;  // d: the only head size the fused kernel supports

// Task 5.1: O = softmax(Q K^T / sqrt(d) [+ causal mask]) V per (batch, head), without ever
// storing the T x T score matrix. q, k, v [B, H, T, d] float32, CUDA, contiguous, d = 64,
// 16-byte aligned -> o [B, H, T, d]. causal: query i sees keys 0..i only.
Tensor attention_forward(const Tensor& q, const Tensor& k, const Tensor& v, bool causal);

// Staff code: the same attention computed naively on the GPU. It materializes the scores
// S [B, H, T, T] (B*H*T*T floats of workspace), softmaxes each row, then multiplies by V. Any
// d (not only 64). The fused kernel is tested against it at sizes the CPU reference is too slow
// for, and the benchmark times against it.
Tensor attention_naive(const Tensor& q, const Tensor& k, const Tensor& v, bool causal);

// ============================================================================================
// Task 6: a fused GEMM epilogue
// ============================================================================================

// Task 6.1: C = relu(A @ B + bias) in one kernel. A [M, K], B [K, N], bias [N] float32, CUDA,
// contiguous, A and B 16-byte aligned -> C [M, N]. Any M, N, K >= 0.
Tensor gemm_bias_relu(const Tensor& A, const Tensor& B, const Tensor& bias);

// ============================================================================================
// The CPU references (plain loops, double accumulation, rounded to float32 at the end)
// ============================================================================================
// Same signatures as the entries above, on CPU tensors (any layout: they read through
// contiguous copies). Slow by design: O(M N K) and O(B H T^2 d) loops for test sizes.
namespace ref {
Tensor sgemm(const Tensor& A, const Tensor& B);
Tensor reduce_sum(const Tensor& x);
Tensor softmax_rows(const Tensor& x);
LayerNormForward layernorm_forward(const Tensor& x, const Tensor& gamma, const Tensor& beta,
                                   float eps = 1e-5f);
LayerNormGrads layernorm_backward(const Tensor& dy, const Tensor& x, const Tensor& gamma,
                                  const Tensor& mean, const Tensor& rstd);
Tensor attention_forward(const Tensor& q, const Tensor& k, const Tensor& v, bool causal);
Tensor gemm_bias_relu(const Tensor& A, const Tensor& B, const Tensor& bias);
}  // namespace ref

}  // namespace pa2::gpu
