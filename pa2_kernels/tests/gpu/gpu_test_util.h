// Helpers shared by the PA2 GPU-track tests (public and hidden): random inputs, a check against
// an elementwise error bound, and the fp32 rounding bounds the checks use.
//
// Error bounds. The kernels compute in float32, the references in double. For a sum of n
// rounded terms, in ANY order (sequential, tree, warp shuffles, atomics), the classic bound is
//
//   |fl(sum_i x_i) - sum_i x_i| <= gamma_n * sum_i |x_i|,   gamma_n = n u / (1 - n u),
//
// with u = 2^-24 (Higham, "Accuracy and Stability of Numerical Algorithms", 2nd ed., §3.1). A
// dot product of length K is within gamma_K * sum_k |a_k b_k|: so C = A @ B is within
// gamma_K * (|A| @ |B|) elementwise, which tests compute exactly for every element. A bug
// (a wrong index, a missing tail, a race) gives errors of the size of the values themselves,
// orders of magnitude above these bounds.
#pragma once

#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "mlsys/ops.h"
#include "mlsys/testing.h"
#include "pa2/gpu.h"

namespace pa2::gpu::test {

using mlsys::Shape;
using mlsys::Tensor;

constexpr double kUnitRoundoff = 1.0 / (1 << 24);  // u = 2^-24 for float32

inline double gamma_n(double n) { return n * kUnitRoundoff / (1.0 - n * kUnitRoundoff); }

// Uniform in [lo, hi), on the CPU; seeded, so the same on every machine.
inline Tensor uniform(Shape shape, uint64_t seed, float lo = -1.0f, float hi = 1.0f) {
  return mlsys::rand(std::move(shape), seed, lo, hi);
}

inline std::string index_string(const Shape& shape, int64_t flat) {
  std::vector<int64_t> idx(shape.size());
  for (int64_t d = static_cast<int64_t>(shape.size()) - 1; d >= 0; --d) {
    idx[d] = flat % shape[d];
    flat /= shape[d];
  }
  std::ostringstream os;
  os << "[";
  for (size_t d = 0; d < idx.size(); ++d) os << (d ? ", " : "") << idx[d];
  os << "]";
  return os.str();
}

// |actual - expected| <= bound, elementwise. Same shapes; any devices (copied to the CPU).
// A failure prints the count, the first mismatches with their indices, the largest error and
// the largest error / bound ratio, then the hint.
//
// Records `actual` for the official grader (mlsys/recording.h), with one absolute tolerance:
// the largest element of `bound`. A correct result and the reference solution's are both
// within bound[i] of `expected`, so within 2 * max(bound) of each other, which is what the
// grader allows; a bug is off by the size of the values, far more.
inline ::testing::AssertionResult within_bound(const Tensor& actual, const Tensor& expected,
                                               const Tensor& bound, const std::string& hint) {
  if (actual.shape() != expected.shape() || bound.shape() != expected.shape())
    return ::testing::AssertionFailure()
           << "shape mismatch: got " << mlsys::to_string(actual.shape()) << ", expected "
           << mlsys::to_string(expected.shape()) << " (bound "
           << mlsys::to_string(bound.shape()) << ")";
  const std::vector<double> a = actual.cpu().to_vector<double>(),
                            e = expected.cpu().to_vector<double>(),
                            b = bound.cpu().to_vector<double>();
  double max_bound = 0.0;
  for (double bi : b) max_bound = std::max(max_bound, bi);
  mlsys::test::recording::record_floats("actual", actual.shape(), a, 0.0, max_bound);
  int64_t bad = 0;
  double max_err = 0.0, worst_ratio = 0.0;
  std::ostringstream first;
  for (size_t i = 0; i < a.size(); ++i) {
    const double err = std::fabs(a[i] - e[i]);
    if (!(err <= b[i])) {  // NaN fails too
      if (bad < 8)
        first << "  at " << index_string(expected.shape(), static_cast<int64_t>(i)) << ": got "
              << a[i] << ", expected " << e[i] << " (error " << err << ", allowed " << b[i]
              << ")\n";
      ++bad;
    }
    if (std::isnan(err) || err > max_err) max_err = err;
    if (b[i] > 0 && err / b[i] > worst_ratio) worst_ratio = err / b[i];
  }
  if (bad == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << bad << " of " << a.size() << " elements of " << mlsys::to_string(expected.shape())
         << " exceed the float32 error bound; max abs error " << max_err
         << ", worst error / bound " << worst_ratio << "\n"
         << first.str() << "hint: " << hint;
}

// A tensor of `shape` filled with `value` (for scalar bounds).
inline Tensor filled(const Shape& shape, double value) {
  return mlsys::full(shape, static_cast<float>(value));
}

// ============================================================================================
// SGEMM (Tasks 3.x, 6.1)
// ============================================================================================

struct GemmSize {
  int M, N, K;
};
inline std::string describe(const GemmSize& s) {
  return "M=" + std::to_string(s.M) + " N=" + std::to_string(s.N) + " K=" + std::to_string(s.K);
}

// Sizes the public tests of every SGEMM task use.
inline const std::vector<GemmSize> kTinyGemms = {{1, 1, 1}, {1, 7, 3}, {5, 1, 9}, {2, 3, 1},
                                                 {3, 2, 2}};
inline const std::vector<GemmSize> kOddGemms = {{33, 65, 17}, {127, 129, 131}, {100, 37, 250},
                                                {31, 33, 8}, {65, 7, 129}};
inline const std::vector<GemmSize> kNonSquareGemms = {{257, 300, 511}, {16, 384, 40},
                                                      {300, 20, 70}, {1, 513, 257}};
inline const std::vector<GemmSize> kTileMultipleGemms = {{64, 64, 64}, {128, 256, 64},
                                                         {256, 128, 32}, {32, 32, 512}};

constexpr const char* kGemmHint =
    "compare with the reference for a 1 x 1 x 1 case first; then check the row/column mapping, "
    "the tail of K (k >= K must contribute 0), that no thread writes row >= M or column >= N, "
    "and that every thread reaches each __syncthreads()";

// The bound for C = A @ B (+ bias) against the double reference: gamma_{K+2} * (|A| @ |B| +
// |bias|): K products and additions (K + 1 with a bias), plus the reference's own rounding to
// float32. |A| @ |B| is computed in double on the CPU.
inline Tensor gemm_bound_cpu(const Tensor& A, const Tensor& B, const Tensor* bias = nullptr) {
  Tensor absprod = ref::sgemm(mlsys::abs(A), mlsys::abs(B));
  if (bias) absprod = absprod + mlsys::abs(*bias);
  return absprod * static_cast<float>(gamma_n(A.size(1) + 2.0));
}

// C = A @ B through `kernel` vs the CPU reference.
inline void check_sgemm(Sgemm kernel, const GemmSize& s, uint64_t seed) {
  SCOPED_TRACE(std::string(to_string(kernel)) + " " + describe(s));
  const Tensor A = uniform({s.M, s.K}, seed), B = uniform({s.K, s.N}, seed + 1);
  const Tensor C = sgemm(kernel, A.cuda(), B.cuda());
  EXPECT_TRUE(within_bound(C, ref::sgemm(A, B), gemm_bound_cpu(A, B), kGemmHint));
}

inline void check_sgemm_sizes(Sgemm kernel, const std::vector<GemmSize>& sizes,
                              uint64_t seed = 100) {
  for (const GemmSize& s : sizes) check_sgemm(kernel, s, seed++);
}

// Large sizes: against cuBLAS (mlsys::matmul on the GPU, TF32 off), both within
// gamma_{K} (|A| @ |B|) of the exact product, so within twice that of each other; |A| @ |B| is
// itself computed by cuBLAS in float32 (a sum of positive terms: relative error <= gamma_K),
// hence the 1.01.
inline void check_sgemm_vs_cublas(Sgemm kernel, const GemmSize& s, uint64_t seed) {
  SCOPED_TRACE(std::string(to_string(kernel)) + " vs cuBLAS, " + describe(s));
  const Tensor A = mlsys::rand({s.M, s.K}, seed, -1.0f, 1.0f, mlsys::Device::CUDA),
               B = mlsys::rand({s.K, s.N}, seed + 1, -1.0f, 1.0f, mlsys::Device::CUDA);
  const Tensor C = sgemm(kernel, A, B);
  const Tensor expected = mlsys::matmul(A, B);
  const Tensor bound = mlsys::matmul(mlsys::abs(A), mlsys::abs(B)) *
                       static_cast<float>(2.02 * gamma_n(s.K + 1.0));
  EXPECT_TRUE(within_bound(C, expected, bound, kGemmHint));
}

// ============================================================================================
// Kernel resources (Tasks 3.3-3.5): what the contract of a tiled kernel fixes
// ============================================================================================
// nvcc emits, for every __global__ function, a host-side stub with the kernel's C++ name and
// signature; its address identifies the kernel to cudaFuncGetAttributes. The stubs of the
// given kernels are declared weak here, so a renamed kernel fails these checks with a message
// instead of failing the link of every test.

}  // namespace pa2::gpu::test

namespace pa2::gpu {
__attribute__((weak)) void sgemm_shared_kernel(const float*, const float*, float*, int, int, int);
__attribute__((weak)) void sgemm_regtile_1d_kernel(const float*, const float*, float*, int, int, int);
__attribute__((weak)) void sgemm_regtile_2d_kernel(const float*, const float*, float*, int, int, int);
}  // namespace pa2::gpu

namespace pa2::gpu::test {

// The static shared memory and registers per thread nvcc gave `kernel` (its host stub; null
// when the student file no longer defines the given kernel).
inline ::testing::AssertionResult kernel_attributes(const void* kernel, const char* name,
                                                    cudaFuncAttributes* out) {
  if (kernel == nullptr)
    return ::testing::AssertionFailure()
           << "the kernel pa2::gpu::" << name << " is not defined: keep the given kernel's name "
           << "and signature in the student file";
  const cudaError_t status = cudaFuncGetAttributes(out, kernel);
  if (status != cudaSuccess)
    return ::testing::AssertionFailure()
           << "cudaFuncGetAttributes(" << name << ") failed: " << cudaGetErrorString(status);
  return ::testing::AssertionSuccess();
}

// The kernel keeps its tiles in static __shared__ arrays of at least `min_bytes` (the contract's
// tiles; padding against bank conflicts may add more). Records whether it does.
inline void expect_static_shared_at_least(const void* kernel, const char* name, size_t min_bytes) {
  cudaFuncAttributes attr{};
  ASSERT_TRUE(kernel_attributes(kernel, name, &attr));
  const bool ok = attr.sharedSizeBytes >= min_bytes;
  mlsys::test::record_exact(std::string(name) + " static shared >= " + std::to_string(min_bytes),
                            static_cast<int64_t>(ok));
  EXPECT_TRUE(ok) << name << " uses " << attr.sharedSizeBytes << " bytes of static shared memory; "
                  << "the contract's tiles need at least " << min_bytes
                  << " (declare them as __shared__ arrays of the stated sizes)";
}

// The kernel holds at least `min_registers` values per thread in registers (its accumulators):
// fewer registers means the accumulators live in local memory (a run-time index into acc, or
// a loop that is not unrolled). Records whether it does.
inline void expect_registers_at_least(const void* kernel, const char* name, int min_registers) {
  cudaFuncAttributes attr{};
  ASSERT_TRUE(kernel_attributes(kernel, name, &attr));
  const bool ok = attr.numRegs >= min_registers;
  mlsys::test::record_exact(std::string(name) + " registers >= " + std::to_string(min_registers),
                            static_cast<int64_t>(ok));
  EXPECT_TRUE(ok) << name << " uses " << attr.numRegs << " registers per thread (and "
                  << attr.localSizeBytes << " bytes of local memory); its accumulators alone need "
                  << min_registers << ": unroll the loops over them fully and index them only "
                  << "with compile-time constants";
}

// ============================================================================================
// Attention (Task 5.1)
// ============================================================================================

// The bound for the fused attention against the double reference, per query row i of head h.
// With s_ij = q_i . k_j / 8 and S_i = max_j sum_c |q_ic k_jc| / 8 (the largest |s| could be),
// each score is within gamma_64 * S_i of the exact one; a score error e changes every
// normalized p_ij by a factor within exp(+-2e) of its value, so o_i moves by at most
// (exp(2 gamma_64 S_i) - 1) * max|v|. The sums over T keys (the normalizer and the output
// accumulators, rescaled up to T / 32 times) add gamma_{2T + 64} relative error to p, the
// final division and the reference's rounding a few u. `factor` 2 compares two fp32 results.
inline Tensor attention_bound(const Tensor& q, const Tensor& k, const Tensor& v, bool causal,
                              double factor = 1.0) {
  const std::vector<double> qv = mlsys::abs(q).to_vector<double>(),
                            kv = mlsys::abs(k).to_vector<double>(),
                            vv = mlsys::abs(v).to_vector<double>();
  const int64_t BH = q.size(0) * q.size(1), T = q.size(2), d = q.size(3);
  std::vector<float> bound(qv.size());
  for (int64_t h = 0; h < BH; ++h) {
    const size_t head = static_cast<size_t>(h) * T * d;
    double vmax = 0.0;
    for (int64_t e = 0; e < T * d; ++e) vmax = std::max(vmax, vv[head + e]);
    for (int64_t i = 0; i < T; ++i) {
      double smax = 0.0;
      for (int64_t j = 0; j < (causal ? i + 1 : T); ++j) {
        double dot = 0.0;
        for (int64_t c = 0; c < d; ++c) dot += qv[head + i * d + c] * kv[head + j * d + c];
        smax = std::max(smax, dot / std::sqrt(static_cast<double>(d)));
      }
      const double score_err = gamma_n(static_cast<double>(d) + 1) * smax;
      const double rel = std::expm1(2.0 * score_err) + gamma_n(2.0 * T + 72);
      for (int64_t c = 0; c < d; ++c)
        bound[head + i * d + c] = static_cast<float>(factor * rel * vmax + 1e-30);
    }
  }
  return mlsys::from_vector<float>(bound, q.shape());
}

constexpr const char* kAttentionHint =
    "check against a single head with T = 1 (the output must equal v), then T < 32; check the "
    "online-softmax rescaling of l and of the accumulators when the max grows, the mask "
    "(key >= T, and key > query when causal), that rows >= T are not stored, and the 16-lane "
    "shuffle reductions";

// q, k, v [B, H, T, 64] from N(0, scale^2); o from the fused kernel vs the CPU reference.
inline void check_attention(int64_t B, int64_t H, int64_t T, bool causal, uint64_t seed,
                            float scale = 1.0f) {
  SCOPED_TRACE("B=" + std::to_string(B) + " H=" + std::to_string(H) + " T=" + std::to_string(T) +
               (causal ? " causal" : " full"));
  const Shape shape{B, H, T, kHeadDim};
  const Tensor q = mlsys::randn(shape, seed, 0, scale), k = mlsys::randn(shape, seed + 1, 0, scale),
               v = mlsys::randn(shape, seed + 2);
  const Tensor o = attention_forward(q.cuda(), k.cuda(), v.cuda(), causal);
  EXPECT_TRUE(within_bound(o, ref::attention_forward(q, k, v, causal),
                           attention_bound(q, k, v, causal), kAttentionHint));
}

// The same against the staff naive GPU kernel, for sizes the CPU reference is slow for.
inline void check_attention_vs_naive(int64_t B, int64_t H, int64_t T, bool causal, uint64_t seed) {
  SCOPED_TRACE("vs naive: B=" + std::to_string(B) + " H=" + std::to_string(H) +
               " T=" + std::to_string(T) + (causal ? " causal" : " full"));
  const Shape shape{B, H, T, kHeadDim};
  const Tensor q = mlsys::randn(shape, seed), k = mlsys::randn(shape, seed + 1),
               v = mlsys::randn(shape, seed + 2);
  const Tensor qc = q.cuda(), kc = k.cuda(), vc = v.cuda();
  const Tensor o = attention_forward(qc, kc, vc, causal);
  EXPECT_TRUE(within_bound(o, attention_naive(qc, kc, vc, causal),
                           attention_bound(q, k, v, causal, 2.0), kAttentionHint));
}

}  // namespace pa2::gpu::test
