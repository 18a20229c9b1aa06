// CUDA backend, part 2: the kernels behind the tensor ops (see backend.h for the contracts).
//
// Three layers (STYLE 4): a __global__ kernel over raw pointers with a bounds guard; a host
// launcher here that picks the grid and checks the launch; the tensor-level entry in
// tensor.cpp / ops.cpp, which has already validated shapes, dtypes and devices. Kernels run on
// the default stream and launchers return without waiting. The math mirrors the CPU path
// (ops_cpu.cpp) op for op, with precise expf/logf/tanhf/powf (no fast-math intrinsics).
#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "backend.h"
#include "cuda/check.h"

namespace mlsys::detail {
namespace {

constexpr int kThreads = 256;  // threads per block; a multiple of the warp size (32)
constexpr int kWarps = kThreads / 32;
constexpr int64_t kMaxBlocks = 65535 * 8;  // beyond this, grid-stride loops take over

// Blocks for `n` work items of one thread each (n > 0), capped at kMaxBlocks.
int blocks_for(int64_t n) {
  return static_cast<int>(std::min((n + kThreads - 1) / kThreads, kMaxBlocks));
}

int64_t numel_of(const Layout& layout) {
  int64_t n = 1;
  for (int d = 0; d < layout.ndim; ++d) n *= layout.shape[d];
  return n;
}

// The element offset of logical (row-major) index i in a strided view: split i into a
// multi-index over layout.shape, last dim fastest, and dot it with the strides. A broadcast
// dim has stride 0, so every index along it reads the same element.
__device__ int64_t offset_of(int64_t i, const Layout& layout) {
  int64_t offset = 0;
  for (int d = layout.ndim - 1; d >= 0; --d) {
    offset += (i % layout.shape[d]) * layout.strides[d];
    i /= layout.shape[d];
  }
  return offset;
}

__device__ int64_t first_index() { return blockIdx.x * int64_t{blockDim.x} + threadIdx.x; }
__device__ int64_t grid_stride() { return int64_t{gridDim.x} * blockDim.x; }

// ============================================================================================
// Elementwise: one thread per output element, grid-stride loop; outputs are contiguous.
// ============================================================================================

__device__ float apply_unary(UnaryOp op, float x) {
  switch (op) {
    case UnaryOp::Neg: return -x;
    case UnaryOp::Exp: return expf(x);
    case UnaryOp::Log: return logf(x);
    case UnaryOp::Sqrt: return sqrtf(x);
    case UnaryOp::Tanh: return tanhf(x);
    case UnaryOp::Relu: return x > 0.0f || isnan(x) ? x : 0.0f;
    case UnaryOp::Sigmoid: {
      // Never exponentiate a large positive number: for x < 0, 1/(1+e^-x) = e^x/(1+e^x).
      if (x < 0.0f) {
        float e = expf(x);
        return e / (1.0f + e);
      }
      return 1.0f / (1.0f + expf(-x));
    }
    case UnaryOp::Abs: return fabsf(x);
    case UnaryOp::Sign: return isnan(x) ? x : x > 0.0f ? 1.0f : (x < 0.0f ? -1.0f : 0.0f);
    case UnaryOp::ReluGrad: return x > 0.0f ? 1.0f : 0.0f;
  }
  return 0.0f;
}

// NumPy's maximum / minimum, as on the CPU: a NaN on either side gives NaN; ties give a. As the
// combine step of a reduction (a = the running result) this keeps a NaN once met.
__device__ float maximum_nan(float a, float b) { return a >= b || isnan(a) ? a : b; }
__device__ float minimum_nan(float a, float b) { return a <= b || isnan(a) ? a : b; }

__device__ float apply_binary(BinaryOp op, float a, float b) {
  switch (op) {
    case BinaryOp::Add: return a + b;
    case BinaryOp::Sub: return a - b;
    case BinaryOp::Mul: return a * b;
    case BinaryOp::Div: return a / b;
    case BinaryOp::Pow: return powf(a, b);
    case BinaryOp::Maximum: return maximum_nan(a, b);
    case BinaryOp::Minimum: return minimum_nan(a, b);
    case BinaryOp::Eq: return a == b ? 1.0f : 0.0f;
    case BinaryOp::Ne: return a != b ? 1.0f : 0.0f;
    case BinaryOp::Lt: return a < b ? 1.0f : 0.0f;
    case BinaryOp::Le: return a <= b ? 1.0f : 0.0f;
    case BinaryOp::Gt: return a > b ? 1.0f : 0.0f;
    case BinaryOp::Ge: return a >= b ? 1.0f : 0.0f;
  }
  return 0.0f;
}

// Word is uint32_t or uint64_t: the copy moves bits, so one kernel serves every dtype.
template <typename Word>
__global__ void copy_strided_kernel(Word* dst, Layout dst_layout, const Word* src,
                                    Layout src_layout, int64_t n) {
  for (int64_t i = first_index(); i < n; i += grid_stride())
    dst[offset_of(i, dst_layout)] = src[offset_of(i, src_layout)];
}

template <typename T>
__global__ void fill_kernel(T* dst, int64_t n, T value) {
  for (int64_t i = first_index(); i < n; i += grid_stride()) dst[i] = value;
}

__global__ void unary_kernel(UnaryOp op, float* out, const float* x, Layout x_layout,
                             int64_t n) {
  for (int64_t i = first_index(); i < n; i += grid_stride())
    out[i] = apply_unary(op, x[offset_of(i, x_layout)]);
}

__global__ void binary_kernel(BinaryOp op, float* out, const float* a, Layout a_layout,
                              const float* b, Layout b_layout, int64_t n) {
  for (int64_t i = first_index(); i < n; i += grid_stride())
    out[i] = apply_binary(op, a[offset_of(i, a_layout)], b[offset_of(i, b_layout)]);
}

__global__ void where_kernel(float* out, const float* cond, Layout cond_layout, const float* a,
                             Layout a_layout, const float* b, Layout b_layout, int64_t n) {
  for (int64_t i = first_index(); i < n; i += grid_stride())
    out[i] = cond[offset_of(i, cond_layout)] != 0.0f ? a[offset_of(i, a_layout)]
                                                     : b[offset_of(i, b_layout)];
}

// ============================================================================================
// Row reductions: x is contiguous [rows, cols]. One block of kThreads per row (blocks loop
// over rows when there are more rows than blocks). Each thread folds the columns
// threadIdx.x, threadIdx.x + kThreads, ...; then the block combines its kThreads partials:
//   1. within each warp, __shfl_down_sync halves the active lanes five times (16, 8, ..., 1),
//      leaving the warp's result in lane 0;
//   2. lane 0 of each warp writes it to shared memory; after a barrier, warp 0 reduces those
//      kWarps values the same way and publishes the block's result to every thread.
// ============================================================================================

__device__ float identity_of(ReduceOp op) {
  switch (op) {
    case ReduceOp::Sum: return 0.0f;
    case ReduceOp::Max: return -INFINITY;
    case ReduceOp::Min: return INFINITY;
  }
  return 0.0f;
}

// Max/Min propagate NaN, as on the CPU.
__device__ float combine(ReduceOp op, float a, float b) {
  switch (op) {
    case ReduceOp::Sum: return a + b;
    case ReduceOp::Max: return maximum_nan(a, b);
    case ReduceOp::Min: return minimum_nan(a, b);
  }
  return 0.0f;
}

// A thread's running sum over its columns, compensated (Kahan): `c` holds the low-order part
// that `s + y` rounded away and feeds it back into the next term. A plain float running sum
// over cols / kThreads terms (39,000 for a row of 10^7) drifts by up to that many ulps; this
// stays at a few ulps for any length, at FP32 speed (a double accumulator would run at the
// 1/32 FP64 rate of a T4). After an inf or NaN the compensation
// is dropped (it would be inf - inf), so they reach the result as in a plain sum.
struct KahanSum {
  float s = 0.0f, c = 0.0f;
  __device__ void add(float x) {
    float y = x - c;
    float t = s + y;
    c = isfinite(t) ? (t - s) - y : 0.0f;
    s = t;
  }
  __device__ float value() const { return s - c; }
};

__device__ float warp_reduce(ReduceOp op, float v) {
  for (int delta = 16; delta > 0; delta /= 2)
    v = combine(op, v, __shfl_down_sync(0xffffffffu, v, delta));
  return v;
}

// Every thread of the block must call it (it has barriers); every thread gets the result.
// Safe to call back to back: the second call writes `partial` only after its first barrier,
// which every thread reaches after reading `result` of the previous call.
__device__ float block_reduce(ReduceOp op, float v) {
  __shared__ float partial[kWarps];
  __shared__ float result;
  int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  v = warp_reduce(op, v);
  if (lane == 0) partial[warp] = v;
  __syncthreads();
  if (warp == 0) {
    v = warp_reduce(op, lane < kWarps ? partial[lane] : identity_of(op));
    if (lane == 0) result = v;
  }
  __syncthreads();
  return result;
}

__global__ void reduce_rows_kernel(ReduceOp op, float* out, const float* x, int64_t rows,
                                   int64_t cols) {
  for (int64_t row = blockIdx.x; row < rows; row += gridDim.x) {
    const float* xr = x + row * cols;
    float acc = identity_of(op);
    if (op == ReduceOp::Sum) {
      KahanSum sum;
      for (int64_t j = threadIdx.x; j < cols; j += kThreads) sum.add(xr[j]);
      acc = sum.value();
    } else {
      for (int64_t j = threadIdx.x; j < cols; j += kThreads) acc = combine(op, acc, xr[j]);
    }
    acc = block_reduce(op, acc);  // a tree of depth log2(kThreads): adds only ~8 roundings
    if (threadIdx.x == 0) out[row] = acc;
  }
}

// Argmax carries (value, index) pairs; index -1 means "no element seen yet". A NaN beats any
// number (NumPy: the first NaN is the maximum), and among equal values (or two NaNs) the
// smaller index wins, so the block finds the first maximum whatever the order in which
// partials meet.
struct ArgMax {
  float value;
  int64_t index;
};

__device__ ArgMax better_of(ArgMax a, ArgMax b) {
  if (b.index < 0) return a;
  if (a.index < 0) return b;
  bool a_nan = isnan(a.value), b_nan = isnan(b.value);
  if (a_nan != b_nan) return a_nan ? a : b;
  bool tie = a_nan || b.value == a.value;  // both NaN, or equal numbers
  return (tie ? b.index < a.index : b.value > a.value) ? b : a;
}

__device__ ArgMax warp_argmax(ArgMax v) {
  for (int delta = 16; delta > 0; delta /= 2) {
    ArgMax other{__shfl_down_sync(0xffffffffu, v.value, delta),
                 __shfl_down_sync(0xffffffffu, v.index, delta)};
    v = better_of(v, other);
  }
  return v;
}

__global__ void argmax_rows_kernel(int64_t* out, const float* x, int64_t rows, int64_t cols) {
  __shared__ ArgMax partial[kWarps];
  int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  for (int64_t row = blockIdx.x; row < rows; row += gridDim.x) {
    const float* xr = x + row * cols;
    ArgMax best{-INFINITY, -1};
    for (int64_t j = threadIdx.x; j < cols; j += kThreads) best = better_of(best, {xr[j], j});
    best = warp_argmax(best);
    if (lane == 0) partial[warp] = best;
    __syncthreads();
    if (warp == 0) {
      best = warp_argmax(lane < kWarps ? partial[lane] : ArgMax{-INFINITY, -1});
      if (lane == 0) out[row] = best.index < 0 ? 0 : best.index;  // cols == 0 gives 0
    }
    __syncthreads();  // partial is reused by the next row
  }
}

// softmax(x)_j = exp(x_j - m) / s and log_softmax(x)_j = x_j - m - log(s), where m = max_j x_j
// and s = sum_j exp(x_j - m). Subtracting m keeps every exponent <= 0, so nothing overflows.
// Three passes over the row: max, sum (compensated, see KahanSum), write. Like the CPU, a row
// of all -inf uses m = 0 (no inf - inf), a NaN anywhere makes the row NaN, and softmax
// multiplies by 1/s.
__global__ void softmax_rows_kernel(float* out, const float* x, int64_t rows, int64_t cols,
                                    bool log) {
  for (int64_t row = blockIdx.x; row < rows; row += gridDim.x) {
    const float* xr = x + row * cols;
    float* outr = out + row * cols;
    float m = -INFINITY;
    for (int64_t j = threadIdx.x; j < cols; j += kThreads) m = combine(ReduceOp::Max, m, xr[j]);
    m = block_reduce(ReduceOp::Max, m);
    if (m == -INFINITY) m = 0.0f;
    KahanSum sum;
    for (int64_t j = threadIdx.x; j < cols; j += kThreads) sum.add(expf(xr[j] - m));
    float s = block_reduce(ReduceOp::Sum, sum.value());
    if (log) {
      float log_s = logf(s);
      for (int64_t j = threadIdx.x; j < cols; j += kThreads) outr[j] = xr[j] - m - log_s;
    } else {
      float inv_s = 1.0f / s;
      for (int64_t j = threadIdx.x; j < cols; j += kThreads) outr[j] = expf(xr[j] - m) * inv_s;
    }
  }
}

// Created on first use (C++ guarantees a thread-safe static initialization) and never
// destroyed: a static destructor could run after the CUDA runtime has shut down at exit.
cublasHandle_t cublas_handle() {
  static cublasHandle_t handle = [] {
    cublasHandle_t h = nullptr;
    MLSYS_CUBLAS_CHECK("cuda_matmul", cublasCreate(&h));
    // TF32 off, deliberately. CUBLAS_DEFAULT_MATH keeps SGEMM in full FP32;
    // CUBLAS_TF32_TENSOR_OP_MATH would round the inputs to TF32 (10-bit mantissa) on
    // Ampere and newer, so GPU results would drift ~1e-3 from the CPU reference and differ
    // between a T4 and an A100/H100.
    MLSYS_CUBLAS_CHECK("cuda_matmul", cublasSetMathMode(h, CUBLAS_DEFAULT_MATH));
    return h;
  }();
  return handle;
}

}  // namespace

// ============================================================================================
// Launchers
// ============================================================================================

void cuda_copy_strided(void* dst, const Layout& dst_layout, const void* src,
                       const Layout& src_layout, size_t elem_size) {
  MLSYS_CHECK(elem_size == 4 || elem_size == 8, "cuda_copy_strided",
              "elem_size must be 4 or 8, got ", elem_size);
  int64_t n = numel_of(dst_layout);  // ndim 0 is one element
  if (n == 0) return;
  if (elem_size == 4) {
    copy_strided_kernel<<<blocks_for(n), kThreads>>>(static_cast<uint32_t*>(dst), dst_layout,
                                                     static_cast<const uint32_t*>(src),
                                                     src_layout, n);
  } else {
    copy_strided_kernel<<<blocks_for(n), kThreads>>>(static_cast<uint64_t*>(dst), dst_layout,
                                                     static_cast<const uint64_t*>(src),
                                                     src_layout, n);
  }
  MLSYS_CUDA_CHECK_LAUNCH("cuda_copy_strided", "copy_strided_kernel");
}

void cuda_fill(void* dst, int64_t n, const void* value, size_t elem_size) {
  MLSYS_CHECK(elem_size == 4 || elem_size == 8, "cuda_fill", "elem_size must be 4 or 8, got ",
              elem_size);
  if (n == 0) return;
  // The value's bits, already in the tensor's dtype: one kernel per width serves every dtype.
  if (elem_size == 4) {
    uint32_t word;
    std::memcpy(&word, value, 4);
    fill_kernel<<<blocks_for(n), kThreads>>>(static_cast<uint32_t*>(dst), n, word);
  } else {
    uint64_t word;
    std::memcpy(&word, value, 8);
    fill_kernel<<<blocks_for(n), kThreads>>>(static_cast<uint64_t*>(dst), n, word);
  }
  MLSYS_CUDA_CHECK_LAUNCH("cuda_fill", "fill_kernel");
}

void cuda_unary(UnaryOp op, float* out, const float* x, const Layout& x_layout, int64_t n) {
  if (n == 0) return;
  unary_kernel<<<blocks_for(n), kThreads>>>(op, out, x, x_layout, n);
  MLSYS_CUDA_CHECK_LAUNCH("cuda_unary", "unary_kernel");
}

void cuda_binary(BinaryOp op, float* out, const float* a, const Layout& a_layout,
                 const float* b, const Layout& b_layout, int64_t n) {
  if (n == 0) return;
  binary_kernel<<<blocks_for(n), kThreads>>>(op, out, a, a_layout, b, b_layout, n);
  MLSYS_CUDA_CHECK_LAUNCH("cuda_binary", "binary_kernel");
}

void cuda_where(float* out, const float* cond, const Layout& cond_layout, const float* a,
                const Layout& a_layout, const float* b, const Layout& b_layout, int64_t n) {
  if (n == 0) return;
  where_kernel<<<blocks_for(n), kThreads>>>(out, cond, cond_layout, a, a_layout, b, b_layout,
                                            n);
  MLSYS_CUDA_CHECK_LAUNCH("cuda_where", "where_kernel");
}

void cuda_reduce_rows(ReduceOp op, float* out, const float* x, int64_t rows, int64_t cols) {
  if (rows == 0) return;
  int blocks = static_cast<int>(std::min(rows, kMaxBlocks));
  reduce_rows_kernel<<<blocks, kThreads>>>(op, out, x, rows, cols);
  MLSYS_CUDA_CHECK_LAUNCH("cuda_reduce_rows", "reduce_rows_kernel");
}

void cuda_argmax_rows(int64_t* out, const float* x, int64_t rows, int64_t cols) {
  if (rows == 0) return;
  int blocks = static_cast<int>(std::min(rows, kMaxBlocks));
  argmax_rows_kernel<<<blocks, kThreads>>>(out, x, rows, cols);
  MLSYS_CUDA_CHECK_LAUNCH("cuda_argmax_rows", "argmax_rows_kernel");
}

void cuda_softmax_rows(float* out, const float* x, int64_t rows, int64_t cols, bool log) {
  if (rows == 0 || cols == 0) return;
  int blocks = static_cast<int>(std::min(rows, kMaxBlocks));
  softmax_rows_kernel<<<blocks, kThreads>>>(out, x, rows, cols, log);
  MLSYS_CUDA_CHECK_LAUNCH("cuda_softmax_rows", "softmax_rows_kernel");
}

// cuBLAS is column-major, and a row-major [R, C] matrix is, byte for byte, a column-major
// [C, R] matrix: its transpose. So instead of C = A B we ask cuBLAS for C^T = B^T A^T,
// passing B where it expects its first operand and A as its second, with no data moved:
//   B^T  column-major [N, K], ld N      A^T  column-major [K, M], ld K
//   C^T  column-major [N, M], ld N  ->  exactly row-major C [M, N]
void cuda_matmul(float* c, const float* a, const float* b, int64_t batch, int64_t M, int64_t N,
                 int64_t K, int64_t stride_a, int64_t stride_b) {
  MLSYS_CHECK(batch >= 0 && batch <= INT_MAX && M >= 0 && M <= INT_MAX && N >= 0 &&
                  N <= INT_MAX && K >= 0 && K <= INT_MAX,
              "cuda_matmul", "cuBLAS takes sizes as int; got batch=", batch, ", M=", M,
              ", N=", N, ", K=", K, " (each must be in [0, ", INT_MAX, "])");
  if (batch == 0 || M == 0 || N == 0) return;
  if (K == 0) {  // an empty sum: C is all zeros (0x00000000 is 0.0f)
    size_t nbytes = static_cast<size_t>(batch * M * N) * sizeof(float);
    MLSYS_CUDA_CHECK("cuda_matmul", cudaMemsetAsync(c, 0, nbytes, nullptr));
    return;
  }
  const float alpha = 1.0f, beta = 0.0f;
  const int m = static_cast<int>(M), n = static_cast<int>(N), k = static_cast<int>(K);
  if (batch == 1) {
    MLSYS_CUBLAS_CHECK("cuda_matmul", cublasSgemm(cublas_handle(), CUBLAS_OP_N, CUBLAS_OP_N,
                                                  n, m, k, &alpha, b, n, a, k, &beta, c, n));
  } else {
    MLSYS_CUBLAS_CHECK("cuda_matmul",
                       cublasSgemmStridedBatched(cublas_handle(), CUBLAS_OP_N, CUBLAS_OP_N, n,
                                                 m, k, &alpha, b, n, stride_b, a, k, stride_a,
                                                 &beta, c, n, M * N,
                                                 static_cast<int>(batch)));
  }
}

}  // namespace mlsys::detail
