// Tensor-level entries of every op: validate arguments (op, argument, expected, got), then
// dispatch to the CPU kernels (ops_cpu.cpp) or the CUDA backend (backend.h).
#include "mlsys/ops.h"

#include <algorithm>
#include <cmath>
#include <iterator>

#include "backend.h"
#include "cpu_kernels.h"

namespace mlsys {

namespace detail {

Layout layout_of(const Tensor& t) {
  Layout l;
  l.ndim = static_cast<int>(t.dim());
  for (int d = 0; d < l.ndim; ++d) {
    l.shape[d] = t.shape()[d];
    l.strides[d] = t.strides()[d];
  }
  return l;
}

// Same as layout_of(t.expand(shape)), without building the view (no allocation: graph engines
// call this for millions of tiny tensors).
Layout layout_as(const Tensor& t, const Shape& shape) {
  const Shape& from = t.shape();
  MLSYS_CHECK(shape.size() >= from.size() && shape.size() <= static_cast<size_t>(kMaxDims),
              "expand", "cannot broadcast shape ", to_string(from), " to ", to_string(shape));
  Layout l;
  l.ndim = static_cast<int>(shape.size());
  const size_t lead = shape.size() - from.size();
  for (size_t i = 0; i < shape.size(); ++i) {
    l.shape[i] = shape[i];
    if (i < lead) continue;  // a new leading dim: stride 0
    const int64_t f = from[i - lead];
    MLSYS_CHECK(f == shape[i] || f == 1, "expand", "cannot broadcast shape ", to_string(from),
                " to ", to_string(shape), " (dim ", i - lead, ": ", f, " vs ", shape[i], ")");
    l.strides[i] = f == shape[i] ? t.strides()[i - lead] : 0;
  }
  return l;
}

}  // namespace detail

using detail::layout_as;
using detail::layout_of;

// ============================================================================================
// Argument checks shared by the entries
// ============================================================================================

static void check_float(const Tensor& t, const char* op, const char* arg) {
  MLSYS_CHECK(t.defined(), op, "argument '", arg, "' is an undefined tensor");
  MLSYS_CHECK(t.dtype() == DType::Float32, op, "argument '", arg, "' expected dtype float32, got ",
              to_string(t.dtype()), " (convert with .astype(DType::Float32))");
}

static void check_same_device(const Tensor& a, const Tensor& b, const char* op, const char* arg_a,
                              const char* arg_b) {
  MLSYS_CHECK(a.device() == b.device(), op, "arguments '", arg_a, "' and '", arg_b,
              "' must be on the same device, got ", to_string(a.device()), " and ",
              to_string(b.device()), " (move one with .to(device))");
}

// The op's name, for messages. An op code outside the enum (a cast integer, a Python
// binding) is refused here, before any kernel switches on it.
static const char* unary_name(UnaryOp op) {
  static const char* names[] = {"neg", "exp", "log", "sqrt", "tanh", "relu", "sigmoid", "abs",
                                "sign", "relu_grad"};
  const int i = static_cast<int>(op), n = static_cast<int>(std::size(names));
  MLSYS_CHECK(i >= 0 && i < n, "unary", "op UnaryOp(", i, ") is not a unary op (expected 0..",
              n - 1, ")");
  return names[i];
}

static const char* binary_name(BinaryOp op) {
  static const char* names[] = {"add", "sub", "mul", "div", "pow", "maximum", "minimum",
                                "eq", "ne", "lt", "le", "gt", "ge"};
  const int i = static_cast<int>(op), n = static_cast<int>(std::size(names));
  MLSYS_CHECK(i >= 0 && i < n, "binary", "op BinaryOp(", i,
              ") is not a binary op (expected 0..", n - 1, ")");
  return names[i];
}

// ============================================================================================
// Elementwise
// ============================================================================================

Tensor unary(UnaryOp op, const Tensor& x) {
  const char* name = unary_name(op);
  check_float(x, name, "x");
  Tensor out(x.shape(), DType::Float32, x.device());
  if (x.is_cuda())
    detail::cuda_unary(op, out.data<float>(), x.data<float>(), layout_of(x), x.numel());
  else
    detail::cpu_unary(op, out.data<float>(), x.data<float>(), layout_of(x));
  return out;
}

Tensor binary(BinaryOp op, const Tensor& a, const Tensor& b) {
  const char* name = binary_name(op);
  check_float(a, name, "a");
  check_float(b, name, "b");
  check_same_device(a, b, name, "a", "b");
  Tensor out(broadcast_shapes(a.shape(), b.shape(), name), DType::Float32, a.device());
  const Shape& shape = out.shape();
  if (a.is_cuda())
    detail::cuda_binary(op, out.data<float>(), a.data<float>(), layout_as(a, shape),
                        b.data<float>(), layout_as(b, shape), out.numel());
  else
    detail::cpu_binary(op, out.data<float>(), a.data<float>(), layout_as(a, shape),
                       b.data<float>(), layout_as(b, shape));
  return out;
}

// With a float operand on the CPU, the float is read in place through a stride-0 layout (no
// 0-dim tensor is made for it).
Tensor binary(BinaryOp op, const Tensor& a, float b) {
  check_float(a, binary_name(op), "a");
  if (a.is_cuda()) return binary(op, a, scalar(b, a.device()));
  Tensor out(a.shape(), DType::Float32, a.device());
  detail::Layout bl;
  bl.ndim = static_cast<int>(a.dim());
  for (int d = 0; d < bl.ndim; ++d) bl.shape[d] = a.shape()[d];
  detail::cpu_binary(op, out.data<float>(), a.data<float>(), layout_of(a), &b, bl);
  return out;
}

Tensor binary(BinaryOp op, float a, const Tensor& b) {
  check_float(b, binary_name(op), "b");
  if (b.is_cuda()) return binary(op, scalar(a, b.device()), b);
  Tensor out(b.shape(), DType::Float32, b.device());
  detail::Layout al;
  al.ndim = static_cast<int>(b.dim());
  for (int d = 0; d < al.ndim; ++d) al.shape[d] = b.shape()[d];
  detail::cpu_binary(op, out.data<float>(), &a, al, b.data<float>(), layout_of(b));
  return out;
}

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  check_float(cond, "where", "cond");
  check_float(a, "where", "a");
  check_float(b, "where", "b");
  check_same_device(cond, a, "where", "cond", "a");
  check_same_device(a, b, "where", "a", "b");
  Shape shape = broadcast_shapes(broadcast_shapes(cond.shape(), a.shape(), "where"), b.shape(), "where");
  Tensor out(shape, DType::Float32, a.device());
  if (a.is_cuda())
    detail::cuda_where(out.data<float>(), cond.data<float>(), layout_as(cond, shape),
                       a.data<float>(), layout_as(a, shape), b.data<float>(), layout_as(b, shape),
                       out.numel());
  else
    detail::cpu_where(out.data<float>(), cond.data<float>(), layout_as(cond, shape),
                      a.data<float>(), layout_as(a, shape), b.data<float>(), layout_as(b, shape));
  return out;
}

