// Argument checks of the tensor-parallel code (internal header of src/tp/ and
// src/tensor_parallel.cpp). Errors read like the model's: "pa3::<op>: argument '<arg>' ...".
#pragma once

#include <string>

#include "mlsys/error.h"
#include "mlsys/tensor.h"
#include "pa3/comm.h"
#include "pa3/gpt.h"

namespace pa3::tp_detail {

[[noreturn]] inline void fail(const char* op, const std::string& arg, const std::string& what) {
  throw mlsys::Error(std::string("pa3::") + op + ": argument '" + arg + "' " + what);
}

// A defined, contiguous, float32 CPU tensor (any shape).
inline void check_dense(const char* op, const char* arg, const mlsys::Tensor& t,
                        mlsys::DType dtype = mlsys::DType::Float32) {
  if (!t.defined()) fail(op, arg, "expected a tensor, got an undefined tensor");
  if (t.dtype() != dtype || !t.is_contiguous() || t.device() != mlsys::Device::CPU) {
    fail(op, arg, std::string("expected a contiguous ") + mlsys::to_string(dtype) +
                      " cpu tensor, got " + t.describe() +
                      (t.is_contiguous() ? "" : " (not contiguous)"));
  }
}

// check_dense and exactly `shape`.
inline void check_shape(const char* op, const char* arg, const mlsys::Tensor& t,
                        const mlsys::Shape& shape, mlsys::DType dtype = mlsys::DType::Float32) {
  check_dense(op, arg, t, dtype);
  if (t.shape() != shape) {
    fail(op, arg, std::string("expected ") + mlsys::to_string(dtype) + mlsys::to_string(shape) +
                      ", got " + t.describe());
  }
}

// The TP group of `tp` may split n_head heads: tp.size() divides n_head.
inline void check_heads(const char* op, int64_t n_head, int tp_size) {
  if (n_head <= 0 || n_head % tp_size != 0) {
    fail(op, "n_head", "expected a multiple of the TP size " + std::to_string(tp_size) +
                           " (each rank runs whole heads), got " + std::to_string(n_head));
  }
}

// One block shard's shapes for channels C, heads NH and TP size tp (layout in
// pa3/tensor_parallel.h). Throws naming the tensor and both shapes.
void check_block_shard(const char* op, const BlockParams& shard, int64_t C, int64_t n_head,
                       int tp_size, const std::string& prefix = "");

}  // namespace pa3::tp_detail
