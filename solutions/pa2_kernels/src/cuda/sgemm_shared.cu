// pa2_kernels/src/cuda/sgemm_shared.cu — PA2 Task 3.3: SGEMM with shared-memory tiling.
// Edit only the marked regions; the rest is given (signatures: src/cuda/launchers.h).
#include "launchers.h"
#include "mlsys/error.h"

namespace pa2::gpu {

[[maybe_unused]] constexpr int kTile = 32;  // the block computes a kTile x kTile tile of C

// ============================================================================================
// Kernel: C [M, N] = A [M, K] @ B [K, N] through shared-memory tiles
// ============================================================================================
// Layouts as in Task 3.1 (row-major, contiguous). Block (blockIdx.y, blockIdx.x) computes the
// 32 x 32 tile of C starting at row blockIdx.y * 32, column blockIdx.x * 32; thread
// (threadIdx.y, threadIdx.x) computes its element (row = tile row + threadIdx.y, col = tile
// column + threadIdx.x), as in Task 3.2.
//
// Instead of reading A and B from global memory K times per element, the block walks along K
// in steps of 32. In each step:
//   1. every thread loads one element of the 32 x 32 tile of A (rows of the block, columns
//      k0..k0+31) and one of the 32 x 32 tile of B (rows k0..k0+31, columns of the block) into
//      __shared__ arrays, coalesced (threadIdx.x walks along a row). Elements outside A or B
//      (row >= M, col >= N or k >= K) are stored as 0, so the tail of K needs no special case;
//   2. __syncthreads(), so the whole tile is there before anyone reads it;
//   3. each thread accumulates the 32 products of its row of the A tile and its column of
//      the B tile, from shared memory;
//   4. __syncthreads() again, before the next step overwrites the tiles.
// Every global element is now read by a block once per tile instead of 32 times.
//
// Bounds: only elements with row < M and col < N are stored, but *every* thread must take
// part in the loads and reach both __syncthreads() (no early return). Tests: M, N, K from 1
// to a few hundred, mostly not multiples of 32.
__global__ void __launch_bounds__(kTile * kTile)
    sgemm_shared_kernel(const float* A, const float* B, float* C, int M, int N, int K) {
  // BEGIN SOLUTION PA2 Task 3.3 device
  __shared__ float As[kTile][kTile];
  __shared__ float Bs[kTile][kTile];
  const int tx = threadIdx.x, ty = threadIdx.y;
  const int row = blockIdx.y * kTile + ty;
  const int col = blockIdx.x * kTile + tx;
  float acc = 0.0f;
  for (int k0 = 0; k0 < K; k0 += kTile) {
    As[ty][tx] = (row < M && k0 + tx < K) ? A[row * K + k0 + tx] : 0.0f;
    Bs[ty][tx] = (k0 + ty < K && col < N) ? B[(k0 + ty) * N + col] : 0.0f;
    __syncthreads();
    for (int k = 0; k < kTile; ++k) acc += As[ty][k] * Bs[k][tx];
    __syncthreads();
  }
  if (row < M && col < N) C[row * N + col] = acc;
  // END SOLUTION
}

// ============================================================================================
// Launcher
// ============================================================================================
// Launch configuration: block dim3(kTile, kTile), grid dim3(ceil(N / kTile), ceil(M / kTile)),
// static shared memory only (2 x 32 x 32 floats = 8 KiB), on `stream`; return
// cudaGetLastError().
cudaError_t launch_sgemm_shared(const float* A, const float* B, float* C, int M, int N, int K,
                                cudaStream_t stream) {
  // BEGIN SOLUTION PA2 Task 3.3
  const dim3 threads(kTile, kTile);
  const dim3 blocks((N + kTile - 1) / kTile, (M + kTile - 1) / kTile);
  sgemm_shared_kernel<<<blocks, threads, 0, stream>>>(A, B, C, M, N, K);
  return cudaGetLastError();
  // END SOLUTION
}

}  // namespace pa2::gpu
