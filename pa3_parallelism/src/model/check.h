// Argument checks shared by the model's source files (internal header).
#pragma once

#include <string>

#include "mlsys/error.h"
#include "mlsys/tensor.h"

namespace pa3::detail {

// Throws mlsys::Error("pa3::<op>: argument '<arg>' <what>") — every model error reads alike.
[[noreturn]] inline void fail(const char* op, const char* arg, const std::string& what) {
  throw mlsys::Error(std::string("pa3::") + op + ": argument '" + arg + "' " + what);
}

// Checks that `t` is a defined, contiguous CPU tensor of `dtype` with exactly `shape`.
inline void check_tensor(const char* op, const char* arg, const mlsys::Tensor& t,
                         const mlsys::Shape& shape,
                         mlsys::DType dtype = mlsys::DType::Float32) {
  const std::string expected = std::string("expected ") + mlsys::to_string(dtype) +
                               mlsys::to_string(shape) + " contiguous cpu, got ";
  if (!t.defined()) fail(op, arg, expected + "an undefined tensor");
  if (t.dtype() != dtype || t.shape() != shape || !t.is_contiguous() ||
      t.device() != mlsys::Device::CPU) {
    fail(op, arg, expected + t.describe() + (t.is_contiguous() ? "" : " (not contiguous)"));
  }
}

// Checks that `t` is a defined tensor with at least `min_dim` dims.
inline void check_rank(const char* op, const char* arg, const mlsys::Tensor& t, int64_t min_dim) {
  if (!t.defined()) fail(op, arg, "expected a tensor, got an undefined tensor");
  if (t.dim() < min_dim) {
    fail(op, arg, "expected at least " + std::to_string(min_dim) + " dims, got " + t.describe());
  }
}

// `shape` with its last dim replaced by `last`.
inline mlsys::Shape with_last(mlsys::Shape shape, int64_t last) {
  shape.back() = last;
  return shape;
}

// `shape` without its last dim.
inline mlsys::Shape drop_last(mlsys::Shape shape) {
  shape.pop_back();
  return shape;
}

}  // namespace pa3::detail
