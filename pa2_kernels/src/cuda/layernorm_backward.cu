// pa2_kernels/src/cuda/layernorm_backward.cu — PA2 Task 4.4: layernorm backward.
// Edit only the marked regions; the rest is given (signatures: src/cuda/launchers.h).
#include "launchers.h"
#include "mlsys/error.h"

namespace pa2::gpu {

// dx kernel: one block of kLnBackwardThreads per row; dgamma/dbeta kernel: blocks of
// (kParamCols, kParamRows) threads.
[[maybe_unused]] constexpr int kLnBackwardThreads = 256, kParamCols = 32, kParamRows = 8;

// ============================================================================================
// The math
// ============================================================================================
// Forward (Task 4.3), per row: xhat[j] = (x[j] - mean) * rstd, y[j] = xhat[j] * gamma[j] +
// beta[j]. Given dy = dL/dy, with dxhat[j] = dy[j] * gamma[j]:
//
//   dx[j]     = rstd * (dxhat[j] - mean_k(dxhat[k]) - xhat[j] * mean_k(dxhat[k] * xhat[k]))
//   dgamma[j] = sum over rows of dy[j] * xhat[j]
//   dbeta[j]  = sum over rows of dy[j]
//
// (mean_k is the mean over the cols columns of the row.) dx needs two sums along each row;
// dgamma and dbeta are sums down each column: two different reductions, so two kernels.
//
// Layouts: dy, x, dx [rows, cols]; gamma, dgamma, dbeta [cols]; mean, rstd [rows] (saved by the
// forward pass); contiguous, 16-byte aligned starts. Any rows, cols >= 1. The outputs hold garbage
// when the launcher is called: write every element (or zero them first).
// Tests: rows and cols from 1 to ~2000, cols % 4 != 0 included; compared with a CPU reference of
// the same formulas and with finite differences of the forward pass. The dx bound allows each
// row sum a longest chain of 64 float additions (Higham's gamma_64): a thread's share of the
// row, then the block-wide tree, as planned, stays far below that; one thread summing a whole
// long row serially would not.

// ---- Kernel 1: dx, one block of kLnBackwardThreads threads per row -----------------------------
// Plan: pass 1 accumulates a = dy * gamma and b = dy * gamma * xhat over the thread's elements;
// two block-wide sums (warp shuffles, then shared memory; as in Task 4.3) give every thread
// sum_a and sum_b; pass 2 writes dx[j] = rstd * (a_j - sum_a / cols - xhat_j * sum_b / cols).
//
// Write the __device__ helper functions you need just below (the reference has a block-wide sum of
// two values at once).
// TODO(student): PA2 Task 4.4 — see handouts/pa2.md#task-44

__global__ void layernorm_backward_dx_kernel(const float* __restrict__ dy,
                                             const float* __restrict__ x,
                                             const float* __restrict__ gamma,
                                             const float* __restrict__ mean,
                                             const float* __restrict__ rstd,
                                             float* __restrict__ dx, int cols) {
  // TODO(student): PA2 Task 4.4 — see handouts/pa2.md#task-44
}

// ---- Kernel 2: dgamma and dbeta, column sums ----------------------------------------------------
// Block dim3(kParamCols, kParamRows) = (32, 8), grid ceil(cols / 32): the block owns columns
// c = blockIdx.x * 32 + threadIdx.x. Plan: thread (tx, ty) sums dy * xhat and dy over rows
// ty, ty + 8, ty + 16, ... (a warp reads 32 neighbouring columns of one row: coalesced);
// the 8 partial sums of each column are then added through __shared__ memory and the
// threads with threadIdx.y == 0 write dgamma[c] and dbeta[c] (if c < cols).
__global__ void layernorm_backward_params_kernel(const float* __restrict__ dy,
                                                 const float* __restrict__ x,
                                                 const float* __restrict__ mean,
                                                 const float* __restrict__ rstd,
                                                 float* __restrict__ dgamma,
                                                 float* __restrict__ dbeta, int rows, int cols) {
  // TODO(student): PA2 Task 4.4 — see handouts/pa2.md#task-44
}

// ============================================================================================
// Launcher
// ============================================================================================
// Launch configuration, both on `stream`:
//   dx:            grid = rows blocks of kLnBackwardThreads threads;
//   dgamma, dbeta: grid = ceil(cols / kParamCols) blocks of dim3(kParamCols, kParamRows).
// Return cudaGetLastError() after the second launch.
cudaError_t launch_layernorm_backward(const float* dy, const float* x, const float* gamma,
                                      const float* mean, const float* rstd, float* dx,
                                      float* dgamma, float* dbeta, int rows, int cols,
                                      cudaStream_t stream) {
  // TODO(student): PA2 Task 4.4 — see handouts/pa2.md#task-44
  throw mlsys::NotImplemented("PA2 Task 4.4", "pa2_kernels/src/cuda/layernorm_backward.cu", "handouts/pa2.md#task-44");
}

}  // namespace pa2::gpu
