// Internal: the launchers of the PA2 GPU kernels, between the tensor-level entries
// (entry.cpp, which validates) and the kernels (one student file per task). Staff header: it
// fixes every signature, so a student file that changes one fails to link.
//
// Every launcher takes raw device pointers and sizes that the entry has already checked,
// enqueues its kernel(s) on `stream`, and returns the launch status (cudaGetLastError() right
// after the last launch) without waiting. Pointers never alias unless stated. All tensors are
// row-major and contiguous.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace pa2::gpu {

// ---- Task 3: SGEMM ---------------------------------------------------------------------------
// C [M, N] = A [M, K] @ B [K, N]. M, N, K >= 1, each matrix has fewer than 2^31 elements (int
// index math is safe). C is overwritten. M <= 2,097,024 (the entry splits a taller product
// into several launches over row blocks), so ceil(M / 32) fits the grid's y dimension (65535);
// for Task 3.1, whose y dimension covers the columns, the entry also keeps N <= 65535 * 32.
cudaError_t launch_sgemm_naive(const float* A, const float* B, float* C, int M, int N, int K,
                               cudaStream_t stream);  // Task 3.1
cudaError_t launch_sgemm_coalesced(const float* A, const float* B, float* C, int M, int N,
                                   int K, cudaStream_t stream);  // Task 3.2
cudaError_t launch_sgemm_shared(const float* A, const float* B, float* C, int M, int N, int K,
                                cudaStream_t stream);  // Task 3.3
cudaError_t launch_sgemm_regtile_1d(const float* A, const float* B, float* C, int M, int N,
                                    int K, cudaStream_t stream);  // Task 3.4
cudaError_t launch_sgemm_regtile_2d(const float* A, const float* B, float* C, int M, int N,
                                    int K, cudaStream_t stream);  // Task 3.5
// Task 3.6. A, B and C also start on a 16-byte boundary.
cudaError_t launch_sgemm_vectorized(const float* A, const float* B, float* C, int M, int N,
                                    int K, cudaStream_t stream);

// ---- Task 4: reductions, softmax, layernorm ---------------------------------------------------
// Task 4.1: *out = sum of x[0..n). n >= 1. `partial` is device scratch of
// kReduceMaxBlocks floats for the per-block sums of the first pass.
constexpr int kReduceThreads = 256;
constexpr int kReduceMaxBlocks = 1024;
cudaError_t launch_reduce_sum(const float* x, int64_t n, float* out, float* partial,
                              cudaStream_t stream);

// Task 4.2: y [rows, cols] = softmax of each row of x [rows, cols]. rows, cols >= 1.
cudaError_t launch_softmax_rows(const float* x, float* y, int rows, int cols, cudaStream_t stream);

// Task 4.3: layernorm of each row of x [rows, cols]; y [rows, cols], mean [rows], rstd [rows].
cudaError_t launch_layernorm_forward(const float* x, const float* gamma, const float* beta,
                                     float* y, float* mean, float* rstd, int rows, int cols,
                                     float eps, cudaStream_t stream);

// Task 4.4: dx [rows, cols], dgamma [cols], dbeta [cols] from dy, x [rows, cols], gamma [cols]
// and the saved mean, rstd [rows]. The outputs hold garbage on entry: every element must be
// written.
cudaError_t launch_layernorm_backward(const float* dy, const float* x, const float* gamma,
                                      const float* mean, const float* rstd, float* dx,
                                      float* dgamma, float* dbeta, int rows, int cols,
                                      cudaStream_t stream);

// ---- Task 5: attention ------------------------------------------------------------------------
// Task 5.1: o [BH, T, 64] = softmax(q k^T / 8 [+ causal mask]) v for each of the BH heads;
// q, k, v, o [BH, T, 64], 16-byte aligned. BH in [1, 65535], T >= 1.
cudaError_t launch_attention_forward(const float* q, const float* k, const float* v, float* o,
                                     int BH, int T, bool causal, cudaStream_t stream);

// Staff: the naive three-kernel attention (any head size d). `scores` is workspace of
// BH * T * T floats; on return it holds the probabilities P.
cudaError_t launch_attention_naive(const float* q, const float* k, const float* v, float* o,
                                   float* scores, int BH, int T, int d, bool causal,
                                   cudaStream_t stream);
// Staff: the middle step of the unfused attention, in place on already scaled scores
// [BH, T, T]: masks (when causal) and softmaxes each row. One block per row, 256 threads.
cudaError_t launch_attention_softmax(float* scores, int BH, int T, bool causal,
                                     cudaStream_t stream);

// ---- Task 6: fused epilogue -------------------------------------------------------------------
// Task 6.1: C [M, N] = relu(A [M, K] @ B [K, N] + bias [N]). A, B, C 16-byte aligned. Sizes
// as for Task 3 (M <= 2,097,024: the entry splits taller products).
cudaError_t launch_gemm_bias_relu(const float* A, const float* B, const float* bias, float* C,
                                  int M, int N, int K, cudaStream_t stream);
// Staff: the unfused epilogue, in place: C[i, j] = relu(C[i, j] + bias[j]).
cudaError_t launch_bias_relu(float* C, const float* bias, int M, int N, cudaStream_t stream);

}  // namespace pa2::gpu
