// mlsys/tensor.h — the n-dimensional array every assignment is built on.
//
// A Tensor is a view: shape + strides (in elements) + offset over a reference-counted Storage
// that lives on the CPU or on a CUDA device. Views (reshape, permute, slice, expand, ...) share
// storage and never copy; `contiguous()` and `clone()` copy. Copying a Tensor object copies the
// view, not the data (like a shared_ptr).
//
//   dtypes   float32 (all math), int32 and int64 (labels, indices, argmax results)
//   dims     0 (a scalar) to 8
//   devices  Device::CPU, Device::CUDA (device 0); move with to(device)
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "mlsys/error.h"

namespace mlsys {

constexpr int kMaxDims = 8;

enum class DType { Float32, Int32, Int64 };
enum class Device { CPU, CUDA };

using Shape = std::vector<int64_t>;

const char* to_string(DType dtype);
const char* to_string(Device device);
std::string to_string(const Shape& shape);  // "[2, 3, 4]"
size_t dtype_size(DType dtype);
// The number of elements of a shape. Every shape a tensor is made with is checked to have at
// most kMaxNumel elements (so that element counts and byte sizes never overflow).
int64_t numel(const Shape& shape);
constexpr int64_t kMaxNumel = INT64_MAX / 8;

// A number written into a tensor by full, fill_ or set: an integer (kept exactly, as int64)
// or a floating-point value (as double). It is converted once, straight to the tensor's dtype:
// to float32 with one rounding; to int32/int64 by truncation toward zero, where NaN, infinities
// and values out of the dtype's range are an mlsys::Error naming the value.
class Scalar {
 public:
  template <typename T, std::enable_if_t<std::is_integral_v<T>, int> = 0>
  Scalar(T value) : is_integer_(true), integer_(static_cast<int64_t>(value)) {
    if constexpr (std::is_unsigned_v<T> && sizeof(T) >= sizeof(int64_t))
      MLSYS_CHECK(value <= static_cast<T>(INT64_MAX), "Scalar", "integer ", value,
                  " does not fit in int64");
  }
  template <typename T, std::enable_if_t<std::is_floating_point_v<T>, int> = 0>
  Scalar(T value) : floating_(static_cast<double>(value)) {}

  bool is_integer() const { return is_integer_; }
  int64_t integer() const { return integer_; }   // when is_integer()
  double floating() const { return floating_; }  // when !is_integer()

 private:
  bool is_integer_ = false;
  int64_t integer_ = 0;
  double floating_ = 0;
};

template <typename T>
constexpr DType dtype_of();
template <> constexpr DType dtype_of<float>() { return DType::Float32; }
template <> constexpr DType dtype_of<int32_t>() { return DType::Int32; }
template <> constexpr DType dtype_of<int64_t>() { return DType::Int64; }

// True when a CUDA device can be used at run time (built with CUDA and a GPU present).
bool cuda_available();
// True when this library was compiled with CUDA support (a GPU may still be absent).
bool cuda_built();

// A block of raw memory on one device. Owned through shared_ptr by every view of it. CPU
// blocks of up to 64 bytes live inside the Storage object itself (16-byte aligned): a graph
// engine makes millions of tiny tensors, and this saves one allocation for each.
class Storage {
 public:
  Storage(size_t nbytes, Device device);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  size_t nbytes() const { return nbytes_; }
  Device device() const { return device_; }

 private:
  static constexpr size_t kInlineBytes = 64;
  void* data_ = nullptr;
  size_t nbytes_ = 0;
  Device device_;
  alignas(16) unsigned char inline_[kInlineBytes];  // data_ points here for tiny CPU blocks
};

class Tensor {
 public:
  // An undefined tensor (no storage). defined() is false; most ops reject it.
  Tensor() = default;
  // A new contiguous tensor; the memory is uninitialized.
  Tensor(Shape shape, DType dtype = DType::Float32, Device device = Device::CPU);

  // ---- metadata -------------------------------------------------------------------------
  bool defined() const { return storage_ != nullptr; }
  const Shape& shape() const { return shape_; }
  const Shape& strides() const { return strides_; }
  int64_t offset() const { return offset_; }
  int64_t dim() const { return static_cast<int64_t>(shape_.size()); }
  int64_t size(int64_t axis) const;  // negative axes count from the end
  int64_t numel() const;
  DType dtype() const { return dtype_; }
  Device device() const;
  bool is_contiguous() const;
  bool is_cuda() const { return device() == Device::CUDA; }
  const std::shared_ptr<Storage>& storage() const { return storage_; }
  std::string describe() const;  // "float32[2, 3] cpu"

  // Pointer to the first element of the view (storage + offset). Typed access checks dtype.
  void* raw_data() const;
  template <typename T>
  T* data() const {
    MLSYS_CHECK(dtype_ == dtype_of<T>(), "Tensor::data", "expected dtype ",
                to_string(dtype_of<T>()), ", got ", to_string(dtype_));
    return static_cast<T*>(raw_data());
  }

