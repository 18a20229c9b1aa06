// pa2_kernels/src/cuda/sgemm_regtile_1d.cu — PA2 Task 3.4: SGEMM with 1-D register tiling.
// Edit only the marked regions; the rest is given (signatures: src/cuda/launchers.h).
#include "launchers.h"
#include "mlsys/error.h"

namespace pa2::gpu {

// The block tile of C is kBM x kBN; it walks along K in steps of kBK; each thread computes
// kTM elements of one column of the tile. kBM * kBN / kTM = 512 threads per block.
[[maybe_unused]] constexpr int kBM = 64, kBN = 64, kBK = 8, kTM = 8;
[[maybe_unused]] constexpr int kThreads1D = kBM * kBN / kTM;  // 512

// ============================================================================================
// Kernel: C [M, N] = A [M, K] @ B [K, N], each thread computes kTM = 8 elements of C
// ============================================================================================
// Layouts as in Task 3.1. Task 3.3 does 2 shared-memory loads per multiply-add; here each
// value of B loaded from shared memory is reused for kTM = 8 multiply-adds, held in a register.
//
// Block (blockIdx.y, blockIdx.x) computes the 64 x 64 tile of C at row0 = blockIdx.y * 64,
// col0 = blockIdx.x * 64, with a 1-D block of 512 threads. Thread t computes column t % 64 of
// the tile, rows (t / 64) * 8 .. (t / 64) * 8 + 7: eight accumulators in a register array
// `float acc[kTM]` (fully unrolled loops with constant indices keep it in registers).
//
// Plan, for each step k0 = 0, 8, 16, ... < K:
//   1. load the 64 x 8 tile of A (rows row0.., columns k0..) into __shared__ As[64][8] and the
//      8 x 64 tile of B into Bs[8][64]: 512 elements each, exactly one of each per thread
//      (A: thread t takes row t / 8, column t % 8; B: row t / 64, column t % 64). Store 0 for
//      elements outside A or B;
//   2. __syncthreads();
//   3. for k in 0..7: b = Bs[k][my column]; for i in 0..7: acc[i] += As[my first row + i][k] * b;
//   4. __syncthreads().
// Then store the 8 accumulators, skipping rows >= M and columns >= N.
//
// Tests: M, N, K from 1 to a few hundred, mostly not multiples of 64 or 8.
__global__ void __launch_bounds__(kThreads1D)
    sgemm_regtile_1d_kernel(const float* A, const float* B, float* C, int M, int N, int K) {
  // TODO(student): PA2 Task 3.4 — see handouts/pa2.md#task-34
}

// ============================================================================================
// Launcher
// ============================================================================================
// Launch configuration: a 1-D block of kThreads1D = 512 threads, grid dim3(ceil(N / 64),
// ceil(M / 64)), static shared memory only (4 KiB), on `stream`; return cudaGetLastError().
cudaError_t launch_sgemm_regtile_1d(const float* A, const float* B, float* C, int M, int N,
                                    int K, cudaStream_t stream) {
  // TODO(student): PA2 Task 3.4 — see handouts/pa2.md#task-34
  throw mlsys::NotImplemented("PA2 Task 3.4", "pa2_kernels/src/cuda/sgemm_regtile_1d.cu", "handouts/pa2.md#task-34");
}

}  // namespace pa2::gpu
