// pa2_kernels/src/cpu/matmul_simd.cpp — PA2 Task 1.4: packing and a SIMD micro-kernel.
// Edit only the marked regions (four, all Task 1.4); the rest is given.
// Handout: handouts/pa2.md#task-14
//
// The structure is the one every fast CPU GEMM uses (GotoBLAS, BLIS, OpenBLAS, Eigen):
//
//   for jc over N in steps of kNC:                       B block: kKC x kNC   (lives in L3)
//     for pc over K in steps of kKC:     pack_b  ->  Bp
//       for ic over M in steps of kMC:   pack_a  ->  Ap   A block: kMC x kKC   (lives in L2)
//         for jr over the block's columns in steps of kNR:     B panel: kKC x kNR (L1)
//           for ir over the block's rows in steps of kMR:
//             micro_kernel: C[ic+ir : +kMR, jc+jr : +kNR] += A panel @ B panel  (registers)
//
// The micro-kernel keeps a kMR x kNR tile of C in registers for the whole kKC-long loop: per
// step p it loads one row of the B panel (2 vfloats), broadcasts kMR values of the A panel,
// and issues 2 * kMR fused multiply-adds. Packing copies each block once into the exact order
// the micro-kernel reads it (contiguous, zero-padded to whole panels), so the hot loop only
// ever streams through consecutive memory and never needs a bounds check.
// The SIMD vocabulary (vfloat, vload, vstore, vbroadcast, kMR, kNR, the packed layouts) is in
// pa2/cpu.h; read it first.
#include <algorithm>

#include "pa2/cpu.h"

