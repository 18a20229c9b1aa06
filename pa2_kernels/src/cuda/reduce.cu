// pa2_kernels/src/cuda/reduce.cu — PA2 Task 4.1: sum reduction with warp shuffles.
// Edit only the marked regions; the rest is given (signatures: src/cuda/launchers.h).
#include <algorithm>

#include "launchers.h"
#include "mlsys/error.h"

namespace pa2::gpu {

// ============================================================================================
// Kernel: out[blockIdx.x] = sum of this block's share of x[0..n)
// ============================================================================================
// One kernel, launched twice (see the launcher): pass 1 reduces x to one partial sum per
// block, pass 2 (one block) reduces the partial sums to the final value. Deterministic: the
// same input gives the same bits every time (no atomics needed).
//
// Given: x starts on a 16-byte boundary (the entry checks); n >= 1 is arbitrary (int64).
// blockDim.x = kReduceThreads = 256 (a multiple of 32); gridDim.x <= kReduceMaxBlocks.
//
// Plan:
//   1. Grid-stride loop: thread g = blockIdx.x * blockDim.x + threadIdx.x adds up elements
//      g, g + G, g + 2G, ... (G = gridDim.x * blockDim.x) into a float register. For memory
//      bandwidth, read x as float4 (n / 4 of them; the n % 4 leftovers at the end are added by
//      the first threads) and keep several independent loads in flight (e.g. two float4 per
//      iteration): a reduction is limited by DRAM bandwidth, not by arithmetic.
//   2. Warp reduction: v += __shfl_down_sync(0xffffffff, v, offset) for offset = 16, 8, 4, 2, 1
//      leaves the warp's sum in lane 0. No shared memory, no __syncthreads().
//   3. Block reduction: lane 0 of each warp writes its sum to __shared__ float s[32];
//      __syncthreads(); warp 0 reads the blockDim.x / 32 sums and reduces them as in step 2;
//      thread 0 writes out[blockIdx.x].
// Target (benchmark item gpu_reduce): >= 0.8x the bandwidth of cudaMemcpy moving as many
// bytes through DRAM (n floats read vs n / 2 copied).
//
// Tests: n from 1 to 2^24 + 3, including sizes that are not multiples of 4, 32 or 256.
//
// Write the __device__ helper functions you need just below (the reference has warp_sum, step 2).
// TODO(student): PA2 Task 4.1 — see handouts/pa2.md#task-41

__global__ void reduce_sum_kernel(const float* __restrict__ x, int64_t n,
                                  float* __restrict__ out) {
  // TODO(student): PA2 Task 4.1 — see handouts/pa2.md#task-41
}

// ============================================================================================
// Launcher
// ============================================================================================
// Launch configuration:
//   pass 1: blocks = min(kReduceMaxBlocks, ceil(n / (4 * kReduceThreads))), kReduceThreads
//           threads each: partial[0..blocks) = per-block sums of x;
//   pass 2: 1 block of kReduceThreads threads over partial[0..blocks): out[0] = the total.
// Both on `stream` (so pass 2 starts after pass 1 is done); return cudaGetLastError() after the
// second launch. `partial` is 16-byte aligned device scratch of kReduceMaxBlocks floats.
cudaError_t launch_reduce_sum(const float* x, int64_t n, float* out, float* partial,
                              cudaStream_t stream) {
  // TODO(student): PA2 Task 4.1 — see handouts/pa2.md#task-41
  throw mlsys::NotImplemented("PA2 Task 4.1", "pa2_kernels/src/cuda/reduce.cu", "handouts/pa2.md#task-41");
}

}  // namespace pa2::gpu