Tensor operator-(const Tensor& x) { return neg(x); }
Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
Tensor operator+(const Tensor& a, float b) { return binary(BinaryOp::Add, a, b); }
Tensor operator-(const Tensor& a, float b) { return binary(BinaryOp::Sub, a, b); }
Tensor operator*(const Tensor& a, float b) { return binary(BinaryOp::Mul, a, b); }
Tensor operator/(const Tensor& a, float b) { return binary(BinaryOp::Div, a, b); }
Tensor operator+(float a, const Tensor& b) { return binary(BinaryOp::Add, a, b); }
Tensor operator-(float a, const Tensor& b) { return binary(BinaryOp::Sub, a, b); }
Tensor operator*(float a, const Tensor& b) { return binary(BinaryOp::Mul, a, b); }
Tensor operator/(float a, const Tensor& b) { return binary(BinaryOp::Div, a, b); }

// ============================================================================================
// Reductions
// ============================================================================================

// Normalizes `axes` ({} = all) into a mask over x's dims.
static std::vector<bool> reduced_mask(const Tensor& x, const std::vector<int64_t>& axes, const char* op) {
  std::vector<bool> mask(x.dim(), axes.empty());
  for (int64_t a : axes) {
    int64_t d = normalize_axis(a, x.dim(), op);
    MLSYS_CHECK(!mask[d], op, "axis ", a, " is repeated in the axes list");
    mask[d] = true;
  }
  return mask;
}

static Shape reduced_shape(const Tensor& x, const std::vector<bool>& mask, bool keepdims) {
  Shape s;
  for (int64_t d = 0; d < x.dim(); ++d) {
    if (!mask[d])
      s.push_back(x.shape()[d]);
    else if (keepdims)
      s.push_back(1);
  }
  return s;
}

