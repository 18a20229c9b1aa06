// pa2_kernels/src/cuda/sgemm_naive.cu — PA2 Task 3.1: naive SGEMM, one thread per element of C.
// Edit only the marked regions; the rest is given (signatures: src/cuda/launchers.h).
#include "launchers.h"
#include "mlsys/error.h"

namespace pa2::gpu {

// ============================================================================================
// Kernel: C [M, N] = A [M, K] @ B [K, N]
// ============================================================================================
// Row-major and contiguous: A[row, k] is A[row * K + k], B[k, col] is B[k * N + col], C[row,
// col] is C[row * N + col]. Each thread computes one element of C: the dot product of row
// `row` of A with column `col` of B, accumulated in a float register, then one store.
//
// The mapping of threads to elements is fixed, because changing it is Task 3.2:
//   row = blockIdx.x * blockDim.x + threadIdx.x      (x walks down the rows of C)
//   col = blockIdx.y * blockDim.y + threadIdx.y
// The 32 threads of a warp (consecutive threadIdx.x) therefore take 32 consecutive rows: their
// loads of A are K floats apart and their stores to C are N floats apart. Correct, but slow;
// measure it before you fix it.
//
// Bounds: the grid is rounded up to whole blocks, so threads with row >= M or col >= N must do
// nothing. Tests use M, N, K from 1 to a few hundred, most of them not multiples of 32.
__global__ void __launch_bounds__(1024)
    sgemm_naive_kernel(const float* A, const float* B, float* C, int M, int N, int K) {
  // BEGIN SOLUTION PA2 Task 3.1 device
  const int row = blockIdx.x * blockDim.x + threadIdx.x;
  const int col = blockIdx.y * blockDim.y + threadIdx.y;
  if (row >= M || col >= N) return;
  float acc = 0.0f;
  for (int k = 0; k < K; ++k) acc += A[row * K + k] * B[k * N + col];
  C[row * N + col] = acc;
  // END SOLUTION
}

// ============================================================================================
// Launcher
// ============================================================================================
// Launch configuration: block dim3(32, 32) (1024 threads), grid dim3(ceil(M / 32),
// ceil(N / 32)), no dynamic shared memory, on `stream`. Return cudaGetLastError() right after
// the launch: a bad configuration is reported there. Do not synchronize.
cudaError_t launch_sgemm_naive(const float* A, const float* B, float* C, int M, int N, int K,
                               cudaStream_t stream) {
  // BEGIN SOLUTION PA2 Task 3.1
  const dim3 threads(32, 32);
  const dim3 blocks((M + 31) / 32, (N + 31) / 32);
  sgemm_naive_kernel<<<blocks, threads, 0, stream>>>(A, B, C, M, N, K);
  return cudaGetLastError();
  // END SOLUTION
}

}  // namespace pa2::gpu
