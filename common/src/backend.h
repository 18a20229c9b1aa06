// Internal: the interface between the tensor-level entries (tensor.cpp, ops.cpp) and the CUDA
// backend (src/cuda/*.cu, or cuda_disabled.cpp when built without CUDA, whose functions throw).
//
// Style rule: only the entries see mlsys::Tensor. Everything here takes raw pointers, element
// strides and sizes. The entries have already validated shapes, dtypes and devices.
#pragma once

#include <cstddef>
#include <cstdint>

#include "mlsys/ops.h"
#include "mlsys/tensor.h"

namespace mlsys::detail {

// A view's layout without its pointer: logical shape and element strides (0 = broadcast).
struct Layout {
  int ndim = 0;
  int64_t shape[kMaxDims] = {};
  int64_t strides[kMaxDims] = {};
};
Layout layout_of(const Tensor& t);                       // the tensor's own layout
Layout layout_as(const Tensor& t, const Shape& shape);   // t broadcast to `shape`

enum class ReduceOp { Sum, Max, Min };

// ---- device and memory ---------------------------------------------------------------------
int cuda_device_count();  // 0 when built without CUDA or no GPU present; never throws
void* cuda_alloc(size_t nbytes);
void cuda_free(void* ptr) noexcept;
// Copies nbytes between any two devices (host<->device, device<->device), synchronously.
void cuda_memcpy(void* dst, Device dst_device, const void* src, Device src_device, size_t nbytes);

// ---- CUDA kernels (all pointers are device pointers; n = number of output elements) --------
// dst[i] <- src[i] for i over `shape`; dst/src layouts may be any strides. elem_size 4 or 8.
void cuda_copy_strided(void* dst, const Layout& dst_layout, const void* src,
                       const Layout& src_layout, size_t elem_size);
// dst[i] <- *value for i < n; dst contiguous, value a host pointer to one element of elem_size
// bytes (4 or 8), already converted to the tensor's dtype.
void cuda_fill(void* dst, int64_t n, const void* value, size_t elem_size);
void cuda_unary(UnaryOp op, float* out, const float* x, const Layout& x_layout, int64_t n);
// a_layout/b_layout are already broadcast to the (contiguous) output shape.
void cuda_binary(BinaryOp op, float* out, const float* a, const Layout& a_layout,
                 const float* b, const Layout& b_layout, int64_t n);
void cuda_where(float* out, const float* cond, const Layout& cond_layout, const float* a,
                const Layout& a_layout, const float* b, const Layout& b_layout, int64_t n);
// x is contiguous [rows, cols]; out[r] = reduce(x[r, :]). Sums are compensated (error of a few
// ulps however long the row); max/min propagate NaN.
void cuda_reduce_rows(ReduceOp op, float* out, const float* x, int64_t rows, int64_t cols);
// Index of the first maximum of each row; the first NaN counts as the maximum.
void cuda_argmax_rows(int64_t* out, const float* x, int64_t rows, int64_t cols);
// x, out contiguous [rows, cols]; softmax (or log_softmax) of each row, max-subtracted.
void cuda_softmax_rows(float* out, const float* x, int64_t rows, int64_t cols, bool log);
// C[b] = A[b] @ B[b], all row-major contiguous; A [batch, M, K], B [batch, K, N],
// C [batch, M, N]; stride_a / stride_b are the batch strides in elements (0 = shared).
void cuda_matmul(float* c, const float* a, const float* b, int64_t batch, int64_t M, int64_t N,
                 int64_t K, int64_t stride_a, int64_t stride_b);

}  // namespace mlsys::detail
