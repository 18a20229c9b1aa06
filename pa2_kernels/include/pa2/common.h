// pa2/common.h — what the CPU and GPU tracks of PA2 share: the error checks and the conventions.
//
// Conventions (both tracks, every kernel):
//   * Matrices are float32, row-major, addressed by raw pointers with explicit leading
//     dimensions: element (i, j) of A is A[i * lda + j], and lda >= the number of columns.
//     A leading dimension larger than the row length lets a kernel work on a sub-matrix of a
//     bigger one without copying it (the tests use such padded layouts).
//   * Matmul sizes are M, N, K:  C[M, N] = A[M, K] @ B[K, N].
//   * Row-wise ops (softmax, layernorm) see `rows` rows of `cols` elements each.
//   * Kernels see raw pointers and sizes only; one tensor-level entry per op (pa2::cpu::matmul,
//     ...) validates shapes, dtypes and devices and then calls the kernel.
#pragma once

#include "mlsys/error.h"

// PA2_CHECK(cond, "op", message parts...): throws mlsys::Error("pa2::op: message").
// Like MLSYS_CHECK, with the prefix "pa2::" instead of "mlsys::".
#define PA2_FAIL(op, ...) throw ::mlsys::Error(::mlsys::detail::cat("pa2::", op, ": ", __VA_ARGS__))
#define PA2_CHECK(cond, op, ...)               \
  do {                                         \
    if (!(cond)) PA2_FAIL(op, __VA_ARGS__);    \
  } while (0)
