// pa2_kernels/src/cuda/sgemm_regtile_2d.cu — PA2 Task 3.5: SGEMM with 2-D register tiling.
// Edit only the marked regions; the rest is given (signatures: src/cuda/launchers.h).
#include "launchers.h"
#include "mlsys/error.h"

namespace pa2::gpu {

// The block tile of C is kBM x kBN; it walks along K in steps of kBK; each thread computes a
// kTM x kTN sub-tile. kBM * kBN / (kTM * kTN) = 256 threads per block.
[[maybe_unused]] constexpr int kBM = 128, kBN = 128, kBK = 8, kTM = 8, kTN = 8;
[[maybe_unused]] constexpr int kThreads2D = kBM * kBN / (kTM * kTN);  // 256

// ============================================================================================
// Kernel: C [M, N] = A [M, K] @ B [K, N], each thread computes an 8 x 8 block of C
// ============================================================================================
// Layouts as in Task 3.1. Task 3.4 reuses each B value 8 times; here each thread holds 8
// values of A and 8 of B in registers per k and does their 64 products (an outer product), so
// every value loaded from shared memory feeds 8 multiply-adds and shared memory stops being
// the bottleneck.
//
// Block (blockIdx.y, blockIdx.x) computes the 128 x 128 tile of C at row0 = blockIdx.y * 128,
// col0 = blockIdx.x * 128, with a 1-D block of 256 threads seen as a 16 x 16 grid: thread t
// has tx = t % 16, ty = t / 16 and computes rows ty * 8 .. ty * 8 + 7, columns
// tx * 8 .. tx * 8 + 7 of the tile, in `float acc[8][8]` (registers: unroll every loop).
//
// Plan:
//   1. __shared__ As[kBK][kBM] holds the 128 x 8 tile of A *transposed* (As[k][m] = A[row0 + m,
//      k0 + k]), so that step 3 reads 8 consecutive floats of one row; Bs[kBK][kBN] holds the
//      8 x 128 tile of B as is;
//   2. for each k0 = 0, 8, ... < K: load both tiles, 1024 elements each, 4 per thread (element
//      i = t, t + 256, t + 512, t + 768 of the tile, in row-major order of A's or B's tile),
//      0 outside A or B; __syncthreads();
//   3. for k in 0..7: a[i] = As[k][ty * 8 + i], b[j] = Bs[k][tx * 8 + j] (8 + 8 registers),
//      then acc[i][j] += a[i] * b[j] for all 64 pairs; __syncthreads();
//   4. store the 64 accumulators, skipping rows >= M and columns >= N.
//
// Tests: M, N, K from 1 to a few hundred, mostly not multiples of 128 or 8.
__global__ void __launch_bounds__(kThreads2D)
    sgemm_regtile_2d_kernel(const float* A, const float* B, float* C, int M, int N, int K) {
  // TODO(student): PA2 Task 3.5 — see handouts/pa2.md#task-35
}

// ============================================================================================
// Launcher
// ============================================================================================
// Launch configuration: a 1-D block of kThreads2D = 256 threads, grid dim3(ceil(N / 128),
// ceil(M / 128)), static shared memory only (8 KiB), on `stream`; return cudaGetLastError().
cudaError_t launch_sgemm_regtile_2d(const float* A, const float* B, float* C, int M, int N,
                                    int K, cudaStream_t stream) {
  // TODO(student): PA2 Task 3.5 — see handouts/pa2.md#task-35
  throw mlsys::NotImplemented("PA2 Task 3.5", "pa2_kernels/src/cuda/sgemm_regtile_2d.cu", "handouts/pa2.md#task-35");
}

}  // namespace pa2::gpu
