// Tensor: storage, views, copies and creation. Math lives in ops.cpp (dispatch) and
// ops_cpu.cpp (CPU kernels); CUDA kernels behind backend.h.
#include "mlsys/tensor.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <map>
#include <mutex>
#include <sstream>
#include <type_traits>

#include "backend.h"
#include "cpu_kernels.h"
#include "mlsys/memory_stats.h"
#include "mlsys/random.h"

namespace mlsys {

// ============================================================================================
// Names, sizes, shapes
// ============================================================================================

const char* to_string(DType dtype) {
  switch (dtype) {
    case DType::Float32: return "float32";
    case DType::Int32: return "int32";
    case DType::Int64: return "int64";
  }
  return "?";
}

const char* to_string(Device device) { return device == Device::CPU ? "cpu" : "cuda"; }

std::string to_string(const Shape& shape) {
  std::ostringstream os;
  os << "[";
  for (size_t i = 0; i < shape.size(); ++i) os << (i ? ", " : "") << shape[i];
  os << "]";
  return os.str();
}

size_t dtype_size(DType dtype) { return dtype == DType::Int64 ? 8 : 4; }

int64_t numel(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

Shape contiguous_strides(const Shape& shape) {
  Shape strides(shape.size());
  int64_t s = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    strides[i] = s;
    s *= std::max<int64_t>(shape[i], 1);
  }
  return strides;
}

int64_t normalize_axis(int64_t axis, int64_t ndim, const char* op) {
  MLSYS_CHECK(axis >= -ndim && axis < ndim, op, "axis ", axis, " is out of range for a ", ndim,
              "-d tensor (expected ", -ndim, " <= axis < ", ndim, ")");
  return axis < 0 ? axis + ndim : axis;
}

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (size_t i = 0; i < n; ++i) {
    int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    MLSYS_CHECK(da == db || da == 1 || db == 1, op, "shapes ", to_string(a), " and ",
                to_string(b), " cannot be broadcast together (dim ", i, ": ", da, " vs ", db,
                ")");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

// a * b for element counts, or an Error when the product exceeds kMaxNumel (a, b >= 0).
static int64_t checked_mul(int64_t a, int64_t b, const Shape& shape, const char* op) {
  int64_t n = 0;
  MLSYS_CHECK(!__builtin_mul_overflow(a, b, &n) && n <= kMaxNumel, op, "shape ",
              to_string(shape), " has more elements than the ", kMaxNumel,
              " (2^60 - 1) a tensor can hold");
  return n;
}

static void check_shape(const Shape& shape, const char* op) {
  MLSYS_CHECK(shape.size() <= static_cast<size_t>(kMaxDims), op, "at most ", kMaxDims,
              " dims are supported, got shape ", to_string(shape));
  int64_t n = 1;
  for (int64_t d : shape) {
    MLSYS_CHECK(d >= 0, op, "dims must be non-negative, got shape ", to_string(shape));
    n = checked_mul(n, d, shape, op);
  }
}

// Enums that come from outside (a cast integer, a Python binding) are checked before use.
static void check_dtype_device(DType dtype, Device device, const char* op) {
  int d = static_cast<int>(dtype), v = static_cast<int>(device);
  MLSYS_CHECK(d >= 0 && d <= static_cast<int>(DType::Int64), op, "dtype DType(", d,
              ") is not a dtype (expected float32, int32 or int64)");
  MLSYS_CHECK(v >= 0 && v <= static_cast<int>(Device::CUDA), op, "device Device(", v,
              ") is not a device (expected cpu or cuda)");
}

// ============================================================================================
// Element conversion: one rule for astype, full, fill_, set, arange and element reads
// ============================================================================================

// Calls f(T{}) with T the C++ type of `dtype`.
template <typename F>
static void visit_dtype(DType dtype, F f) {
  switch (dtype) {
    case DType::Float32: return f(float{});
    case DType::Int32: return f(int32_t{});
    case DType::Int64: return f(int64_t{});
  }
}

// One value of type From as type To. To a float type: a single rounding (an int64 goes
// straight to float, not through double, which would round twice). To an integer type:
// truncation toward zero; NaN, infinities and out-of-range values have no integer value, and
// casting them is undefined behaviour in C++, so they throw.
template <typename To, typename From>
static To convert(From value, const char* op) {
  if constexpr (std::is_floating_point_v<To> || std::is_same_v<To, From>) {
    return static_cast<To>(value);
  } else {
    // The limits of To as doubles are exact: -2^31, 2^31 - 1 and -2^63 (2^63 - 1 rounds up to
    // 2^63, hence the strict comparison against -lo).
    constexpr double lo = static_cast<double>(std::numeric_limits<To>::min());
    bool ok;
    if constexpr (std::is_floating_point_v<From>) {
      double t = std::trunc(static_cast<double>(value));
      ok = t >= lo && t < -lo;  // false for NaN
    } else {
      ok = value >= std::numeric_limits<To>::min() && value <= std::numeric_limits<To>::max();
    }
    if (!ok) {
      std::ostringstream os;
      os.precision(17);
      os << value;
      MLSYS_FAIL(op, "value ", os.str(), " cannot be converted to ", to_string(dtype_of<To>()),
                 " (NaN, infinities and values outside [", std::numeric_limits<To>::min(), ", ",
                 std::numeric_limits<To>::max(), "] have no ", to_string(dtype_of<To>()),
                 " value)");
    }
    return static_cast<To>(value);
  }
}

template <typename To>
static To convert_scalar(const Scalar& value, const char* op) {
  return value.is_integer() ? convert<To>(value.integer(), op) : convert<To>(value.floating(), op);
}

// Element `off` (relative to the view's first element) of a CPU tensor, converted to To.
template <typename To>
static To read_as(const Tensor& t, int64_t off, const char* op) {
  To out{};
  visit_dtype(t.dtype(), [&](auto tag) {
    using T = decltype(tag);
    out = convert<To>(static_cast<const T*>(t.raw_data())[off], op);
  });
  return out;
}

// Broadcast views alias several positions to one element, so a write to them is ambiguous;
// NumPy makes them read-only, and so do we.
static void check_writable(const Tensor& t, const char* op) {
  for (size_t d = 0; d < t.shape().size(); ++d)
    MLSYS_CHECK(t.strides()[d] != 0 || t.shape()[d] <= 1, op, "cannot write into the broadcast ",
                "view ", t.describe(), ": dim ", d, " has stride 0, so its ", t.shape()[d],
                " positions are one element. Broadcast (expanded) views are read-only, as in "
                "NumPy; write into the tensor it was expanded from, or into a clone()");
}


// ============================================================================================
// Storage
// ============================================================================================

// Host allocations go through a small cache of freed blocks, keyed by exact size. Ops return
// fresh tensors, so a training loop allocates the same sizes every step; reusing the blocks
// avoids a page fault on every 4 KiB of every new output (a 2x slowdown for a 256x256 matmul
// on 16 threads). Blocks under 64 KiB are left to malloc; the cache holds at most 1 GiB.
// Sanitizer builds bypass it so that use-after-free is still caught.
namespace {
class HostBlockCache {
 public:
  void* allocate(size_t bytes) {
    if (cacheable(bytes)) {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = free_.find(bytes);
      if (it != free_.end()) {
        void* p = it->second;
        free_.erase(it);
        cached_bytes_ -= bytes;
        return p;
      }
    }
    // 64-byte alignment for SIMD on anything large; tiny tensors (graph engines make millions
    // of them) take malloc's faster path, which aligns to 16 bytes.
    if (bytes < kSmallBytes) return std::malloc(bytes);
    return std::aligned_alloc(64, bytes);
  }
  void release(void* p, size_t bytes) {
    if (cacheable(bytes)) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (cached_bytes_ + bytes <= kMaxCachedBytes) {
        free_.emplace(bytes, p);
        cached_bytes_ += bytes;
        return;
      }
    }
    std::free(p);
  }
  ~HostBlockCache() {
    for (auto& [bytes, p] : free_) std::free(p);
  }

 private:
  static bool cacheable(size_t bytes) {
#if defined(__SANITIZE_ADDRESS__)
    (void)bytes;
    return false;
#else
    return bytes >= (size_t{64} << 10);
#endif
  }
  static constexpr size_t kMaxCachedBytes = size_t{1} << 30;
  static constexpr size_t kSmallBytes = 1024;
  std::mutex mutex_;
  std::multimap<size_t, void*> free_;
  size_t cached_bytes_ = 0;
};

HostBlockCache& host_cache() {
  static HostBlockCache* cache = new HostBlockCache();  // never destroyed: storages may outlive statics
  return *cache;
}

// Rounded up to whole 64-byte lines (aligned_alloc needs a multiple of its alignment).
size_t host_bytes(size_t nbytes) { return (std::max<size_t>(nbytes, 1) + 63) / 64 * 64; }
}  // namespace

// Sanitizer builds keep every block on the heap so that overruns of tiny tensors are caught.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kUseInline = false;
#else
constexpr bool kUseInline = true;
#endif

Storage::Storage(size_t nbytes, Device device) : nbytes_(nbytes), device_(device) {
  if (device == Device::CPU && kUseInline && nbytes <= kInlineBytes) {
    data_ = inline_;
  } else if (device == Device::CPU) {
    data_ = host_cache().allocate(host_bytes(nbytes));
    MLSYS_CHECK(data_ != nullptr, "Storage", "out of host memory allocating ", nbytes, " bytes");
  } else {
    data_ = detail::cuda_alloc(std::max<size_t>(nbytes, 1));
  }
  if (device == Device::CPU) memory::on_alloc(data_, nbytes);  // per-tag accounting
}

Storage::~Storage() {
  if (device_ == Device::CPU) memory::on_free(data_);
  if (data_ == inline_) return;
  if (device_ == Device::CPU)
    host_cache().release(data_, host_bytes(nbytes_));
  else
    detail::cuda_free(data_);
}

// ============================================================================================
// Construction and metadata
// ============================================================================================

Tensor::Tensor(Shape shape, DType dtype, Device device) {
  check_shape(shape, "Tensor");
  check_dtype_device(dtype, device, "Tensor");
  int64_t n = mlsys::numel(shape);
  storage_ = std::make_shared<Storage>(static_cast<size_t>(n) * dtype_size(dtype), device);
  strides_ = contiguous_strides(shape);
  shape_ = std::move(shape);
  dtype_ = dtype;
}

Tensor Tensor::make_view(std::shared_ptr<Storage> storage, Shape shape, Shape strides,
                         int64_t offset, DType dtype) {
  check_shape(shape, "Tensor::make_view");
  MLSYS_CHECK(storage != nullptr, "Tensor::make_view", "storage is null");
  check_dtype_device(dtype, storage->device(), "Tensor::make_view");
  MLSYS_CHECK(shape.size() == strides.size(), "Tensor::make_view", "shape ", to_string(shape),
              " and strides ", to_string(strides), " differ in rank");
  // The lowest and highest element addressed must lie inside the storage.
  if (mlsys::numel(shape) > 0) {
    int64_t lo = offset, hi = offset;
    for (size_t i = 0; i < shape.size(); ++i) {
      int64_t reach = (shape[i] - 1) * strides[i];
      (reach < 0 ? lo : hi) += reach;
    }
    int64_t capacity = static_cast<int64_t>(storage->nbytes() / dtype_size(dtype));
    MLSYS_CHECK(lo >= 0 && hi < capacity, "Tensor::make_view", "view ", to_string(shape),
                " with strides ", to_string(strides), " and offset ", offset,
                " reaches outside its storage of ", capacity, " elements");
  }
  Tensor t;
  t.storage_ = std::move(storage);
  t.shape_ = std::move(shape);
  t.strides_ = std::move(strides);
  t.offset_ = offset;
  t.dtype_ = dtype;
  return t;
}

static void check_defined(const Tensor& t, const char* op) {
  MLSYS_CHECK(t.defined(), op, "the tensor is undefined (default-constructed)");
}

int64_t Tensor::size(int64_t axis) const { return shape_[normalize_axis(axis, dim(), "Tensor::size")]; }
int64_t Tensor::numel() const { return mlsys::numel(shape_); }

Device Tensor::device() const {
  check_defined(*this, "Tensor::device");
  return storage_->device();
}

bool Tensor::is_contiguous() const {
  if (numel() == 0) return true;  // no element to place, as in NumPy
  int64_t expected = 1;
  for (size_t i = shape_.size(); i-- > 0;) {
    if (shape_[i] == 1) continue;
    if (strides_[i] != expected) return false;
    expected *= shape_[i];
  }
  return true;
}

std::string Tensor::describe() const {
  if (!defined()) return "undefined tensor";
  return std::string(to_string(dtype_)) + to_string(shape_) + " " + to_string(device());
}

void* Tensor::raw_data() const {
  check_defined(*this, "Tensor::data");
  return static_cast<char*>(storage_->data()) + offset_ * static_cast<int64_t>(dtype_size(dtype_));
}

// ============================================================================================
// Element access
// ============================================================================================

static int64_t element_offset(const Tensor& t, std::initializer_list<int64_t> index,
                              const char* op) {
  check_defined(t, op);
  MLSYS_CHECK(t.device() == Device::CPU, op, "element access needs a CPU tensor, got ",
              t.describe(), " (call .cpu() first)");
  MLSYS_CHECK(static_cast<int64_t>(index.size()) == t.dim(), op, "expected ", t.dim(),
              " indices for shape ", to_string(t.shape()), ", got ", index.size());
  int64_t off = 0, i = 0;
  for (int64_t idx : index) {
    int64_t n = t.shape()[i];
    MLSYS_CHECK(idx >= -n && idx < n, op, "index ", idx, " is out of range for dim ", i,
                " of size ", n, " (shape ", to_string(t.shape()), ")");
    off += (idx < 0 ? idx + n : idx) * t.strides()[i];
    ++i;
  }
  return off;
}

float Tensor::at(std::initializer_list<int64_t> index) const {
  return read_as<float>(*this, element_offset(*this, index, "Tensor::at"), "Tensor::at");
}

void Tensor::set(std::initializer_list<int64_t> index, Scalar value) {
  int64_t off = element_offset(*this, index, "Tensor::set");
  check_writable(*this, "Tensor::set");
  visit_dtype(dtype_, [&](auto tag) {
    using T = decltype(tag);
    static_cast<T*>(raw_data())[off] = convert_scalar<T>(value, "Tensor::set");
  });
}

float Tensor::item() const {
  check_defined(*this, "Tensor::item");
  MLSYS_CHECK(numel() == 1, "Tensor::item", "expected a tensor with one element, got shape ",
              to_string(shape_));
  return read_as<float>(cpu(), 0, "Tensor::item");
}

int64_t Tensor::item_int() const {
  check_defined(*this, "Tensor::item_int");
  MLSYS_CHECK(numel() == 1, "Tensor::item_int", "expected a tensor with one element, got shape ",
              to_string(shape_));
  return read_as<int64_t>(cpu(), 0, "Tensor::item_int");
}

template <typename T>
std::vector<T> Tensor::to_vector() const {
  check_defined(*this, "Tensor::to_vector");
  Tensor c = cpu().contiguous();
  std::vector<T> out(static_cast<size_t>(c.numel()));
  visit_dtype(c.dtype(), [&](auto tag) {
    using S = decltype(tag);
    const S* p = static_cast<const S*>(c.raw_data());
    for (size_t i = 0; i < out.size(); ++i) out[i] = convert<T>(p[i], "Tensor::to_vector");
  });
  return out;
}
template std::vector<float> Tensor::to_vector<float>() const;
template std::vector<double> Tensor::to_vector<double>() const;
template std::vector<int32_t> Tensor::to_vector<int32_t>() const;
template std::vector<int64_t> Tensor::to_vector<int64_t>() const;

// ============================================================================================
// Views
// ============================================================================================

// Computes strides for viewing (shape, strides) as new_shape without copying, or returns
// false. Works group by group: each run of old dims that is contiguous in memory can be
// re-split freely.
static bool view_strides(const Shape& shape, const Shape& strides, const Shape& new_shape,
                         Shape& new_strides) {
  new_strides.assign(new_shape.size(), 0);
  if (numel(shape) == 0) {
    new_strides = contiguous_strides(new_shape);
    return true;
  }
  // Drop size-1 dims from the old layout; they constrain nothing.
  Shape s, st;
  for (size_t i = 0; i < shape.size(); ++i)
    if (shape[i] != 1) { s.push_back(shape[i]); st.push_back(strides[i]); }
  size_t oi = 0, ni = 0;
  while (ni < new_shape.size() || oi < s.size()) {
    if (ni < new_shape.size() && new_shape[ni] == 1) {
      new_strides[ni] = 1;
      ++ni;
      continue;
    }
    if (oi >= s.size() || ni >= new_shape.size()) return false;
    // Grow a group of old dims and a group of new dims until their sizes match.
    int64_t old_size = s[oi], new_size = new_shape[ni];
    size_t og = oi, ng = ni;
    while (old_size != new_size) {
      if (old_size < new_size) {
        if (++oi >= s.size()) return false;
        if (st[oi - 1] != st[oi] * s[oi]) return false;  // old group must be contiguous
        old_size *= s[oi];
      } else {
        if (++ni >= new_shape.size()) return false;
        new_size *= new_shape[ni];
      }
    }
    // The group's innermost stride is that of old dim oi; lay new dims out inside it.
    int64_t stride = st[oi];
    for (size_t k = ni + 1; k-- > ng;) {
      new_strides[k] = stride;
      stride *= new_shape[k];
    }
    (void)og;
    ++oi;
    ++ni;
  }
  return true;
}

Tensor Tensor::reshape(Shape new_shape) const {
  check_defined(*this, "reshape");
  int64_t infer = -1, known = 1;
  for (size_t i = 0; i < new_shape.size(); ++i) {
    if (new_shape[i] == -1) {
      MLSYS_CHECK(infer < 0, "reshape", "only one dim may be -1, got ", to_string(new_shape));
      infer = static_cast<int64_t>(i);
    } else {
      MLSYS_CHECK(new_shape[i] >= 0, "reshape", "dims must be >= 0 or -1, got ",
                  to_string(new_shape));
      known = checked_mul(known, new_shape[i], new_shape, "reshape");
    }
  }
  if (infer >= 0) {
    MLSYS_CHECK(known != 0 && numel() % known == 0, "reshape", "cannot infer the -1 dim of ",
                to_string(new_shape), " for ", numel(), " elements (shape ", to_string(shape_),
                ")");
    new_shape[infer] = numel() / known;
  }
  MLSYS_CHECK(mlsys::numel(new_shape) == numel(), "reshape", "shape ", to_string(new_shape),
              " has ", mlsys::numel(new_shape), " elements, but the input ", to_string(shape_),
              " has ", numel());
  check_shape(new_shape, "reshape");
  Shape new_strides;
  MLSYS_CHECK(view_strides(shape_, strides_, new_shape, new_strides), "reshape",
              "cannot view shape ", to_string(shape_), " with strides ", to_string(strides_),
              " as ", to_string(new_shape),
              " without copying; call .contiguous() first, then reshape");
  return make_view(storage_, std::move(new_shape), std::move(new_strides), offset_, dtype_);
}

Tensor Tensor::permute(std::vector<int64_t> dims) const {
  check_defined(*this, "permute");
  MLSYS_CHECK(static_cast<int64_t>(dims.size()) == dim(), "permute", "expected ", dim(),
              " dims for shape ", to_string(shape_), ", got ", to_string(dims));
  Shape s(dims.size()), st(dims.size());
  std::vector<bool> seen(dims.size(), false);
  for (size_t i = 0; i < dims.size(); ++i) {
    int64_t d = normalize_axis(dims[i], dim(), "permute");
    MLSYS_CHECK(!seen[d], "permute", "dim ", d, " appears twice in ", to_string(dims));
    seen[d] = true;
    s[i] = shape_[d];
    st[i] = strides_[d];
  }
  return make_view(storage_, std::move(s), std::move(st), offset_, dtype_);
}

Tensor Tensor::transpose(int64_t dim0, int64_t dim1) const {
  check_defined(*this, "transpose");
  std::vector<int64_t> dims(shape_.size());
  for (size_t i = 0; i < dims.size(); ++i) dims[i] = static_cast<int64_t>(i);
  std::swap(dims[normalize_axis(dim0, dim(), "transpose")],
            dims[normalize_axis(dim1, dim(), "transpose")]);
  return permute(dims);
}

Tensor Tensor::t() const {
  MLSYS_CHECK(dim() >= 2, "t", "expected at least 2 dims, got shape ", to_string(shape_));
  return transpose(-2, -1);
}

Tensor Tensor::slice(int64_t axis, int64_t start, int64_t stop, int64_t step) const {
  check_defined(*this, "slice");
  axis = normalize_axis(axis, dim(), "slice");
  MLSYS_CHECK(step > 0, "slice", "step must be positive, got ", step);
  int64_t n = shape_[axis];
  auto clamp = [n](int64_t i) { return std::min(std::max(i < 0 ? i + n : i, int64_t{0}), n); };
  start = clamp(start);
  stop = clamp(stop);
  int64_t len = stop > start ? (stop - start + step - 1) / step : 0;
  Shape s = shape_, st = strides_;
  s[axis] = len;
  st[axis] = strides_[axis] * step;
  int64_t off = len > 0 ? offset_ + start * strides_[axis] : offset_;
  return make_view(storage_, std::move(s), std::move(st), off, dtype_);
}

Tensor Tensor::select(int64_t axis, int64_t index) const {
  check_defined(*this, "select");
  axis = normalize_axis(axis, dim(), "select");
  int64_t n = shape_[axis];
  MLSYS_CHECK(index >= -n && index < n, "select", "index ", index, " is out of range for dim ",
              axis, " of size ", n);
  if (index < 0) index += n;
  Shape s = shape_, st = strides_;
  s.erase(s.begin() + axis);
  st.erase(st.begin() + axis);
  return make_view(storage_, std::move(s), std::move(st), offset_ + index * strides_[axis],
                   dtype_);
}

Tensor Tensor::expand(Shape new_shape) const {
  check_defined(*this, "expand");
  MLSYS_CHECK(new_shape.size() >= shape_.size(), "expand", "cannot broadcast shape ",
              to_string(shape_), " to fewer dims ", to_string(new_shape));
  size_t lead = new_shape.size() - shape_.size();
  Shape st(new_shape.size(), 0);
  for (size_t i = 0; i < shape_.size(); ++i) {
    int64_t from = shape_[i], to = new_shape[lead + i];
    MLSYS_CHECK(from == to || from == 1, "expand", "cannot broadcast shape ", to_string(shape_),
                " to ", to_string(new_shape), " (dim ", i, ": ", from, " vs ", to, ")");
    st[lead + i] = from == to ? strides_[i] : 0;
  }
  return make_view(storage_, std::move(new_shape), std::move(st), offset_, dtype_);
}

Tensor Tensor::squeeze() const {
  Shape s, st;
  for (size_t i = 0; i < shape_.size(); ++i)
    if (shape_[i] != 1) { s.push_back(shape_[i]); st.push_back(strides_[i]); }
  return make_view(storage_, std::move(s), std::move(st), offset_, dtype_);
}

Tensor Tensor::squeeze(int64_t axis) const {
  check_defined(*this, "squeeze");
  axis = normalize_axis(axis, dim(), "squeeze");
  MLSYS_CHECK(shape_[axis] == 1, "squeeze", "dim ", axis, " has size ", shape_[axis],
              ", expected 1 (shape ", to_string(shape_), ")");
  return select(axis, 0);
}

Tensor Tensor::unsqueeze(int64_t axis) const {
  check_defined(*this, "unsqueeze");
  axis = normalize_axis(axis, dim() + 1, "unsqueeze");
  Shape s = shape_, st = strides_;
  int64_t stride = axis < dim() ? strides_[axis] * shape_[axis] : 1;
  s.insert(s.begin() + axis, 1);
  st.insert(st.begin() + axis, stride);
  return make_view(storage_, std::move(s), std::move(st), offset_, dtype_);
}

// ============================================================================================
// Copies
// ============================================================================================

// True when views a and b of one storage may share an element: their spans [first, last]
// of element offsets intersect. O(ndim); it can say yes for interleaved views that touch no
// common element (t[0::2] and t[1::2]), which then just cost one extra copy.
static bool may_overlap(const Tensor& a, const Tensor& b) {
  if (a.storage() != b.storage() || a.numel() == 0 || b.numel() == 0) return false;
  auto span = [](const Tensor& t) {
    int64_t lo = t.offset(), hi = t.offset();
    for (size_t d = 0; d < t.shape().size(); ++d) {
      int64_t reach = (t.shape()[d] - 1) * t.strides()[d];
      (reach < 0 ? lo : hi) += reach;
    }
    return std::pair<int64_t, int64_t>(lo, hi);
  };
  auto [a_lo, a_hi] = span(a);
  auto [b_lo, b_hi] = span(b);
  return a_lo <= b_hi && b_lo <= a_hi;
}

void Tensor::copy_(const Tensor& src) {
  check_defined(*this, "copy_");
  check_defined(src, "copy_");
  MLSYS_CHECK(src.dtype() == dtype_, "copy_", "argument 'src' expected dtype ", to_string(dtype_),
              ", got ", to_string(src.dtype()), " (use astype)");
  check_writable(*this, "copy_");
  Tensor s = src;
  if (s.device() != device())
    s = s.contiguous().to(device());
  else if (may_overlap(*this, s))
    s = s.clone();  // the kernels read and write in one pass: stage src so none is overwritten
  Tensor b = s.expand(shape_);  // throws if src does not broadcast to this shape
  if (device() == Device::CPU) {
    detail::cpu_copy_strided(raw_data(), detail::layout_of(*this), b.raw_data(),
                             detail::layout_of(b), dtype_size(dtype_));
  } else {
    detail::cuda_copy_strided(raw_data(), detail::layout_of(*this), b.raw_data(),
                              detail::layout_of(b), dtype_size(dtype_));
  }
}

static Tensor full_named(Shape shape, Scalar value, DType dtype, Device device, const char* op);

void Tensor::fill_(Scalar value) {
  check_defined(*this, "fill_");
  check_writable(*this, "fill_");
  copy_(full_named({}, value, dtype_, Device::CPU, "fill_"));
}

Tensor Tensor::contiguous() const {
  check_defined(*this, "contiguous");
  if (is_contiguous()) return *this;
  Tensor out(shape_, dtype_, device());
  out.copy_(*this);
  return out;
}

Tensor Tensor::clone() const {
  check_defined(*this, "clone");
  Tensor out(shape_, dtype_, device());
  out.copy_(*this);
  return out;
}

Tensor Tensor::to(Device device) const {
  check_defined(*this, "to");
  if (device == this->device()) return *this;
  MLSYS_CHECK(device == Device::CPU || cuda_available(), "to", "cannot move ", describe(),
              " to cuda: ",
              cuda_built() ? "no CUDA device was found" : "this build has no CUDA support");
  Tensor src = contiguous();
  Tensor out(shape_, dtype_, device);
  detail::cuda_memcpy(out.raw_data(), device, src.raw_data(), src.device(),
                      static_cast<size_t>(numel()) * dtype_size(dtype_));
  return out;
}

Tensor Tensor::astype(DType dtype) const {
  check_defined(*this, "astype");
  check_dtype_device(dtype, device(), "astype");
  if (dtype == dtype_) return clone();
  Tensor src = cpu().contiguous();
  Tensor out(shape_, dtype, Device::CPU);
  const int64_t n = numel();
  visit_dtype(dtype_, [&](auto from) {
    visit_dtype(dtype, [&](auto to) {
      using From = decltype(from);
      using To = decltype(to);
      const From* s = src.data<From>();
      To* d = out.data<To>();
      for (int64_t i = 0; i < n; ++i) d[i] = convert<To>(s[i], "astype");
    });
  });
  return out.to(device());
}

// ============================================================================================
// Creation
// ============================================================================================

Tensor empty(Shape shape, DType dtype, Device device) { return Tensor(std::move(shape), dtype, device); }

static Tensor full_named(Shape shape, Scalar value, DType dtype, Device device, const char* op) {
  Tensor t(std::move(shape), dtype, device);
  visit_dtype(dtype, [&](auto tag) {
    using T = decltype(tag);
    const T v = convert_scalar<T>(value, op);
    if (device == Device::CUDA)
      detail::cuda_fill(t.raw_data(), t.numel(), &v, sizeof(T));
    else
      std::fill_n(t.data<T>(), t.numel(), v);
  });
  return t;
}

Tensor full(Shape shape, Scalar value, DType dtype, Device device) {
  return full_named(std::move(shape), value, dtype, device, "full");
}

Tensor zeros(Shape shape, DType dtype, Device device) { return full(std::move(shape), 0.f, dtype, device); }
Tensor ones(Shape shape, DType dtype, Device device) { return full(std::move(shape), 1.f, dtype, device); }
Tensor scalar(float value, Device device) { return full({}, value, DType::Float32, device); }
Tensor zeros_like(const Tensor& t) { return zeros(t.shape(), t.dtype(), t.device()); }
Tensor ones_like(const Tensor& t) { return ones(t.shape(), t.dtype(), t.device()); }

Tensor arange(double start, double stop, double step, DType dtype, Device device) {
  MLSYS_CHECK(std::isfinite(start) && std::isfinite(stop) && std::isfinite(step), "arange",
              "start, stop and step must be finite, got start=", start, ", stop=", stop,
              ", step=", step);
  MLSYS_CHECK(step != 0, "arange", "step must be non-zero");
  const double len = std::ceil((stop - start) / step);  // may be +-inf for a tiny step
  MLSYS_CHECK(len <= static_cast<double>(kMaxNumel), "arange", "[", start, ", ", stop,
              ") by step ", step, " has ", len, " elements; at most ", kMaxNumel,
              " are supported");
  const int64_t n = len > 0 ? static_cast<int64_t>(len) : 0;
  Tensor t({n}, dtype, Device::CPU);
  visit_dtype(dtype, [&](auto tag) {
    using T = decltype(tag);
    T* p = t.data<T>();
    for (int64_t i = 0; i < n; ++i) p[i] = convert<T>(start + static_cast<double>(i) * step, "arange");
  });
  return t.to(device);
}

template <typename T>
Tensor from_vector(const std::vector<T>& values, Shape shape, Device device) {
  check_shape(shape, "from_vector");
  MLSYS_CHECK(static_cast<int64_t>(values.size()) == mlsys::numel(shape), "from_vector",
              "shape ", to_string(shape), " needs ", mlsys::numel(shape), " values, got ",
              values.size());
  Tensor t(std::move(shape), dtype_of<T>(), Device::CPU);
  if (!values.empty()) std::memcpy(t.raw_data(), values.data(), values.size() * sizeof(T));
  return t.to(device);
}
template Tensor from_vector<float>(const std::vector<float>&, Shape, Device);
template Tensor from_vector<int32_t>(const std::vector<int32_t>&, Shape, Device);
template Tensor from_vector<int64_t>(const std::vector<int64_t>&, Shape, Device);

Tensor rand(Shape shape, uint64_t seed, float low, float high, Device device) {
  Tensor t(std::move(shape), DType::Float32, Device::CPU);
  float* p = t.data<float>();
  int64_t n = t.numel();
  for (int64_t i = 0; i < n; ++i)
    p[i] = low + (high - low) * uniform_from_word(philox_word(seed, static_cast<uint64_t>(i)));
  return t.to(device);
}

Tensor randn(Shape shape, uint64_t seed, float mean, float std, Device device) {
  // Box-Muller: element i uses words 2i and 2i+1; u1 in (0, 1] so log(u1) is finite.
  Tensor t(std::move(shape), DType::Float32, Device::CPU);
  float* p = t.data<float>();
  int64_t n = t.numel();
  const double two_pi = 6.283185307179586476925286766559;
  for (int64_t i = 0; i < n; ++i) {
    uint64_t k = 2 * static_cast<uint64_t>(i);
    double u1 = (static_cast<double>(philox_word(seed, k) >> 8) + 1.0) / 16777216.0;
    double u2 = static_cast<double>(philox_word(seed, k + 1) >> 8) / 16777216.0;
    double z = std::sqrt(-2.0 * std::log(u1)) * std::cos(two_pi * u2);
    p[i] = static_cast<float>(mean + std * z);
  }
  return t.to(device);
}

Tensor randint(Shape shape, uint64_t seed, int64_t low, int64_t high, Device device) {
  MLSYS_CHECK(high > low, "randint", "expected low < high, got [", low, ", ", high, ")");
  Tensor t(std::move(shape), DType::Int64, Device::CPU);
  int64_t* p = t.data<int64_t>();
  uint64_t range = static_cast<uint64_t>(high - low);
  for (int64_t i = 0; i < t.numel(); ++i) {
    // 64 random bits from two words; the modulo bias is below 2^-32 for ranges < 2^32.
    uint64_t w = (static_cast<uint64_t>(philox_word(seed, 2 * i)) << 32) | philox_word(seed, 2 * i + 1);
    p[i] = low + static_cast<int64_t>(w % range);
  }
  return t.to(device);
}

}  // namespace mlsys
