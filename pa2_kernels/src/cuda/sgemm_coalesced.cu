// pa2_kernels/src/cuda/sgemm_coalesced.cu — PA2 Task 3.2: SGEMM with coalesced memory access.
// Edit only the marked regions; the rest is given (signatures: src/cuda/launchers.h).
#include "launchers.h"
#include "mlsys/error.h"

namespace pa2::gpu {

// ============================================================================================
// Kernel: C [M, N] = A [M, K] @ B [K, N], one thread per element, coalesced
// ============================================================================================
// Same math and layouts as Task 3.1 (row-major, contiguous), one thread per element of C. The
// only change is which thread gets which element: consecutive threads of a warp must take
// consecutive *columns*,
//   col = blockIdx.x * blockDim.x + threadIdx.x,   row = blockIdx.y * blockDim.y + threadIdx.y
// so that in every step of the k loop the warp reads 32 neighbouring floats of one row of B
// (one 128-byte transaction) and the same element of A (a broadcast), and stores 32
// neighbouring floats of C. Expect several times the speed of Task 3.1 at 1024^3.
//
// Bounds: threads with row >= M or col >= N do nothing. Tests: M, N, K from 1 to a few
// hundred, mostly not multiples of 32.
__global__ void __launch_bounds__(1024)
    sgemm_coalesced_kernel(const float* A, const float* B, float* C, int M, int N, int K) {
  // TODO(student): PA2 Task 3.2 — see handouts/pa2.md#task-32
}

// ============================================================================================
// Launcher
// ============================================================================================
// Launch configuration: block dim3(32, 32), grid dim3(ceil(N / 32), ceil(M / 32)) (x covers
// the columns now), no dynamic shared memory, on `stream`; return cudaGetLastError().
cudaError_t launch_sgemm_coalesced(const float* A, const float* B, float* C, int M, int N,
                                   int K, cudaStream_t stream) {
  // TODO(student): PA2 Task 3.2 — see handouts/pa2.md#task-32
  throw mlsys::NotImplemented("PA2 Task 3.2", "pa2_kernels/src/cuda/sgemm_coalesced.cu", "handouts/pa2.md#task-32");
}

}  // namespace pa2::gpu