static Tensor reduce(detail::ReduceOp op, const char* name, const Tensor& x,
                     const std::vector<int64_t>& axes, bool keepdims) {
  check_float(x, name, "x");
  std::vector<bool> mask = reduced_mask(x, axes, name);
  Shape kept = reduced_shape(x, mask, true);
  int64_t count = 1;
  for (int64_t d = 0; d < x.dim(); ++d)
    if (mask[d]) count *= x.shape()[d];
  MLSYS_CHECK(op == detail::ReduceOp::Sum || count > 0, name,
              "cannot take max/min over a zero-size axis of shape ", to_string(x.shape()));
  Tensor out;
  if (x.is_cuda()) {
    // Move the reduced axes last, make that contiguous, and reduce rows.
    std::vector<int64_t> order;
    for (int64_t d = 0; d < x.dim(); ++d) if (!mask[d]) order.push_back(d);
    for (int64_t d = 0; d < x.dim(); ++d) if (mask[d]) order.push_back(d);
    Tensor xt = x.permute(order).contiguous();
    out = Tensor(kept, DType::Float32, Device::CUDA);
    detail::cuda_reduce_rows(op, out.data<float>(), xt.data<float>(), out.numel(), count);
  } else {
    out = Tensor(kept, DType::Float32, Device::CPU);
    // out's layout over x's shape: stride 0 along the reduced axes.
    detail::Layout ol = layout_of(out);
    for (int d = 0; d < ol.ndim; ++d) {
      ol.shape[d] = x.shape()[d];
      if (mask[d]) ol.strides[d] = 0;
    }
    detail::cpu_reduce(op, out.data<float>(), ol, x.data<float>(), layout_of(x));
  }
  return keepdims ? out : out.reshape(reduced_shape(x, mask, false));
}

Tensor sum(const Tensor& x, std::vector<int64_t> axes, bool keepdims) {
  return reduce(detail::ReduceOp::Sum, "sum", x, axes, keepdims);
}

Tensor mean(const Tensor& x, std::vector<int64_t> axes, bool keepdims) {
  check_float(x, "mean", "x");
  std::vector<bool> mask = reduced_mask(x, axes, "mean");
  int64_t count = 1;
  for (int64_t d = 0; d < x.dim(); ++d)
    if (mask[d]) count *= x.shape()[d];
  MLSYS_CHECK(count > 0, "mean", "cannot average over a zero-size axis of shape ", to_string(x.shape()));
  return sum(x, axes, keepdims) * (1.f / static_cast<float>(count));
}

Tensor max(const Tensor& x, std::vector<int64_t> axes, bool keepdims) {
  return reduce(detail::ReduceOp::Max, "max", x, axes, keepdims);
}

Tensor min(const Tensor& x, std::vector<int64_t> axes, bool keepdims) {
  return reduce(detail::ReduceOp::Min, "min", x, axes, keepdims);
}

Tensor argmax(const Tensor& x, int64_t axis, bool keepdims) {
  check_float(x, "argmax", "x");
  MLSYS_CHECK(x.dim() > 0, "argmax", "expected at least 1 dim, got a scalar");
  axis = normalize_axis(axis, x.dim(), "argmax");
  int64_t cols = x.shape()[axis];
  MLSYS_CHECK(cols > 0, "argmax", "axis ", axis, " of shape ", to_string(x.shape()), " is empty");
  Tensor xt = x.transpose(axis, -1).contiguous();
  Shape rows_shape(xt.shape().begin(), xt.shape().end() - 1);
  Tensor out(rows_shape, DType::Int64, x.device());
  if (x.is_cuda())
    detail::cuda_argmax_rows(out.data<int64_t>(), xt.data<float>(), out.numel(), cols);
  else
    detail::cpu_argmax_rows(out.data<int64_t>(), xt.data<float>(), out.numel(), cols);
  // rows_shape is x's shape with `axis` swapped to the end and dropped: restore the order.
  Tensor r = out.unsqueeze(-1).transpose(axis, -1).squeeze(axis);
  if (keepdims) r = r.unsqueeze(axis);
  return r.contiguous();
}

Tensor sum_to(const Tensor& x, const Shape& shape) {
  check_float(x, "sum_to", "x");
  MLSYS_CHECK(shape.size() <= x.shape().size(), "sum_to", "cannot sum shape ",
              to_string(x.shape()), " down to the larger rank ", to_string(shape));
  if (x.shape() == shape) return x;
  size_t lead = x.shape().size() - shape.size();
  std::vector<int64_t> axes;
  for (size_t d = 0; d < x.shape().size(); ++d) {
    if (d < lead) {
      axes.push_back(static_cast<int64_t>(d));
      continue;
    }
    int64_t want = shape[d - lead], have = x.shape()[d];
    MLSYS_CHECK(want == have || want == 1, "sum_to", "shape ", to_string(shape),
                " does not broadcast to ", to_string(x.shape()));
    if (want == 1 && have != 1) axes.push_back(static_cast<int64_t>(d));
  }
  if (axes.empty()) return x.reshape(shape);
  return sum(x, axes, true).reshape(shape);
}

