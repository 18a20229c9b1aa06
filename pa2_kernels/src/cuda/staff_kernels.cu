// Staff kernels of the PA2 GPU track (not a student file): the naive attention that the fused
// kernel (Task 5.1) is tested and timed against, the masked softmax of the unfused cuBLAS
// attention path (benchmark only), and the bias + relu kernel of the unfused GEMM epilogue
// (Task 6.1's baseline). Written for clarity, not speed, except the softmax, which must not
// make the cuBLAS path look worse than it is.
#include <algorithm>
#include <cmath>

#include "launchers.h"

namespace pa2::gpu {
namespace {

constexpr int kNaiveTile = 16;     // 16 x 16 threads per block for the two matmul kernels
constexpr int kRowThreads = 256;   // threads per row for the masked softmax
constexpr unsigned kFullMask = 0xffffffffu;

// ============================================================================================
// Naive attention: S = scale * q k^T (masked), P = softmax(S) row by row, o = P v
// ============================================================================================

// One thread per score: S[h, i, j] = scale * dot(q[h, i, :], k[h, j, :]), -inf above the
// diagonal when causal. grid (ceil(T / 16), ceil(T / 16), BH), block (16, 16).
__global__ void naive_scores_kernel(const float* q, const float* k, float* scores, int T, int d,
                                    float scale, bool causal) {
  const int key = blockIdx.x * kNaiveTile + threadIdx.x;
  const int query = blockIdx.y * kNaiveTile + threadIdx.y;
  if (query >= T || key >= T) return;
  const size_t h = blockIdx.z;
  const float* q_row = q + (h * T + query) * d;
  const float* k_row = k + (h * T + key) * d;
  float dot = 0.0f;
  for (int c = 0; c < d; ++c) dot += q_row[c] * k_row[c];
  scores[(h * T + query) * T + key] = (causal && key > query) ? -INFINITY : dot * scale;
}

// One thread per output: o[h, i, n] = sum_j P[h, i, j] v[h, j, n].
// grid (ceil(d / 16), ceil(T / 16), BH), block (16, 16).
__global__ void naive_pv_kernel(const float* probs, const float* v, float* o, int T, int d) {
  const int n = blockIdx.x * kNaiveTile + threadIdx.x;
  const int query = blockIdx.y * kNaiveTile + threadIdx.y;
  if (query >= T || n >= d) return;
  const size_t h = blockIdx.z;
  const float* p_row = probs + (h * T + query) * T;
  const float* v_head = v + h * T * d;
  float total = 0.0f;
  for (int j = 0; j < T; ++j) total += p_row[j] * v_head[static_cast<size_t>(j) * d + n];
  o[(h * T + query) * d + n] = total;
}

// ---- block-wide max and sum (every thread gets the result) ---------------------------------

template <typename Op>
__device__ float reduce_across_block(float value, Op op, float* slots) {
  for (int width = 16; width >= 1; width >>= 1)
    value = op(value, __shfl_xor_sync(kFullMask, value, width));
  const int lane = threadIdx.x & 31, warp_id = threadIdx.x >> 5;
  __syncthreads();
  if (lane == 0) slots[warp_id] = value;
  __syncthreads();
  value = slots[0];
  for (int w = 1; w < static_cast<int>(blockDim.x >> 5); ++w) value = op(value, slots[w]);
  return value;
}

struct MaxOp {
  __device__ float operator()(float a, float b) const { return fmaxf(a, b); }
};
struct SumOp {
  __device__ float operator()(float a, float b) const { return a + b; }
};

// In place on one row of scores per block (grid = BH * T rows, 256 threads). Keys past the
// query (causal) get probability 0 whatever the score holds, so the input may come from
// cuBLAS (no -inf) or from naive_scores_kernel. Three passes: max, sum, write.
__global__ void masked_softmax_kernel(float* scores, int T, bool causal) {
  __shared__ float slots[32];
  float* row = scores + static_cast<size_t>(blockIdx.x) * T;
  const int visible = causal ? static_cast<int>(blockIdx.x % T) + 1 : T;
  float row_max = -INFINITY;
  for (int j = threadIdx.x; j < visible; j += blockDim.x) row_max = fmaxf(row_max, row[j]);
  row_max = reduce_across_block(row_max, MaxOp{}, slots);
  float row_sum = 0.0f;
  for (int j = threadIdx.x; j < visible; j += blockDim.x) row_sum += expf(row[j] - row_max);
  row_sum = reduce_across_block(row_sum, SumOp{}, slots);
  const float inv_sum = 1.0f / row_sum;
  for (int j = threadIdx.x; j < T; j += blockDim.x)
    row[j] = j < visible ? expf(row[j] - row_max) * inv_sum : 0.0f;
}

// ============================================================================================
// Unfused epilogue: C = relu(C + bias), one thread per element, grid-stride
// ============================================================================================
__global__ void bias_relu_kernel(float* C, const float* bias, int64_t total, int N) {
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t e = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; e < total;
       e += step)
    C[e] = fmaxf(C[e] + bias[e % N], 0.0f);
}

}  // namespace

cudaError_t launch_attention_softmax(float* scores, int BH, int T, bool causal,
                                     cudaStream_t stream) {
  masked_softmax_kernel<<<BH * T, kRowThreads, 0, stream>>>(scores, T, causal);
  return cudaGetLastError();
}

cudaError_t launch_attention_naive(const float* q, const float* k, const float* v, float* o,
                                   float* scores, int BH, int T, int d, bool causal,
                                   cudaStream_t stream) {
  const dim3 tile(kNaiveTile, kNaiveTile);
  const int t_tiles = (T + kNaiveTile - 1) / kNaiveTile;
  naive_scores_kernel<<<dim3(t_tiles, t_tiles, BH), tile, 0, stream>>>(
      q, k, scores, T, d, 1.0f / std::sqrt(static_cast<float>(d)), causal);
  cudaError_t status = cudaGetLastError();
  if (status != cudaSuccess) return status;
  status = launch_attention_softmax(scores, BH, T, causal, stream);
  if (status != cudaSuccess) return status;
  naive_pv_kernel<<<dim3((d + kNaiveTile - 1) / kNaiveTile, t_tiles, BH), tile, 0, stream>>>(
      scores, v, o, T, d);
  return cudaGetLastError();
}

cudaError_t launch_bias_relu(float* C, const float* bias, int M, int N, cudaStream_t stream) {
  const int64_t total = static_cast<int64_t>(M) * N;
  const int64_t blocks = std::min<int64_t>((total + 255) / 256, 65535 * 8);
  bias_relu_kernel<<<static_cast<int>(blocks), 256, 0, stream>>>(C, bias, total, N);
  return cudaGetLastError();
}

}  // namespace pa2::gpu