namespace pa2::cpu {

// Block sizes. kKC x kNR floats of B (32 KiB with AVX-512, 16 KiB with AVX2 at kKC = 256)
// stay in L1 while the micro-kernel sweeps down an A block of kMC x kKC floats (120 KiB) held
// in L2. kMC must be a multiple of kMR and kNC of kNR. Tune them if you like.
constexpr int64_t kKC = 256;
constexpr int64_t kMC = 20 * kMR;
constexpr int64_t kNC = 4096;
static_assert(kMC % kMR == 0 && kNC % kNR == 0, "block sizes must be whole panels");

// Packs the mc x kc block of A at `A` (leading dimension lda) into Ap, as ceil(mc / kMR) row
// panels of kMR rows each, k-major inside a panel (the order the micro-kernel reads A):
//
//   Ap[r*kMR*kc + p*kMR + i] = A[(r*kMR + i) * lda + p]    for i < kMR, p < kc
//
// and 0 where r*kMR + i >= mc (the last panel is padded with zero rows, so the micro-kernel
// always computes a full kMR-row tile). Ap has packed_a_size(mc, kc) floats.
// Tests: mc, kc from 1 up, not multiples of kMR; the layout is checked element by element.
void pack_a(const float* A, int64_t lda, int64_t mc, int64_t kc, float* Ap) {
  // BEGIN SOLUTION PA2 Task 1.4
  for (int64_t i0 = 0; i0 < mc; i0 += kMR) {
    const int64_t mr = std::min(kMR, mc - i0);
    for (int64_t p = 0; p < kc; ++p) {
      for (int64_t i = 0; i < mr; ++i) Ap[p * kMR + i] = A[(i0 + i) * lda + p];
      for (int64_t i = mr; i < kMR; ++i) Ap[p * kMR + i] = 0.f;
    }
    Ap += kMR * kc;
  }
  // END SOLUTION
}

// Packs the kc x nc block of B at `B` (leading dimension ldb) into Bp, as ceil(nc / kNR)
// column panels of kNR columns each, one panel row after another:
//
//   Bp[s*kNR*kc + p*kNR + j] = B[p * ldb + s*kNR + j]    for j < kNR, p < kc
//
// and 0 where s*kNR + j >= nc. Bp has packed_b_size(kc, nc) floats.
// Tests: kc, nc from 1 up, not multiples of kNR; the layout is checked element by element.
void pack_b(const float* B, int64_t ldb, int64_t kc, int64_t nc, float* Bp) {
  // BEGIN SOLUTION PA2 Task 1.4
  for (int64_t j0 = 0; j0 < nc; j0 += kNR) {
    const int64_t nr = std::min(kNR, nc - j0);
    for (int64_t p = 0; p < kc; ++p) {
      const float* src = B + p * ldb + j0;
      float* dst = Bp + p * kNR;
      for (int64_t j = 0; j < nr; ++j) dst[j] = src[j];
      for (int64_t j = nr; j < kNR; ++j) dst[j] = 0.f;
    }
    Bp += kNR * kc;
  }
  // END SOLUTION
}

// C[0:mr, 0:nr] += Ap_panel @ Bp_panel, where Ap points at one packed A panel (kc steps of
// kMR floats) and Bp at one packed B panel (kc steps of kNR floats). C has leading dimension
// ldc; 1 <= mr <= kMR and 1 <= nr <= kNR: edge tiles of C are smaller than kMR x kNR, and
// nothing outside C[0:mr, 0:nr] may be read or written (it may be another tile's, or padding).
// Plan:
//   1. acc[kMR][2]: kMR * 2 vfloat accumulators, zero (kMR * kNR floats of C in registers).
//   2. for p < kc: b0, b1 = the two vfloats of Bp[p*kNR ...]; for each row i < kMR:
//      acc[i][0] += Ap[p*kMR + i] * b0 ;  acc[i][1] += Ap[p*kMR + i] * b1    (FMAs)
//      Keep i's loop fixed-length (kMR) so the compiler unrolls it and keeps acc in registers
//      (#pragma GCC unroll 8); never index acc with a run-time value.
//   3. Full tile (mr == kMR && nr == kNR): C row i += acc[i][*] with vload/vstore.
//      Edge tile: store acc to a kMR x kNR float array on the stack, then add only its
//      [0:mr, 0:nr] corner to C with scalar loops.
// Tests: kc from 1 up; full and edge tiles; C's neighbours must be untouched.
// Check the assembly (objdump -d) for vfmadd231ps on zmm (AVX-512) or ymm (AVX2) registers.
void micro_kernel(int64_t kc, const float* Ap, const float* Bp, float* C, int64_t ldc,
                  int64_t mr, int64_t nr) {
  // BEGIN SOLUTION PA2 Task 1.4
  vfloat acc[kMR][2];
#pragma GCC unroll 8
  for (int i = 0; i < kMR; ++i) acc[i][0] = acc[i][1] = vfloat{};
  for (int64_t p = 0; p < kc; ++p) {
    const vfloat b0 = vload(Bp), b1 = vload(Bp + kVecWidth);
#pragma GCC unroll 8
    for (int i = 0; i < kMR; ++i) {
      const float a = Ap[i];
      acc[i][0] += a * b0;
      acc[i][1] += a * b1;
    }
    Ap += kMR;
    Bp += kNR;
  }
  if (mr == kMR && nr == kNR) {
#pragma GCC unroll 8
    for (int i = 0; i < kMR; ++i) {
      float* c = C + i * ldc;
      vstore(c, vload(c) + acc[i][0]);
      vstore(c + kVecWidth, vload(c + kVecWidth) + acc[i][1]);
    }
  } else {
    float tile[kMR][kNR];
    for (int i = 0; i < kMR; ++i) {
      vstore(tile[i], acc[i][0]);
      vstore(tile[i] + kVecWidth, acc[i][1]);
    }
    for (int64_t i = 0; i < mr; ++i)
      for (int64_t j = 0; j < nr; ++j) C[i * ldc + j] += tile[i][j];
  }
  // END SOLUTION
}

// C[M, N] = A[M, K] @ B[K, N] (contract in pa2/cpu.h: row-major, leading dimensions, C
// overwritten, any M, N, K >= 1), single-threaded, with the loop nest at the top of this file.
// Plan:
//   1. Zero C (it may hold NaN on entry); the micro-kernel only ever adds to it.
//   2. Allocate the packing buffers once: AlignedBuffer (pa2/cpu.h) of
//      packed_a_size(min(M, kMC), min(K, kKC)) and packed_b_size(min(K, kKC), min(N, kNC)).
//   3. The five loops above. Panels start at Ap + ir * kc and Bp + jr * kc (ir, jr are
//      multiples of kMR, kNR). The tile at C + (ic + ir) * ldc + jc + jr has
//      mr = min(kMR, mc - ir) rows and nr = min(kNR, nc - jr) columns, where
//      mc = min(kMC, M - ic), nc = min(kNC, N - jc), kc = min(kKC, K - pc).
// Tests: as Task 1.3, plus N > kNC and K > kKC (several blocks in every loop).
void matmul_simd(const float* A, const float* B, float* C, int64_t M, int64_t N, int64_t K,
                 int64_t lda, int64_t ldb, int64_t ldc) {
  check_matmul_args("matmul_simd", A, B, C, M, N, K, lda, ldb, ldc);
  // BEGIN SOLUTION PA2 Task 1.4
  for (int64_t i = 0; i < M; ++i) std::fill(C + i * ldc, C + i * ldc + N, 0.f);
  AlignedBuffer Ap(packed_a_size(std::min(M, kMC), std::min(K, kKC)));
  AlignedBuffer Bp(packed_b_size(std::min(K, kKC), std::min(N, kNC)));
  for (int64_t jc = 0; jc < N; jc += kNC) {
    const int64_t nc = std::min(kNC, N - jc);
    for (int64_t pc = 0; pc < K; pc += kKC) {
      const int64_t kc = std::min(kKC, K - pc);
      pack_b(B + pc * ldb + jc, ldb, kc, nc, Bp.data());
      for (int64_t ic = 0; ic < M; ic += kMC) {
        const int64_t mc = std::min(kMC, M - ic);
        pack_a(A + ic * lda + pc, lda, mc, kc, Ap.data());
        for (int64_t jr = 0; jr < nc; jr += kNR) {
          for (int64_t ir = 0; ir < mc; ir += kMR) {
            micro_kernel(kc, Ap.data() + ir * kc, Bp.data() + jr * kc,
                         C + (ic + ir) * ldc + jc + jr, ldc, std::min(kMR, mc - ir),
                         std::min(kNR, nc - jr));
          }
        }
      }
    }
  }
  // END SOLUTION
}

}  // namespace pa2::cpu