  // ---- element access (CPU only; for tests and small code) --------------------------------
  // Reads/writes one element by multi-index; checks rank and bounds. set() refuses broadcast
  // views, like copy_.
  float at(std::initializer_list<int64_t> index) const;
  void set(std::initializer_list<int64_t> index, Scalar value);
  float item() const;  // the value of a one-element tensor, as float
  int64_t item_int() const;
  // All elements in logical (row-major) order, converted to T (as astype converts).
  template <typename T>
  std::vector<T> to_vector() const;

  // ---- views (share storage, never copy) --------------------------------------------------
  // reshape: one dim may be -1. Throws if the layout cannot be viewed (call contiguous()).
  Tensor reshape(Shape new_shape) const;
  Tensor view(Shape new_shape) const { return reshape(std::move(new_shape)); }
  Tensor flatten() const { return reshape({numel()}); }
  Tensor permute(std::vector<int64_t> dims) const;
  Tensor transpose(int64_t dim0, int64_t dim1) const;
  Tensor t() const;  // swaps the last two dims
  // slice(axis, start, stop, step): Python semantics for negative start/stop, clamped.
  Tensor slice(int64_t axis, int64_t start, int64_t stop, int64_t step = 1) const;
  Tensor select(int64_t axis, int64_t index) const;  // drops the axis
  Tensor expand(Shape new_shape) const;              // NumPy broadcast_to
  Tensor broadcast_to(Shape new_shape) const { return expand(std::move(new_shape)); }
  Tensor squeeze() const;
  Tensor squeeze(int64_t axis) const;
  Tensor unsqueeze(int64_t axis) const;

  // ---- copies ---------------------------------------------------------------------------
  Tensor contiguous() const;  // returns *this when already contiguous
  Tensor clone() const;       // always a fresh contiguous copy
  Tensor to(Device device) const;  // returns *this when already there
  Tensor cpu() const { return to(Device::CPU); }
  Tensor cuda() const { return to(Device::CUDA); }
  // Always a copy, also to the same dtype. int64 -> float32 rounds once (to nearest even);
  // to an integer dtype truncates toward zero, and NaN, infinities and values out of range
  // throw an mlsys::Error naming the value.
  Tensor astype(DType dtype) const;
  // Copies `src` (broadcast to this shape) into this view, in place. When `src` shares memory
  // with this view, the result is as if `src` had been copied first (as in NumPy). A broadcast
  // view (stride 0 along a dim of size > 1) is read-only: writing into it throws.
  void copy_(const Tensor& src);
  void fill_(Scalar value);

  // Internal: builds a view. Checks that it stays inside the storage.
  static Tensor make_view(std::shared_ptr<Storage> storage, Shape shape, Shape strides,
                          int64_t offset, DType dtype);

 private:
  std::shared_ptr<Storage> storage_;
  Shape shape_;
  Shape strides_;
  int64_t offset_ = 0;
  DType dtype_ = DType::Float32;
};

// Row-major strides for a contiguous tensor of this shape.
Shape contiguous_strides(const Shape& shape);
// Normalizes a possibly negative axis; throws naming `op` when out of range.
int64_t normalize_axis(int64_t axis, int64_t ndim, const char* op);
// NumPy broadcasting of two shapes; throws naming `op` when they are incompatible.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);

// ---- creation ----------------------------------------------------------------------------
Tensor empty(Shape shape, DType dtype = DType::Float32, Device device = Device::CPU);
Tensor zeros(Shape shape, DType dtype = DType::Float32, Device device = Device::CPU);
Tensor ones(Shape shape, DType dtype = DType::Float32, Device device = Device::CPU);
Tensor full(Shape shape, Scalar value, DType dtype = DType::Float32, Device device = Device::CPU);
Tensor scalar(float value, Device device = Device::CPU);  // a 0-dim float32 tensor
// [start, stop) with step; float32 unless dtype says otherwise. start, stop and step must be
// finite.
Tensor arange(double start, double stop, double step = 1.0, DType dtype = DType::Float32,
              Device device = Device::CPU);
// Copies `values` (size must equal numel(shape)). T is float, int32_t or int64_t.
template <typename T>
Tensor from_vector(const std::vector<T>& values, Shape shape, Device device = Device::CPU);
Tensor zeros_like(const Tensor& t);
Tensor ones_like(const Tensor& t);

// Seeded random numbers (see mlsys/random.h for the generator). The same (seed, shape) gives
// the same values on every platform, compiler and device.
Tensor rand(Shape shape, uint64_t seed, float low = 0.f, float high = 1.f,
            Device device = Device::CPU);
Tensor randn(Shape shape, uint64_t seed, float mean = 0.f, float std = 1.f,
             Device device = Device::CPU);
// Integers uniformly in [low, high), int64.
Tensor randint(Shape shape, uint64_t seed, int64_t low, int64_t high,
               Device device = Device::CPU);

}  // namespace mlsys