// ============================================================================================
// Matmul
// ============================================================================================

Tensor matmul(const Tensor& a, const Tensor& b) {
  check_float(a, "matmul", "a");
  check_float(b, "matmul", "b");
  check_same_device(a, b, "matmul", "a", "b");
  MLSYS_CHECK(a.dim() >= 2, "matmul", "argument 'a' expected at least 2 dims [..., M, K], got ",
              to_string(a.shape()));
  MLSYS_CHECK(b.dim() >= 2, "matmul", "argument 'b' expected at least 2 dims [..., K, N], got ",
              to_string(b.shape()));
  const int64_t M = a.size(-2), K = a.size(-1), N = b.size(-1);
  MLSYS_CHECK(b.size(-2) == K, "matmul", "argument 'b' expected shape [..., ", K,
              ", N] (K must match a ", to_string(a.shape()), "), got ", to_string(b.shape()));
  Shape a_batch(a.shape().begin(), a.shape().end() - 2);
  Shape b_batch(b.shape().begin(), b.shape().end() - 2);
  Shape batch = broadcast_shapes(a_batch, b_batch, "matmul");
  Shape out_shape = batch;
  out_shape.push_back(M);
  out_shape.push_back(N);
  Tensor out(out_shape, DType::Float32, a.device());
  const int64_t nb = numel(batch);

  Shape a_full = batch, b_full = batch;
  a_full.insert(a_full.end(), {M, K});
  b_full.insert(b_full.end(), {K, N});
  if (a.is_cuda()) {
    // cuBLAS wants packed row-major operands: a batch dim broadcast over the whole batch
    // (stride 0) is kept as shared; anything else is materialised.
    Tensor ac = a.dim() == 2 ? a.contiguous() : a.expand(a_full).contiguous();
    Tensor bc = b.dim() == 2 ? b.contiguous() : b.expand(b_full).contiguous();
    int64_t sa = a.dim() == 2 ? 0 : M * K, sb = b.dim() == 2 ? 0 : K * N;
    detail::cuda_matmul(out.data<float>(), ac.data<float>(), bc.data<float>(), nb, M, N, K, sa, sb);
    return out;
  }
  Tensor ae = a.expand(a_full), be = b.expand(b_full);
  const float* pa = ae.data<float>();
  const float* pb = be.data<float>();
  float* pc = out.data<float>();
  const int64_t nd = static_cast<int64_t>(batch.size());
  for (int64_t i = 0; i < nb; ++i) {
    // Unravel batch index i into offsets of a and b (broadcast dims have stride 0).
    int64_t rem = i, oa = 0, ob = 0;
    for (int64_t d = nd - 1; d >= 0; --d) {
      int64_t idx = rem % batch[d];
      rem /= batch[d];
      oa += idx * ae.strides()[d];
      ob += idx * be.strides()[d];
    }
    detail::cpu_matmul(pc + i * M * N, pa + oa, ae.strides()[nd], ae.strides()[nd + 1], pb + ob,
                       be.strides()[nd], be.strides()[nd + 1], M, N, K);
  }
  return out;
}

// ============================================================================================
// Softmax
// ============================================================================================

static Tensor softmax_impl(const Tensor& x, int64_t axis, bool log, const char* name) {
  check_float(x, name, "x");
  MLSYS_CHECK(x.dim() > 0, name, "expected at least 1 dim, got a scalar");
  axis = normalize_axis(axis, x.dim(), name);
  Tensor xt = x.transpose(axis, -1).contiguous();
  int64_t cols = x.shape()[axis];
  int64_t rows = cols ? xt.numel() / cols : 0;
  Tensor out(xt.shape(), DType::Float32, x.device());
  if (x.is_cuda())
    detail::cuda_softmax_rows(out.data<float>(), xt.data<float>(), rows, cols, log);
  else
    detail::cpu_softmax_rows(out.data<float>(), xt.data<float>(), rows, cols, log);
  return axis == x.dim() - 1 ? out : out.transpose(axis, -1).contiguous();
}

Tensor softmax(const Tensor& x, int64_t axis) { return softmax_impl(x, axis, false, "softmax"); }
Tensor log_softmax(const Tensor& x, int64_t axis) { return softmax_impl(x, axis, true, "log_softmax"); }

}  // namespace mlsys
