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
// BEGIN SOLUTION PA2 Task 3.6 device

// Four consecutive floats p[0..3] of a row in which `valid` elements are left (valid <= 0: none,
// p is not dereferenced): one 16-byte load when the row is aligned and all four are in range,
// else scalar loads with 0 for the elements past the end.
__device__ __forceinline__ float4 load4_or_zero(const float* p, int valid, bool aligned) {
  if (aligned && valid >= 4) return *reinterpret_cast<const float4*>(p);
  float4 v = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
  if (valid > 0) v.x = p[0];
  if (valid > 1) v.y = p[1];
  if (valid > 2) v.z = p[2];
  if (valid > 3) v.w = p[3];
  return v;
}

// Stores v to p[0..3] of a row of C in which `valid` columns are left.
__device__ __forceinline__ void store4(float* p, float4 v, int valid, bool aligned) {
  if (aligned && valid >= 4) {
    *reinterpret_cast<float4*>(p) = v;
    return;
  }
  if (valid > 0) p[0] = v.x;
  if (valid > 1) p[1] = v.y;
  if (valid > 2) p[2] = v.z;
  if (valid > 3) p[3] = v.w;
}
// END SOLUTION

__global__ void __launch_bounds__(kThreadsVec, 2)
    sgemm_vectorized_kernel(const float* __restrict__ A, const float* __restrict__ B,
                            float* __restrict__ C, int M, int N, int K) {
  // BEGIN SOLUTION PA2 Task 3.6 device
  __shared__ __align__(16) float As[2][kBK][kBM + kPadA];
  __shared__ __align__(16) float Bs[2][kBK][kBN];

  const int tid = threadIdx.x, warp = tid / 32, lane = tid % 32;
  const int tx = (warp % 2) * 8 + lane % 8;  // column group: columns tx*4.., 64 + tx*4..
  const int ty = (warp / 2) * 4 + lane / 8;  // row group: rows ty*4.., 64 + ty*4..
  const int row0 = blockIdx.y * kBM, col0 = blockIdx.x * kBN;
  const bool a_aligned = K % 4 == 0, bc_aligned = N % 4 == 0;

  // The float4 of each tile this thread loads (step 3): A[a_row, k0 + a_k ..] and
  // B[k0 + b_k, b_col ..]. The pointers move along K by kBK per tile; a_left / b_rows_left
  // count the elements (rows) of A's row (B's column strip) still inside the matrix.
  const int a_row = tid / 2, a_k = (tid % 2) * 4;
  const int b_k = tid / 32, b_col = (tid % 32) * 4;
  const bool a_row_ok = row0 + a_row < M;
  const float* a_ptr = A + (a_row_ok ? static_cast<size_t>(row0 + a_row) * K + a_k : 0);
  const float* b_ptr = B + static_cast<size_t>(b_k) * N + col0 + b_col;
  int a_left = a_row_ok ? K - a_k : 0;
  int b_rows_left = K - b_k;
  const int b_cols_left = N - (col0 + b_col);
  auto load_next = [&](float4& a, float4& b) {
    a = load4_or_zero(a_ptr, a_left, a_aligned);
    b = load4_or_zero(b_ptr, b_rows_left > 0 ? b_cols_left : 0, bc_aligned);
    a_ptr += kBK;
    a_left -= kBK;
    b_ptr += static_cast<size_t>(kBK) * N;
    b_rows_left -= kBK;
  };
  auto store_tiles = [&](int buf, float4 a, float4 b) {
    As[buf][a_k + 0][a_row] = a.x;
    As[buf][a_k + 1][a_row] = a.y;
    As[buf][a_k + 2][a_row] = a.z;
    As[buf][a_k + 3][a_row] = a.w;
    *reinterpret_cast<float4*>(&Bs[buf][b_k][b_col]) = b;
  };

  float acc[kTM][kTN] = {};
  const int num_tiles = (K + kBK - 1) / kBK;
  float4 a_next, b_next;
  load_next(a_next, b_next);
  store_tiles(0, a_next, b_next);
  __syncthreads();

  for (int t = 0; t < num_tiles; ++t) {
    const int cur = t % 2;
    const bool more = t + 1 < num_tiles;
    if (more) load_next(a_next, b_next);  // in flight during the compute below
#pragma unroll
    for (int k = 0; k < kBK; ++k) {
      const float4 a0 = *reinterpret_cast<const float4*>(&As[cur][k][ty * 4]);
      const float4 a1 = *reinterpret_cast<const float4*>(&As[cur][k][64 + ty * 4]);
      const float4 b0 = *reinterpret_cast<const float4*>(&Bs[cur][k][tx * 4]);
      const float4 b1 = *reinterpret_cast<const float4*>(&Bs[cur][k][64 + tx * 4]);
      const float a[kTM] = {a0.x, a0.y, a0.z, a0.w, a1.x, a1.y, a1.z, a1.w};
      const float b[kTN] = {b0.x, b0.y, b0.z, b0.w, b1.x, b1.y, b1.z, b1.w};
#pragma unroll
      for (int i = 0; i < kTM; ++i)
#pragma unroll
        for (int j = 0; j < kTN; ++j) acc[i][j] += a[i] * b[j];
    }
    // Nobody reads buffer cur ^ 1 during this step (the barrier that ended the previous step
    // saw the last reads of it), so it can be refilled before this step's barrier.
    if (more) store_tiles(cur ^ 1, a_next, b_next);
    __syncthreads();
  }

#pragma unroll
  for (int i = 0; i < kTM; ++i) {
    const int row = row0 + (i < 4 ? ty * 4 + i : 64 + ty * 4 + (i - 4));
    if (row >= M) continue;
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      const int col = col0 + h * 64 + tx * 4;
      const float4 v = make_float4(acc[i][h * 4], acc[i][h * 4 + 1], acc[i][h * 4 + 2],
                                   acc[i][h * 4 + 3]);
      store4(C + static_cast<size_t>(row) * N + col, v, N - col, bc_aligned);
    }
  }
  // END SOLUTION
}

// ============================================================================================
// Launcher
// ============================================================================================
// Launch configuration: a 1-D block of kThreadsVec = 256 threads, grid dim3(ceil(N / 128),
// ceil(M / 128)), static shared memory only (under 48 KiB), on `stream`; return
// cudaGetLastError().
cudaError_t launch_sgemm_vectorized(const float* A, const float* B, float* C, int M, int N,
                                    int K, cudaStream_t stream) {
  // BEGIN SOLUTION PA2 Task 3.6
  const dim3 blocks((N + kBN - 1) / kBN, (M + kBM - 1) / kBM);
  sgemm_vectorized_kernel<<<blocks, kThreadsVec, 0, stream>>>(A, B, C, M, N, K);
  return cudaGetLastError();
  // END SOLUTION
}

}  // namespace pa2::gpu
