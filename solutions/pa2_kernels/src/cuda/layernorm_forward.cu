// pa2_kernels/src/cuda/layernorm_forward.cu — PA2 Task 4.3: layernorm forward.
// Edit only the marked regions; the rest is given (signatures: src/cuda/launchers.h).
#include <cmath>

#include "launchers.h"
#include "mlsys/error.h"

namespace pa2::gpu {

[[maybe_unused]] constexpr int kLayerNormThreads = 256;  // one block per row

// ============================================================================================
// Kernel: layernorm of row blockIdx.x of x [rows, cols]
// ============================================================================================
//   mean = sum_j x[j] / cols
//   var  = sum_j (x[j] - mean)^2 / cols          (biased, as in PyTorch's LayerNorm)
//   rstd = 1 / sqrt(var + eps)
//   y[j] = (x[j] - mean) * rstd * gamma[j] + beta[j]
// and mean[row], rstd[row] are saved for the backward pass (Task 4.4).
//
// Layouts: x, y [rows, cols], gamma, beta [cols], mean, rstd [rows]; contiguous; x, y, gamma and
// beta start on a 16-byte boundary (the entry checks), so rows are 16-byte aligned when
// cols % 4 == 0. Any cols >= 1.
//
// Plan (one block of kLayerNormThreads threads per row):
//   1. A block-wide sum helper: warp sum with __shfl_xor_sync (every lane gets the total), then
//      the per-warp totals through __shared__ float[32], then a second warp sum so that every
//      thread returns the block total. Start it with a __syncthreads() so that calling it twice
//      in a row cannot overwrite the shared array while another warp still reads it.
//   2. Pass 1: each thread sums its elements (j = threadIdx.x, + blockDim.x, ...; float4 when
//      cols % 4 == 0); block sum -> mean.
//   3. Pass 2: sum of (x[j] - mean)^2 -> var. Two passes rather than E[x^2] - mean^2, which
//      cancels catastrophically when |mean| >> std (tests use mean 1000, std 1).
//   4. Pass 3: write y; thread 0 writes mean[row] and rstd[row].
// Target (benchmark item gpu_layernorm, [4096, 4096]): >= 0.8x cudaMemcpy bandwidth (the row
// is re-read from cache in passes 2 and 3).
// Tests: cols from 1 to 5000 (cols % 4 != 0 included), rows from 1 to 4096, eps 1e-5 and 1e-2.
// Their error bounds allow each row sum a longest chain of 64 float additions (gamma_64): the
// plan's per-thread share of a row plus the block-wide tree stays far below that.
//
// Write the __device__ helper functions you need just below (the reference has a warp sum and the
// block sum of step 1).
// BEGIN SOLUTION PA2 Task 4.3 device

__device__ __forceinline__ float warp_allsum(float v) {
#pragma unroll
  for (int offset = 16; offset > 0; offset /= 2) v += __shfl_xor_sync(0xffffffffu, v, offset);
  return v;
}

// The sum of v over the block, returned to every thread. `scratch` is __shared__ float[32].
__device__ float block_allsum(float v, float* scratch) {
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  v = warp_allsum(v);
  __syncthreads();  // a previous call may still be reading scratch
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  v = lane < static_cast<int>(blockDim.x / 32) ? scratch[lane] : 0.0f;
  return warp_allsum(v);
}
// END SOLUTION

__global__ void layernorm_forward_kernel(const float* __restrict__ x,
                                         const float* __restrict__ gamma,
                                         const float* __restrict__ beta, float* __restrict__ y,
                                         float* __restrict__ mean, float* __restrict__ rstd,
                                         int cols, float eps) {
  // BEGIN SOLUTION PA2 Task 4.3 device
  __shared__ float scratch[32];
  const size_t row = blockIdx.x;
  const float* xr = x + row * cols;
  float* yr = y + row * cols;
  const bool vec = cols % 4 == 0;
  const int cols4 = cols / 4;
  const float4* x4 = reinterpret_cast<const float4*>(xr);

  float s = 0.0f;
  if (vec) {
    for (int j = threadIdx.x; j < cols4; j += blockDim.x) {
      const float4 v = x4[j];
      s += (v.x + v.y) + (v.z + v.w);
    }
  } else {
    for (int j = threadIdx.x; j < cols; j += blockDim.x) s += xr[j];
  }
  const float mu = block_allsum(s, scratch) / cols;

  float ss = 0.0f;
  if (vec) {
    for (int j = threadIdx.x; j < cols4; j += blockDim.x) {
      const float4 v = x4[j];
      const float a = v.x - mu, b = v.y - mu, c = v.z - mu, d = v.w - mu;
      ss += (a * a + b * b) + (c * c + d * d);
    }
  } else {
    for (int j = threadIdx.x; j < cols; j += blockDim.x) {
      const float a = xr[j] - mu;
      ss += a * a;
    }
  }
  const float rs = 1.0f / sqrtf(block_allsum(ss, scratch) / cols + eps);

  if (vec) {
    const float4* g4 = reinterpret_cast<const float4*>(gamma);
    const float4* b4 = reinterpret_cast<const float4*>(beta);
    float4* y4 = reinterpret_cast<float4*>(yr);
    for (int j = threadIdx.x; j < cols4; j += blockDim.x) {
      const float4 v = x4[j], g = g4[j], b = b4[j];
      y4[j] = make_float4((v.x - mu) * rs * g.x + b.x, (v.y - mu) * rs * g.y + b.y,
                          (v.z - mu) * rs * g.z + b.z, (v.w - mu) * rs * g.w + b.w);
    }
  } else {
    for (int j = threadIdx.x; j < cols; j += blockDim.x)
      yr[j] = (xr[j] - mu) * rs * gamma[j] + beta[j];
  }
  if (threadIdx.x == 0) {
    mean[row] = mu;
    rstd[row] = rs;
  }
  // END SOLUTION
}

// ============================================================================================
// Launcher
// ============================================================================================
// Launch configuration: grid = rows blocks, kLayerNormThreads threads each, static shared
// memory only, on `stream`; return cudaGetLastError().
cudaError_t launch_layernorm_forward(const float* x, const float* gamma, const float* beta,
                                     float* y, float* mean, float* rstd, int rows, int cols,
                                     float eps, cudaStream_t stream) {
  // BEGIN SOLUTION PA2 Task 4.3
  layernorm_forward_kernel<<<rows, kLayerNormThreads, 0, stream>>>(x, gamma, beta, y, mean,
                                                                   rstd, cols, eps);
  return cudaGetLastError();
  // END SOLUTION
}

}  // namespace pa2::gpu
