// pa2/cpu.h — PA2 CPU track: matmul from a naive loop to a packed, SIMD, multi-threaded
// kernel, and fused row-wise softmax and layernorm.
//
// Three layers, as everywhere in PA2 (see pa2/common.h for the conventions):
//   1. kernels on raw pointers (row-major, explicit leading dimensions). The student files
//      under pa2_kernels/src/cpu/ implement them, one task per file, with the full contract
//      written above each TODO region;
//   2. the staff reference of each kernel, same signature, in namespace pa2::cpu::reference
//      (plain loops, double accumulation: slow and obviously right);
//   3. tensor-level entries (pa2::cpu::matmul, softmax, layernorm) that validate shapes,
//      dtypes and devices, then call a kernel.
// Headers are not student-editable: they fix every signature.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <mutex>

#include "mlsys/tensor.h"
#include "pa2/common.h"

namespace pa2::cpu {

// ============================================================================================
// Matmul kernels: C[M, N] = A[M, K] @ B[K, N]                                   (Tasks 1.1–1.5)
// ============================================================================================
// Shared contract of the five kernels (and of reference::matmul):
//   A: M x K, element (i, p) at A[i * lda + p], lda >= K     (read only)
//   B: K x N, element (p, j) at B[p * ldb + j], ldb >= N     (read only)
//   C: M x N, element (i, j) at C[i * ldc + j], ldc >= N     (overwritten: its old contents,
//      NaN included, must not leak into the result; the padding columns N..ldc-1 of each
//      row of A, B and C belong to someone else and must be neither read nor written)
//   M, N, K >= 1, any values (1, primes, not multiples of any tile); C overlaps neither A
//   nor B. The kernels start with check_matmul_args() (given), which enforces all of this.
// Tasks 1.1–1.4 run on one thread; Task 1.5 uses every OpenMP thread.
void matmul_naive(const float* A, const float* B, float* C, int64_t M, int64_t N, int64_t K,
                  int64_t lda, int64_t ldb, int64_t ldc);  // Task 1.1, matmul_naive.cpp
void matmul_reorder(const float* A, const float* B, float* C, int64_t M, int64_t N, int64_t K,
                    int64_t lda, int64_t ldb, int64_t ldc);  // Task 1.2, matmul_reorder.cpp
void matmul_tiled(const float* A, const float* B, float* C, int64_t M, int64_t N, int64_t K,
                  int64_t lda, int64_t ldb, int64_t ldc);  // Task 1.3, matmul_tiled.cpp
void matmul_simd(const float* A, const float* B, float* C, int64_t M, int64_t N, int64_t K,
                 int64_t lda, int64_t ldb, int64_t ldc);  // Task 1.4, matmul_simd.cpp
void matmul_parallel(const float* A, const float* B, float* C, int64_t M, int64_t N, int64_t K,
                     int64_t lda, int64_t ldb, int64_t ldc);  // Task 1.5, matmul_parallel.cpp

// ============================================================================================
// SIMD vocabulary for Tasks 1.4 and 1.5: GCC/Clang vector extensions
// ============================================================================================
// `vfloat` is kVecWidth floats that the compiler keeps in one SIMD register: 16 with AVX-512,
// 8 with AVX/AVX2, 4 otherwise (SSE2 on x86-64, NEON on ARM). The width follows the flags
// this file is compiled with (-march=native by default, see docs/BUILD.md), so the same
// source is an AVX-512, AVX2 or SSE kernel. Arithmetic is elementwise, and a scalar operand
// is broadcast:  acc += a * b  with float a and vfloat acc, b is one fused multiply-add
// (vfmadd231ps) on each lane, because pa2_cpu is compiled with -ffp-contract=fast.
// We use vector extensions rather than intrinsics (_mm256_fmadd_ps, ...) so that one kernel
// serves every ISA; the instructions they become are exactly those intrinsics.
#if defined(__AVX512F__)
inline constexpr int kVecWidth = 16;
#elif defined(__AVX__)
inline constexpr int kVecWidth = 8;
#else
inline constexpr int kVecWidth = 4;
#endif
typedef float vfloat __attribute__((vector_size(kVecWidth * sizeof(float))));

// Loads/stores kVecWidth consecutive floats; p needs no particular alignment.
inline vfloat vload(const float* p) {
  vfloat v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void vstore(float* p, vfloat v) { std::memcpy(p, &v, sizeof v); }
inline vfloat vbroadcast(float x) { return vfloat{} + x; }  // every lane = x
inline vfloat vmax(vfloat a, vfloat b) { return a > b ? a : b; }  // lane-wise
inline float hsum(vfloat v) {  // the sum of the lanes
  float s = 0.f;
  for (int i = 0; i < kVecWidth; ++i) s += v[i];
  return s;
}
inline float hmax(vfloat v) {  // the largest lane
  float m = v[0];
  for (int i = 1; i < kVecWidth; ++i) m = v[i] > m ? v[i] : m;
  return m;
}

// exp of every lane, for Task 2.1 (a loop of std::exp is scalar and would make softmax
// compute-bound). Within 2 ulp of std::exp for x in [-87.3, 88]; larger x saturate at e^88,
// smaller x (-inf included) give 0. The classic recipe (Cephes expf): e^x = 2^n * e^r with
// n = round(x / ln 2) and |r| <= ln(2)/2, e^r = 1 + r + r^2 P(r) with a degree-5 P, 2^n built in the
// exponent bits of a float.
inline vfloat vexp(vfloat x) {
  typedef int32_t vint __attribute__((vector_size(sizeof(vfloat))));
  const vfloat lo = vbroadcast(-87.33654f), hi = vbroadcast(88.0f);
  vfloat xc = x < lo ? lo : (x > hi ? hi : x);
  // n = round(x * log2(e)): adding 1.5 * 2^23 pushes the fraction bits out (round to nearest).
  const float round_magic = 12582912.0f;
  vfloat n = (xc * 1.44269504088896341f + round_magic) - round_magic;
  vfloat r = xc - n * 0.693359375f + n * 2.12194440e-4f;  // x - n ln2, ln2 split hi + lo
  vfloat p = vbroadcast(1.9875691500e-4f);
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * (r * r) + r + 1.0f;
  vint bits = (__builtin_convertvector(n, vint) + 127) << 23;  // the float 2^n
  vfloat scale;
  std::memcpy(&scale, &bits, sizeof scale);
  vfloat result = p * scale;
  return x < lo ? vfloat{} : result;
}

// The register tile of the micro-kernel: kMR rows x kNR columns of C (6 x 32 with AVX-512,
// 6 x 16 with AVX2), held in kMR * 2 vfloat accumulators.
inline constexpr int64_t kMR = 6;
inline constexpr int64_t kNR = 2 * kVecWidth;

inline int64_t round_up(int64_t x, int64_t multiple) { return (x + multiple - 1) / multiple * multiple; }

// Floats needed by pack_a(mc, kc) and pack_b(kc, nc) (rows/columns padded with zeros up to a
// multiple of kMR/kNR).
inline int64_t packed_a_size(int64_t mc, int64_t kc) { return round_up(mc, kMR) * kc; }
inline int64_t packed_b_size(int64_t kc, int64_t nc) { return round_up(nc, kNR) * kc; }

// The building blocks of Task 1.4 (matmul_simd.cpp), reused by Task 1.5. Layouts:
//   pack_a: the mc x kc block at A (leading dim lda) -> ceil(mc/kMR) row panels; panel r holds
//           rows r*kMR .. r*kMR+kMR-1, stored k-major: Ap[r*kMR*kc + p*kMR + i] = A[(r*kMR+i)*lda + p]
//           (rows past mc are zeros).
//   pack_b: the kc x nc block at B (leading dim ldb) -> ceil(nc/kNR) column panels; panel s
//           holds columns s*kNR .. s*kNR+kNR-1: Bp[s*kNR*kc + p*kNR + j] = B[p*ldb + s*kNR+j]
//           (columns past nc are zeros).
//   micro_kernel: C[0:mr, 0:nr] += (one packed A panel) @ (one packed B panel), both kc deep;
//           1 <= mr <= kMR, 1 <= nr <= kNR; C has leading dim ldc; nothing outside
//           C[0:mr, 0:nr] is read or written.
void pack_a(const float* A, int64_t lda, int64_t mc, int64_t kc, float* Ap);
void pack_b(const float* B, int64_t ldb, int64_t kc, int64_t nc, float* Bp);
void micro_kernel(int64_t kc, const float* Ap, const float* Bp, float* C, int64_t ldc,
                  int64_t mr, int64_t nr);

// A heap array of floats aligned to 64 bytes (a cache line, and one AVX-512 register), for
// packing buffers. Not initialized.
class AlignedBuffer {
 public:
  explicit AlignedBuffer(int64_t count)
      : data_(static_cast<float*>(std::aligned_alloc(
            64, static_cast<size_t>(round_up(count > 0 ? count : 1, 16)) * sizeof(float)))) {
    if (!data_) PA2_FAIL("AlignedBuffer", "out of memory allocating ", count, " floats");
  }
  float* data() const { return data_.get(); }

 private:
  struct Free {
    void operator()(float* p) const { std::free(p); }
  };
  std::unique_ptr<float, Free> data_;
};

// An exception must not escape an OpenMP parallel region: the program would abort. Inside a
// region, run each piece of work through errors.run([&] { ... }), which keeps the first
// exception any thread throws; after the region, errors.rethrow(). (Task 1.5 needs it: the
// Task 1.4 functions it calls throw mlsys::NotImplemented until they are written.)
class ThreadErrors {
 public:
  template <typename Fn>
  void run(Fn&& fn) noexcept {
    try {
      fn();
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!first_) first_ = std::current_exception();
    }
  }
  void rethrow() const {
    if (first_) std::rethrow_exception(first_);
  }

 private:
  std::mutex mutex_;
  std::exception_ptr first_;
};

// ============================================================================================
// Row-wise ops                                                                  (Tasks 2.1, 2.2)
// ============================================================================================
// x: rows x cols at x[r * ldx + c], ldx >= cols; y likewise with ldy. rows, cols >= 1.
// y may be the same array as x (in place, then ldy == ldx); otherwise they do not overlap.

// Task 2.1 (softmax.cpp): y[r, :] = exp(x[r, :] - max_r) / sum(exp(x[r, :] - max_r)).
// Entries may be -inf (masked out); every row has at least one finite entry.
void softmax_forward(const float* x, float* y, int64_t rows, int64_t cols, int64_t ldx,
                     int64_t ldy);

// Task 2.2 (layernorm.cpp): per row, mu = mean(x[r, :]), var = mean((x[r, :] - mu)^2)
// (biased, as PyTorch), rstd = 1 / sqrt(var + eps), y[r, c] = (x[r, c] - mu) * rstd * gamma[c]
// + beta[c]. gamma, beta: cols floats. mean, rstd: rows floats each, written when not null
// (the backward pass needs them).
void layernorm_forward(const float* x, const float* gamma, const float* beta, float* y,
                       float* mean, float* rstd, int64_t rows, int64_t cols, int64_t ldx,
                       int64_t ldy, float eps);

// ============================================================================================
// Staff references: same signatures and contracts, plain loops in double
// ============================================================================================
namespace reference {
void matmul(const float* A, const float* B, float* C, int64_t M, int64_t N, int64_t K,
            int64_t lda, int64_t ldb, int64_t ldc);
void softmax_forward(const float* x, float* y, int64_t rows, int64_t cols, int64_t ldx,
                     int64_t ldy);
void layernorm_forward(const float* x, const float* gamma, const float* beta, float* y,
                       float* mean, float* rstd, int64_t rows, int64_t cols, int64_t ldx,
                       int64_t ldy, float eps);
}  // namespace reference

// ============================================================================================
// Argument checks (staff code; the first line of every kernel)
// ============================================================================================
// Each throws mlsys::Error naming `op`, the argument, what was expected and what was given:
//   pa2::matmul_tiled: argument 'ldb' expected >= N = 40, got 32
void check_matmul_args(const char* op, const float* A, const float* B, const float* C,
                       int64_t M, int64_t N, int64_t K, int64_t lda, int64_t ldb, int64_t ldc);
void check_rowwise_args(const char* op, const float* x, const float* y, int64_t rows,
                        int64_t cols, int64_t ldx, int64_t ldy);
void check_layernorm_args(const char* op, const float* x, const float* gamma,
                          const float* beta, const float* y, const float* mean,
                          const float* rstd, int64_t rows, int64_t cols, int64_t ldx,
                          int64_t ldy, float eps);

// ============================================================================================
// Tensor-level entries: validate, then call a kernel
// ============================================================================================
// Inputs: float32 CPU tensors. A 2-D input whose rows are evenly strided with unit column
// stride (a contiguous matrix, or a column slice of one) is passed to the kernel as is, with
// its row stride as the leading dimension; anything else is made contiguous first.

enum class MatmulStep { Reference, Naive, Reorder, Tiled, Simd, Parallel };
const char* to_string(MatmulStep step);  // "naive", ... (the benchmark's item names)

// a [M, K] @ b [K, N] -> a new [M, N]. Empty shapes (M, N or K = 0) give an [M, N] of zeros
// without calling a kernel.
mlsys::Tensor matmul(const mlsys::Tensor& a, const mlsys::Tensor& b,
                     MatmulStep step = MatmulStep::Parallel);

enum class Impl { Fused, Reference };  // the student's kernel (Task 2.x) or the staff one

// Softmax over the last axis of x (any rank >= 1) -> a new tensor of x's shape.
mlsys::Tensor softmax(const mlsys::Tensor& x, Impl impl = Impl::Fused);

// LayerNorm over the last axis: x [..., C], gamma [C], beta [C] -> a new tensor of x's shape.
mlsys::Tensor layernorm(const mlsys::Tensor& x, const mlsys::Tensor& gamma,
                        const mlsys::Tensor& beta, float eps = 1e-5f, Impl impl = Impl::Fused);

}  // namespace pa2::cpu
