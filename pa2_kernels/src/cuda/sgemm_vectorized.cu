// pa2_kernels/src/cuda/sgemm_vectorized.cu — PA2 Task 3.6: SGEMM with float4 loads and stores.
// Edit only the marked regions; the rest is given (signatures: src/cuda/launchers.h).
#include "launchers.h"
#include "mlsys/error.h"

namespace pa2::gpu {

// Same tiling as Task 3.5: a 128 x 128 tile of C per block, steps of 8 along K, 8 x 8 outputs
// per thread, 256 threads. kPadA pads the rows of the transposed A tile (see step 2).
[[maybe_unused]] constexpr int kBM = 128, kBN = 128, kBK = 8, kTM = 8, kTN = 8;
[[maybe_unused]] constexpr int kThreadsVec = kBM * kBN / (kTM * kTN);  // 256
[[maybe_unused]] constexpr int kPadA = 4;

// ============================================================================================
// Kernel: C [M, N] = A [M, K] @ B [K, N] with 16-byte (float4) memory accesses
// ============================================================================================
// Layouts as in Task 3.1. Given: A, B and C start on a 16-byte boundary (the entry checks, and
// throws mlsys::Error for a misaligned view). That makes row r of A 16-byte aligned only when
// K % 4 == 0, and rows of B and C only when N % 4 == 0: M, N and K are arbitrary here (tests
// use odd sizes, tiny and large), so every float4 access needs a scalar fallback for the other
// cases and for the ragged edges of the matrices.
//
// Why: Task 3.5 spends many instructions on 4-byte loads and on address arithmetic. One
// LDG.128 / LDS.128 / STG.128 moves 4 floats with one instruction; the inner loop then does
// 64 FMAs per 4 shared loads. Target (benchmark item gpu_sgemm_4096): >= 0.7x cuBLAS SGEMM
// (TF32 off) at 4096^3 on the course GPU.
//
// Plan (what the reference does; steps 5 and 6 are optional refinements):
//   1. Thread layout. Thread t of warp w = t / 32, lane l = t % 32 gets tx = (w % 2) * 8 + l % 8
//      and ty = (w / 2) * 4 + l / 8 (both 0..15): a warp covers a 4 x 8 patch of threads, so
//      its shared-memory reads in step 4 touch few distinct addresses. The thread computes the
//      8 x 8 outputs at rows {ty*4 .. ty*4+3} and {64+ty*4 .. 64+ty*4+3} and columns
//      {tx*4 .. tx*4+3} and {64+tx*4 .. 64+tx*4+3} of the block tile (two float4 per row).
//   2. Shared memory. As[kBK][kBM + kPadA]: the A tile transposed (As[k][m] = A[row0+m, k0+k]);
//      the padding of 4 floats makes the transposed stores of step 3 hit 32 different banks
//      and keeps rows 16-byte aligned. Bs[kBK][kBN]: the B tile as is. Both __align__(16).
//   3. Loading a tile: the A tile (128 x 8) is 256 float4, one per thread: row t / 2, columns
//      (t % 2) * 4 .. + 3, stored transposed with 4 scalar shared stores. The B tile (8 x 128)
//      is 256 float4: row t / 32, columns (t % 32) * 4 .. + 3, stored with one float4 store.
//      A float4 global load is legal only when the row is aligned (K % 4 == 0 for A, N % 4 == 0
//      for B) and all 4 elements are inside the matrix; otherwise load the in-range elements
//      one by one and put 0 for the others (rows >= M, columns >= N, k >= K).
//   4. Compute: for k in 0..7, read a[0..7] as two float4 from As[k][ty*4] and As[k][64+ty*4],
//      b[0..7] as two float4 from Bs[k][tx*4] and Bs[k][64+tx*4], then the 64 FMAs
//      acc[i][j] += a[i] * b[j].
//   5. Double buffering (optional, worth ~10-20%): two copies of As and Bs; while computing on
//      tile t, the global loads of tile t+1 are already in flight into registers; after the
//      compute, store them into the other copy; one __syncthreads() per step instead of two.
//   6. Store: each row of the 8 x 8 block is two float4 stores when N % 4 == 0 and all 4
//      columns are < N; scalar stores otherwise. Skip rows >= M and columns >= N.
// Use __launch_bounds__(256, 2) so that two blocks fit per SM (at most 128 registers each).
//
// Tests: odd and non-square sizes from 1 up to ~1000 (all residues of K and N mod 4), and a
// misaligned view, which the entry must reject before the kernel runs.
//
// Write the __device__ helper functions you need just below (the reference has load4_or_zero and
// store4: a float4 access with a scalar fallback).
// TODO(student): PA2 Task 3.6 — see handouts/pa2.md#task-36

__global__ void __launch_bounds__(kThreadsVec, 2)
    sgemm_vectorized_kernel(const float* __restrict__ A, const float* __restrict__ B,
                            float* __restrict__ C, int M, int N, int K) {
  // TODO(student): PA2 Task 3.6 — see handouts/pa2.md#task-36
}

// ============================================================================================
// Launcher
// ============================================================================================
// Launch configuration: a 1-D block of kThreadsVec = 256 threads, grid dim3(ceil(N / 128),
// ceil(M / 128)), static shared memory only (under 48 KiB), on `stream`; return
// cudaGetLastError().
cudaError_t launch_sgemm_vectorized(const float* A, const float* B, float* C, int M, int N,
                                    int K, cudaStream_t stream) {
  // TODO(student): PA2 Task 3.6 — see handouts/pa2.md#task-36
  throw mlsys::NotImplemented("PA2 Task 3.6", "pa2_kernels/src/cuda/sgemm_vectorized.cu", "handouts/pa2.md#task-36");
}

}  // namespace pa2::gpu
