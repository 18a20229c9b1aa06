// Internal: CPU kernels behind the tensor-level entries in ops.cpp and tensor.cpp. Like the
// CUDA backend (backend.h) they take raw pointers and Layouts, never Tensors. These are the
// reference implementations every other backend is tested against (STYLE item 3).
#pragma once

#include "backend.h"

namespace mlsys::detail {

void cpu_copy_strided(void* dst, const Layout& dst_layout, const void* src,
                      const Layout& src_layout, size_t elem_size);
// out is contiguous with n elements; x_layout / a_layout / b_layout are broadcast to out's shape.
void cpu_unary(UnaryOp op, float* out, const float* x, const Layout& x_layout);
void cpu_binary(BinaryOp op, float* out, const float* a, const Layout& a_layout, const float* b,
                const Layout& b_layout);
void cpu_where(float* out, const float* cond, const Layout& cond_layout, const float* a,
               const Layout& a_layout, const float* b, const Layout& b_layout);
// Reduces x (layout over the input shape) into out, whose layout over the same shape has
// stride 0 on the reduced axes and contiguous strides elsewhere. Writes every element of out.
void cpu_reduce(ReduceOp op, float* out, const Layout& out_layout, const float* x,
                const Layout& x_layout);
void cpu_argmax_rows(int64_t* out, const float* x, int64_t rows, int64_t cols);
void cpu_softmax_rows(float* out, const float* x, int64_t rows, int64_t cols, bool log);
// C [M, N] row-major contiguous = A [M, K] @ B [K, N]; A and B given by their 2-D strides.
void cpu_matmul(float* c, const float* a, int64_t a_row_stride, int64_t a_col_stride,
                const float* b, int64_t b_row_stride, int64_t b_col_stride, int64_t M,
                int64_t N, int64_t K);

}  // namespace mlsys::detail
