// Every op of the graph: static shapes, forward computation and the hook into its gradient
// (staff code). The gradients themselves are the students' *_backward functions (backward.h,
// Tasks 1.1-1.3); only the helper ops at the end have their gradients here.
//
// Each op is a small class: infer_shape (static shapes, -1 = known at run time, errors say
// why), compute (mlsys ops on the inputs' values) and gradient (one line). The builder
// functions of ops.h normalize arguments (axes) and call make_node.
#include "pa1/ops.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>

#include "check.h"
#include "mlsys/ops.h"
#include "mlsys/random.h"
#include "pa1/backward.h"

namespace pa1 {

namespace {

using Nodes = std::vector<NodePtr>;
using Values = std::vector<Tensor>;

// ============================================================================================
// Helpers
// ============================================================================================

void require_float(const NodePtr& n, const char* arg) {
  PA1_SHAPE_CHECK(n->dtype == DType::Float32, "argument '", arg, "' ", n->describe(),
                  " must be float32");
}

void require_int64(const NodePtr& n, const char* arg) {
  PA1_SHAPE_CHECK(n->dtype == DType::Int64, "argument '", arg, "' ", n->describe(),
                  " must be int64 (convert with Tensor::astype(DType::Int64) before feeding)");
}

int64_t rank(const NodePtr& n) { return static_cast<int64_t>(n->shape.size()); }

// Static element count, or -1 when a dim is unknown.
int64_t static_numel(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) {
    if (d < 0) return -1;
    n *= d;
  }
  return n;
}

// Normalized, sorted, unique axes of a rank-`r` tensor; {} means all.
std::vector<int64_t> normalize_axes(std::vector<int64_t> axes, int64_t r, const char* op) {
  if (axes.empty()) {
    axes.resize(static_cast<size_t>(r));
    std::iota(axes.begin(), axes.end(), int64_t{0});
    return axes;
  }
  for (int64_t& a : axes) a = mlsys::normalize_axis(a, r, op);
  std::sort(axes.begin(), axes.end());
  PA1_CHECK(std::adjacent_find(axes.begin(), axes.end()) == axes.end(), op,
            "an axis is repeated in the axes list");
  return axes;
}

// Dimension-wise compatibility of static shapes. A -1 dim is known only at run time, so it
// matches any size here (the op checks the real sizes when it runs); known dims must agree.
// Each returns why two shapes cannot work together ("dim 1: 3 vs 4"), or "" when they can.
//
// a and b as the same shape: each dim equal, or -1 on either side (ranks are checked apart).
std::string incompatible_dim(const Shape& a, const Shape& b) {
  for (size_t d = 0; d < a.size() && d < b.size(); ++d)
    if (a[d] != -1 && b[d] != -1 && a[d] != b[d])
      return mlsys::detail::cat("dim ", d, ": ", a[d], " vs ", b[d]);
  return "";
}

// `small` broadcast to `big` (small has at most big's rank; dims aligned from the right):
// each dim of small is 1 or big's dim, or -1 on either side. The dim named is big's.
std::string not_broadcasting_dim(const Shape& small, const Shape& big) {
  const size_t lead = big.size() - small.size();
  for (size_t d = 0; d < small.size(); ++d) {
    const int64_t s = small[d], g = big[lead + d];
    if (s != 1 && s != -1 && g != -1 && s != g)
      return mlsys::detail::cat("dim ", lead + d, ": ", s, " vs ", g);
  }
  return "";
}

Shape reduced_static(const Shape& s, const std::vector<int64_t>& axes, bool keepdims) {
  Shape out;
  for (int64_t d = 0; d < static_cast<int64_t>(s.size()); ++d) {
    bool reduced = std::find(axes.begin(), axes.end(), d) != axes.end();
    if (!reduced) out.push_back(s[d]);
    else if (keepdims) out.push_back(1);
  }
  return out;
}

// Runs `f` on CPU copies of the inputs and moves the result back to the first one's device:
// for the few ops that are plain CPU loops (embedding, scatter, one_hot, dropout's mask).
template <typename F>
Tensor on_cpu(const Tensor& like, F f) {
  Tensor out = f();
  return like.is_cuda() ? out.to(mlsys::Device::CUDA) : out;
}

// Every index in [0, limit), or an error naming the op.
void check_indices(const Tensor& idx, int64_t limit, const char* op, const char* what) {
  const int64_t* p = idx.data<int64_t>();
  for (int64_t i = 0; i < idx.numel(); ++i)
    PA1_CHECK(p[i] >= 0 && p[i] < limit, op, what, " ", p[i], " at position ", i,
              " is out of range [0, ", limit, ")");
}

Tensor one_hot_cpu(const Tensor& labels, int64_t depth, const char* op) {
  Tensor l = labels.cpu().contiguous();
  check_indices(l, depth, op, "label");
  Shape shape = l.shape();
  shape.push_back(depth);
  Tensor out = mlsys::zeros(shape);
  float* o = out.data<float>();
  const int64_t* p = l.data<int64_t>();
  for (int64_t i = 0; i < l.numel(); ++i) o[i * depth + p[i]] = 1.f;
  return out;
}

// ============================================================================================
// Elementwise (gradients: Task 1.1)
// ============================================================================================

enum class Bin { Add, Sub, Mul, Div };

class BinaryOp final : public Op {
 public:
  explicit BinaryOp(Bin kind) : kind_(kind) {}
  std::string name() const override {
    static const char* names[] = {"add", "sub", "mul", "div"};
    return names[static_cast<int>(kind_)];
  }
  Shape infer_shape(const Nodes& in) const override {
    require_float(in[0], "a");
    require_float(in[1], "b");
    return broadcast_static(in[0]->shape, in[1]->shape, name());
  }
  Tensor compute(const Values& v, const RunContext&) const override {
    static const mlsys::BinaryOp ops[] = {mlsys::BinaryOp::Add, mlsys::BinaryOp::Sub,
                                          mlsys::BinaryOp::Mul, mlsys::BinaryOp::Div};
    return mlsys::binary(ops[static_cast<int>(kind_)], v[0], v[1]);
  }
  Nodes gradient(const NodePtr& node, const NodePtr& grad) const override {
    switch (kind_) {
      case Bin::Add: return add_backward(node, grad);
      case Bin::Sub: return sub_backward(node, grad);
      case Bin::Mul: return mul_backward(node, grad);
      case Bin::Div: return div_backward(node, grad);
    }
    return {};
  }

 private:
  Bin kind_;
};

enum class Sca { Add, Mul, Pow, RSub };

class ScalarOp final : public Op {
 public:
  ScalarOp(Sca kind, float c) : kind_(kind), c_(c) {}
  std::string name() const override {
    static const char* names[] = {"add_scalar", "mul_scalar", "pow_scalar", "rsub_scalar"};
    return names[static_cast<int>(kind_)];
  }
  Shape infer_shape(const Nodes& in) const override {
    require_float(in[0], "a");
    return in[0]->shape;
  }
  Tensor compute(const Values& v, const RunContext&) const override {
    switch (kind_) {
      case Sca::Add: return v[0] + c_;
      case Sca::Mul: return v[0] * c_;
      case Sca::Pow: return mlsys::pow(v[0], c_);
      case Sca::RSub: return c_ - v[0];
    }
    return {};
  }
  Nodes gradient(const NodePtr& node, const NodePtr& grad) const override {
    switch (kind_) {
      case Sca::Add: return add_scalar_backward(node, grad, c_);
      case Sca::Mul: return mul_scalar_backward(node, grad, c_);
      case Sca::Pow: return pow_scalar_backward(node, grad, c_);
      case Sca::RSub: return {neg(grad)};  // d(c - a)/da = -1 (staff code)
    }
    return {};
  }

 private:
  Sca kind_;
  float c_;
};

enum class Un { Neg, Exp, Log, Sqrt, Relu, Sigmoid, Tanh };

class UnaryOp final : public Op {
 public:
  explicit UnaryOp(Un kind) : kind_(kind) {}
  std::string name() const override {
    static const char* names[] = {"neg", "exp", "log", "sqrt", "relu", "sigmoid", "tanh"};
    return names[static_cast<int>(kind_)];
  }
  Shape infer_shape(const Nodes& in) const override {
    require_float(in[0], "x");
    return in[0]->shape;
  }
  Tensor compute(const Values& v, const RunContext&) const override {
    static const mlsys::UnaryOp ops[] = {mlsys::UnaryOp::Neg,  mlsys::UnaryOp::Exp,
                                         mlsys::UnaryOp::Log,  mlsys::UnaryOp::Sqrt,
                                         mlsys::UnaryOp::Relu, mlsys::UnaryOp::Sigmoid,
                                         mlsys::UnaryOp::Tanh};
    return mlsys::unary(ops[static_cast<int>(kind_)], v[0]);
  }
  Nodes gradient(const NodePtr& node, const NodePtr& grad) const override {
    switch (kind_) {
      case Un::Neg: return neg_backward(node, grad);
      case Un::Exp: return exp_backward(node, grad);
      case Un::Log: return log_backward(node, grad);
      case Un::Sqrt: return sqrt_backward(node, grad);
      case Un::Relu: return relu_backward(node, grad);
      case Un::Sigmoid: return sigmoid_backward(node, grad);
      case Un::Tanh: return tanh_backward(node, grad);
    }
    return {};
  }

 private:
  Un kind_;
};

// ============================================================================================
// Matmul, shapes, reductions (gradients: Task 1.2)
// ============================================================================================

class MatmulOp final : public Op {
 public:
  MatmulOp(bool trans_a, bool trans_b) : ta_(trans_a), tb_(trans_b) {}
  std::string name() const override { return "matmul"; }
  Shape infer_shape(const Nodes& in) const override {
    require_float(in[0], "a");
    require_float(in[1], "b");
    const Shape &a = in[0]->shape, &b = in[1]->shape;
    PA1_SHAPE_CHECK(a.size() >= 2 && b.size() >= 2, "both arguments need at least 2 dims, got ",
                    mlsys::to_string(a), " and ", mlsys::to_string(b));
    const size_t ra = a.size(), rb = b.size();
    int64_t M = ta_ ? a[ra - 1] : a[ra - 2], K = ta_ ? a[ra - 2] : a[ra - 1];
    int64_t K2 = tb_ ? b[rb - 1] : b[rb - 2], N = tb_ ? b[rb - 2] : b[rb - 1];
    PA1_SHAPE_CHECK(K == -1 || K2 == -1 || K == K2, "inner dims differ: a", ta_ ? "^T" : "",
                    " is [..., ", M, ", ", K, "] and b", tb_ ? "^T" : "", " is [..., ", K2, ", ",
                    N, "] (K must match)");
    Shape out = broadcast_static(Shape(a.begin(), a.end() - 2), Shape(b.begin(), b.end() - 2),
                                 "matmul (batch dims)");
    out.push_back(M);
    out.push_back(N);
    return out;
  }
  Tensor compute(const Values& v, const RunContext&) const override {
    return mlsys::matmul(ta_ ? v[0].transpose(-2, -1) : v[0], tb_ ? v[1].transpose(-2, -1) : v[1]);
  }
  Nodes gradient(const NodePtr& node, const NodePtr& grad) const override {
    return matmul_backward(node, grad, ta_, tb_);
  }

 private:
  bool ta_, tb_;
};

class PermuteOp final : public Op {
 public:
  explicit PermuteOp(std::vector<int64_t> dims) : dims_(std::move(dims)) {}
  std::string name() const override { return "permute"; }
  Shape infer_shape(const Nodes& in) const override {
    PA1_SHAPE_CHECK(dims_.size() == in[0]->shape.size(), "dims ", mlsys::to_string(dims_),
                    " must list every one of the ", in[0]->shape.size(), " dims once");
    Shape out;
    for (int64_t d : dims_) out.push_back(in[0]->shape[d]);
    return out;
  }
  DType infer_dtype(const Nodes& in) const override { return in[0]->dtype; }
  Tensor compute(const Values& v, const RunContext&) const override { return v[0].permute(dims_); }
  Nodes gradient(const NodePtr& node, const NodePtr& grad) const override {
    return permute_backward(node, grad, dims_);
  }

 private:
  std::vector<int64_t> dims_;
};

// Reshapes a value, copying only when its layout cannot be viewed in the new shape.
Tensor reshape_value(const Tensor& x, const Shape& shape) {
  return x.is_contiguous() ? x.reshape(shape) : x.contiguous().reshape(shape);
}

class ReshapeOp final : public Op {
 public:
  explicit ReshapeOp(Shape shape) : shape_(std::move(shape)) {}
  std::string name() const override { return "reshape"; }
  Shape infer_shape(const Nodes& in) const override {
    int64_t infer_at = -1, known = 1;
    for (size_t d = 0; d < shape_.size(); ++d) {
      PA1_SHAPE_CHECK(shape_[d] >= -1, "target shape ", mlsys::to_string(shape_),
                      " has a dim below -1");
      if (shape_[d] == -1) {
        PA1_SHAPE_CHECK(infer_at == -1, "target shape ", mlsys::to_string(shape_),
                        " has more than one -1");
        infer_at = static_cast<int64_t>(d);
      } else {
        known *= shape_[d];
      }
    }
    Shape out = shape_;
    const int64_t n = static_numel(in[0]->shape);
    if (n >= 0) {
      if (infer_at >= 0) {
        PA1_SHAPE_CHECK(known > 0 && n % known == 0, "cannot reshape ",
                        mlsys::to_string(in[0]->shape), " (", n, " elements) to ",
                        mlsys::to_string(shape_));
        out[infer_at] = n / known;
      } else {
        PA1_SHAPE_CHECK(n == known, "cannot reshape ", mlsys::to_string(in[0]->shape), " (", n,
                        " elements) to ", mlsys::to_string(shape_), " (", known, " elements)");
      }
    }
    return out;  // with a -1 left where x's size is only known at run time
  }
  DType infer_dtype(const Nodes& in) const override { return in[0]->dtype; }
  Tensor compute(const Values& v, const RunContext&) const override {
    return reshape_value(v[0], shape_);
  }
  Nodes gradient(const NodePtr& node, const NodePtr& grad) const override {
    return reshape_backward(node, grad);
  }

 private:
  Shape shape_;
};

class BroadcastToOp final : public Op {
 public:
  explicit BroadcastToOp(Shape shape) : shape_(std::move(shape)) {}
  std::string name() const override { return "broadcast_to"; }
  Shape infer_shape(const Nodes& in) const override {
    for (int64_t d : shape_)
      PA1_SHAPE_CHECK(d >= 0, "target shape ", mlsys::to_string(shape_),
                      " must be fully known (use broadcast_to_like for run-time shapes)");
    Shape b = broadcast_static(in[0]->shape, shape_, "broadcast_to");
    PA1_SHAPE_CHECK(b.size() == shape_.size() && shape_matches(b, shape_), "cannot broadcast ",
                    mlsys::to_string(in[0]->shape), " to ", mlsys::to_string(shape_));
    return shape_;
  }
  Tensor compute(const Values& v, const RunContext&) const override { return v[0].expand(shape_); }
  Nodes gradient(const NodePtr& node, const NodePtr& grad) const override {
    return broadcast_to_backward(node, grad);
  }

 private:
  Shape shape_;
};

class ReduceOp final : public Op {
 public:
  enum Kind { Sum, Mean };
  ReduceOp(Kind kind, std::vector<int64_t> axes, bool keepdims)
      : kind_(kind), axes_(std::move(axes)), keepdims_(keepdims) {}
  std::string name() const override { return kind_ == Sum ? "sum" : "mean"; }
  Shape infer_shape(const Nodes& in) const override {
    require_float(in[0], "x");
    return reduced_static(in[0]->shape, axes_, keepdims_);
  }
  Tensor compute(const Values& v, const RunContext&) const override {
    return kind_ == Sum ? mlsys::sum(v[0], axes_, keepdims_) : mlsys::mean(v[0], axes_, keepdims_);
  }
  Nodes gradient(const NodePtr& node, const NodePtr& grad) const override {
    return kind_ == Sum ? sum_backward(node, grad, axes_, keepdims_)
                        : mean_backward(node, grad, axes_, keepdims_);
  }

 private:
  Kind kind_;
  std::vector<int64_t> axes_;  // normalized, sorted
  bool keepdims_;
};

class MaxOp final : public Op {
 public:
  MaxOp(int64_t axis, bool keepdims) : axis_(axis), keepdims_(keepdims) {}
  std::string name() const override { return "max"; }
  Shape infer_shape(const Nodes& in) const override {
    require_float(in[0], "x");
    PA1_SHAPE_CHECK(in[0]->shape[axis_] != 0, "cannot take the max over an empty axis");
    return reduced_static(in[0]->shape, {axis_}, keepdims_);
  }
  Tensor compute(const Values& v, const RunContext&) const override {
    return mlsys::max(v[0], {axis_}, keepdims_);
  }
  Nodes gradient(const NodePtr& node, const NodePtr& grad) const override {
    return max_backward(node, grad, axis_, keepdims_);
  }

 private:
  int64_t axis_;  // normalized
  bool keepdims_;
};

// ============================================================================================
// Neural-network ops (gradients: Task 1.3)
// ============================================================================================

class SoftmaxOp final : public Op {
 public:
  SoftmaxOp(int64_t axis, bool log) : axis_(axis), log_(log) {}
  std::string name() const override { return log_ ? "log_softmax" : "softmax"; }
  Shape infer_shape(const Nodes& in) const override {
    require_float(in[0], "x");
    return in[0]->shape;
  }
  Tensor compute(const Values& v, const RunContext&) const override {
    return log_ ? mlsys::log_softmax(v[0], axis_) : mlsys::softmax(v[0], axis_);
  }
  Nodes gradient(const NodePtr& node, const NodePtr& grad) const override {
    return log_ ? log_softmax_backward(node, grad, axis_) : softmax_backward(node, grad, axis_);
  }

 private:
  int64_t axis_;  // normalized
  bool log_;
};

class SoftmaxCrossEntropyOp final : public Op {
 public:
  std::string name() const override { return "softmax_cross_entropy"; }
  Shape infer_shape(const Nodes& in) const override {
    require_float(in[0], "logits");
    require_int64(in[1], "labels");
    const Shape &z = in[0]->shape, &y = in[1]->shape;
    PA1_SHAPE_CHECK(!z.empty() && y.size() + 1 == z.size(), "expected logits [B..., C] and labels "
                    "[B...] (one dim fewer), got ", mlsys::to_string(z), " and ", mlsys::to_string(y));
    PA1_SHAPE_CHECK(z.back() > 0, "the class dim C of logits ", mlsys::to_string(z),
                    " must be known and positive when the graph is built");
    for (size_t d = 0; d < y.size(); ++d)
      PA1_SHAPE_CHECK(y[d] == -1 || z[d] == -1 || y[d] == z[d], "logits ", mlsys::to_string(z),
                      " and labels ", mlsys::to_string(y), " differ in dim ", d);
    return {};
  }
  Tensor compute(const Values& v, const RunContext&) const override {
    const Tensor &z = v[0], &y = v[1];
    PA1_CHECK(z.shape().size() == y.shape().size() + 1 &&
                  std::equal(y.shape().begin(), y.shape().end(), z.shape().begin()),
              "softmax_cross_entropy", "logits ", mlsys::to_string(z.shape()), " and labels ",
              mlsys::to_string(y.shape()), " do not match");
    const int64_t C = z.shape().back(), rows = y.numel();
    PA1_CHECK(rows > 0, "softmax_cross_entropy", "empty batch (labels ", mlsys::to_string(y.shape()), ")");
    Tensor lsm = mlsys::log_softmax(z, -1).cpu();  // [B..., C], contiguous
    Tensor labels = y.cpu().contiguous();
    check_indices(labels, C, "softmax_cross_entropy", "label");
    const float* p = lsm.data<float>();
    const int64_t* l = labels.data<int64_t>();
    double total = 0;
    for (int64_t r = 0; r < rows; ++r) total -= p[r * C + l[r]];
    return mlsys::scalar(static_cast<float>(total / static_cast<double>(rows)), z.device());
  }
  Nodes gradient(const NodePtr& node, const NodePtr& grad) const override {
    return softmax_cross_entropy_backward(node, grad);
  }
};

class LayerNormOp final : public Op {
 public:
  explicit LayerNormOp(float eps) : eps_(eps) {}
  std::string name() const override { return "layernorm"; }
  Shape infer_shape(const Nodes& in) const override {
    require_float(in[0], "x");
    require_float(in[1], "gain");
    require_float(in[2], "bias");
    PA1_SHAPE_CHECK(!in[0]->shape.empty(), "x must have at least 1 dim (normalized over the last)");
    const int64_t C = in[0]->shape.back();
    for (int i = 1; i <= 2; ++i)
      PA1_SHAPE_CHECK(in[i]->shape.size() == 1 && (C == -1 || in[i]->shape[0] == -1 ||
                                                   in[i]->shape[0] == C),
                      i == 1 ? "gain" : "bias", " must be [C] with C = ", C, " (x's last dim), got ",
                      mlsys::to_string(in[i]->shape));
    return in[0]->shape;
  }
  Tensor compute(const Values& v, const RunContext&) const override {
    const Tensor& x = v[0];
    Tensor mu = mlsys::mean(x, {-1}, true);
    Tensor xc = x - mu;
    Tensor var = mlsys::mean(xc * xc, {-1}, true);
    Tensor xhat = xc / mlsys::sqrt(var + eps_);
    return xhat * v[1] + v[2];
  }
  Nodes gradient(const NodePtr& node, const NodePtr& grad) const override {
    return layernorm_backward(node, grad, eps_);
  }

 private:
  float eps_;
};

class GeluOp final : public Op {
 public:
  std::string name() const override { return "gelu"; }
  Shape infer_shape(const Nodes& in) const override {
    require_float(in[0], "x");
    return in[0]->shape;
  }
  Tensor compute(const Values& v, const RunContext&) const override {
    const Tensor& x = v[0];
    const float k = 0.7978845608028654f;  // sqrt(2 / pi)
    Tensor inner = (x + x * x * x * 0.044715f) * k;
    return x * 0.5f * (mlsys::tanh(inner) + 1.f);
  }
  Nodes gradient(const NodePtr& node, const NodePtr& grad) const override {
    return gelu_backward(node, grad);
  }
};

class EmbeddingOp final : public Op {
 public:
  std::string name() const override { return "embedding"; }
  Shape infer_shape(const Nodes& in) const override {
    require_float(in[0], "table");
    require_int64(in[1], "indices");
    PA1_SHAPE_CHECK(in[0]->shape.size() == 2, "table must be [V, C], got ",
                    mlsys::to_string(in[0]->shape));
    Shape out = in[1]->shape;
    out.push_back(in[0]->shape[1]);
    return out;
  }
  Tensor compute(const Values& v, const RunContext&) const override {
    return on_cpu(v[0], [&] {
      Tensor table = v[0].cpu().contiguous(), idx = v[1].cpu().contiguous();
      const int64_t V = table.shape()[0], C = table.shape()[1];
      check_indices(idx, V, "embedding", "index");
      Shape shape = idx.shape();
      shape.push_back(C);
      Tensor out(shape);
      const int64_t* p = idx.data<int64_t>();
      for (int64_t i = 0; i < idx.numel(); ++i)
        std::memcpy(out.data<float>() + i * C, table.data<float>() + p[i] * C,
                    static_cast<size_t>(C) * sizeof(float));
      return out;
    });
  }
  Nodes gradient(const NodePtr& node, const NodePtr& grad) const override {
    return embedding_backward(node, grad);
  }
};

// The keep-mask of dropout: element i is kept when a uniform draw from Philox, keyed by the
// seed and the step, is >= p.
Tensor dropout_scale(const Shape& shape, float p, uint64_t seed, int64_t step) {
  const uint64_t key = seed ^ (static_cast<uint64_t>(step) * 0x9E3779B97F4A7C15ull);
  Tensor mask(shape);
  float* m = mask.data<float>();
  const float keep = 1.f / (1.f - p);
  for (int64_t i = 0; i < mask.numel(); ++i)
    m[i] = mlsys::uniform_from_word(mlsys::philox_word(key, static_cast<uint64_t>(i))) >= p ? keep : 0.f;
  return mask;
}

class DropoutOp final : public Op {
 public:
  DropoutOp(float p, uint64_t seed) : p_(p), seed_(seed) {}
  std::string name() const override { return "dropout"; }
  Shape infer_shape(const Nodes& in) const override {
    require_float(in[0], "x");
    return in[0]->shape;
  }
  Tensor compute(const Values& v, const RunContext& ctx) const override {
    if (!ctx.training || p_ == 0.f) return v[0];
    Tensor mask = on_cpu(v[0], [&] { return dropout_scale(v[0].shape(), p_, seed_, ctx.step); });
    return v[0] * mask;
  }
  Nodes gradient(const NodePtr& node, const NodePtr& grad) const override {
    return dropout_backward(node, grad, p_, seed_);
  }

 private:
  float p_;
  uint64_t seed_;
};

// ============================================================================================
// Helper ops that gradients are built from (their gradients are staff code, here)
// ============================================================================================

// Ops whose second input only provides a shape at run time.
class LikeOp final : public Op {
 public:
  enum Kind { SumTo, BroadcastTo, Reshape };
  explicit LikeOp(Kind kind) : kind_(kind) {}
  std::string name() const override {
    static const char* names[] = {"sum_to_like", "broadcast_to_like", "reshape_like"};
    return names[kind_];
  }
  Shape infer_shape(const Nodes& in) const override {
    const Shape &x = in[0]->shape, &like = in[1]->shape;
    if (kind_ == Reshape) {
      const int64_t a = static_numel(x), b = static_numel(like);
      PA1_SHAPE_CHECK(a < 0 || b < 0 || a == b, "cannot reshape ", mlsys::to_string(x), " to ",
                      mlsys::to_string(like));
      return like;
    }
    if (kind_ == SumTo) require_float(in[0], "x");
    // sum_to_like sums x down to like's shape, broadcast_to_like broadcasts x up to like's:
    // either way the smaller shape must broadcast to the larger one, dim by dim.
    const Shape& big = kind_ == SumTo ? x : like;
    const Shape& small = kind_ == SumTo ? like : x;
    PA1_SHAPE_CHECK(small.size() <= big.size(), "shape ", mlsys::to_string(small),
                    " has more dims than ", mlsys::to_string(big));
    const std::string why = not_broadcasting_dim(small, big);
    PA1_SHAPE_CHECK(why.empty(), "shape ", mlsys::to_string(small), " does not broadcast to ",
                    mlsys::to_string(big), " (", why, "; each dim must be 1 or equal, and -1 "
                    "matches any size)");
    if (kind_ == SumTo) return like;
    // The result has like's shape; where like's dim is -1 and x's is known (and not 1), the
    // result's dim is x's.
    Shape out = like;
    const size_t lead = like.size() - x.size();
    for (size_t d = 0; d < x.size(); ++d)
      if (out[lead + d] == -1 && x[d] != -1 && x[d] != 1) out[lead + d] = x[d];
    return out;
  }
  DType infer_dtype(const Nodes& in) const override { return in[0]->dtype; }
  Tensor compute(const Values& v, const RunContext&) const override {
    switch (kind_) {
      case SumTo: return mlsys::sum_to(v[0], v[1].shape());
      case BroadcastTo: return v[0].expand(v[1].shape());
      case Reshape: return reshape_value(v[0], v[1].shape());
    }
    return {};
  }
  Nodes gradient(const NodePtr& node, const NodePtr& grad) const override {
    const NodePtr& x = node->inputs[0];
    switch (kind_) {
      case SumTo: return {broadcast_to_like(grad, x), nullptr};
      case BroadcastTo: return {sum_to_like(grad, x), nullptr};
      case Reshape: return {reshape_like(grad, x), nullptr};
    }
    return {};
  }

 private:
  Kind kind_;
};

class UnsqueezeOp final : public Op {
 public:
  // axes: positions in the result, normalized and sorted (or in x for squeeze).
  UnsqueezeOp(std::vector<int64_t> axes, bool squeeze) : axes_(std::move(axes)), squeeze_(squeeze) {}
  std::string name() const override { return squeeze_ ? "squeeze" : "unsqueeze"; }
  Shape infer_shape(const Nodes& in) const override {
    Shape s = in[0]->shape;
    if (squeeze_) {
      for (auto it = axes_.rbegin(); it != axes_.rend(); ++it) {
        PA1_SHAPE_CHECK(s[*it] == 1 || s[*it] == -1, "dim ", *it, " of ", mlsys::to_string(s),
                        " has size ", s[*it], ", not 1");
        s.erase(s.begin() + *it);
      }
    } else {
      for (int64_t a : axes_) s.insert(s.begin() + a, 1);
    }
    return s;
  }
  DType infer_dtype(const Nodes& in) const override { return in[0]->dtype; }
  Tensor compute(const Values& v, const RunContext&) const override {
    Tensor x = v[0];
    if (squeeze_)
      for (auto it = axes_.rbegin(); it != axes_.rend(); ++it) x = x.squeeze(*it);
    else
      for (int64_t a : axes_) x = x.unsqueeze(a);
    return x;
  }
  Nodes gradient(const NodePtr&, const NodePtr& grad) const override {
    return {squeeze_ ? unsqueeze(grad, axes_) : squeeze(grad, axes_)};
  }

 private:
  std::vector<int64_t> axes_;
  bool squeeze_;
};

class ScatterAddRowsOp final : public Op {
 public:
  std::string name() const override { return "scatter_add_rows"; }
  Shape infer_shape(const Nodes& in) const override {
    require_float(in[0], "src");
    require_int64(in[1], "indices");
    const Shape &src = in[0]->shape, &idx = in[1]->shape, &like = in[2]->shape;
    PA1_SHAPE_CHECK(like.size() == 2, "like must be [V, C], got ", mlsys::to_string(like));
    Shape expect = idx;
    expect.push_back(like[1]);
    PA1_SHAPE_CHECK(src.size() == expect.size(), "src must be indices.shape + [C] = ",
                    mlsys::to_string(expect), " (", expect.size(), " dims), got ",
                    mlsys::to_string(src));
    const std::string why = incompatible_dim(src, expect);
    PA1_SHAPE_CHECK(why.empty(), "src must be indices.shape + [C] = ", mlsys::to_string(expect),
                    ", got ", mlsys::to_string(src), " (", why, "; -1 matches any size)");
    return like;
  }
  Tensor compute(const Values& v, const RunContext&) const override {
    return on_cpu(v[0], [&] {
      Tensor src = v[0].cpu().contiguous(), idx = v[1].cpu().contiguous();
      const int64_t V = v[2].shape()[0], C = v[2].shape()[1];
      Shape expect = idx.shape();
      expect.push_back(C);
      PA1_CHECK(src.shape() == expect, "scatter_add_rows", "src must be indices.shape + [C] = ",
                mlsys::to_string(expect), ", got ", mlsys::to_string(src.shape()));
      check_indices(idx, V, "scatter_add_rows", "index");
      Tensor out = mlsys::zeros({V, C});
      const int64_t* p = idx.data<int64_t>();
      for (int64_t i = 0; i < idx.numel(); ++i) {
        float* row = out.data<float>() + p[i] * C;
        const float* s = src.data<float>() + i * C;
        for (int64_t c = 0; c < C; ++c) row[c] += s[c];
      }
      return out;
    });
  }
  Nodes gradient(const NodePtr& node, const NodePtr& grad) const override {
    return {embedding(grad, node->inputs[1]), nullptr, nullptr};
  }
};

// Ops with no gradient: counts, masks, constants.
class ConstantLikeOp final : public Op {
 public:
  enum Kind { Zeros, Ones, Numel, OneHot, Equal, ReluMask };
  ConstantLikeOp(Kind kind, std::vector<int64_t> axes = {}, int64_t depth = 0)
      : kind_(kind), axes_(std::move(axes)), depth_(depth) {}
  std::string name() const override {
    static const char* names[] = {"zeros_like", "ones_like", "numel", "one_hot", "equal", "relu_mask"};
    return names[kind_];
  }
  Shape infer_shape(const Nodes& in) const override {
    switch (kind_) {
      case Numel: return {};
      case OneHot: {
        require_int64(in[0], "labels");
        Shape s = in[0]->shape;
        s.push_back(depth_);
        return s;
      }
      case Equal:
        require_float(in[0], "a");
        require_float(in[1], "b");
        return broadcast_static(in[0]->shape, in[1]->shape, "equal");
      case ReluMask: require_float(in[0], "x"); return in[0]->shape;
      default: return in[0]->shape;
    }
  }
  Tensor compute(const Values& v, const RunContext&) const override {
    const mlsys::Device dev = v[0].device();
    switch (kind_) {
      case Zeros: return mlsys::zeros(v[0].shape(), DType::Float32, dev);
      case Ones: return mlsys::ones(v[0].shape(), DType::Float32, dev);
      case Numel: {
        int64_t n = 1;
        for (int64_t a : axes_) n *= v[0].shape()[a];
        return mlsys::full({}, static_cast<float>(n), DType::Float32, dev);
      }
      case OneHot: return on_cpu(v[0], [&] { return one_hot_cpu(v[0], depth_, "one_hot"); });
      case Equal: return mlsys::eq(v[0], v[1]);
      case ReluMask: return mlsys::unary(mlsys::UnaryOp::ReluGrad, v[0]);
    }
    return {};
  }
  Nodes gradient(const NodePtr& node, const NodePtr&) const override {
    return Nodes(node->inputs.size(), nullptr);
  }

 private:
  Kind kind_;
  std::vector<int64_t> axes_;
  int64_t depth_;
};

template <typename T, typename... Args>
NodePtr node_of(Nodes inputs, Args&&... args) {
  return make_node(std::make_shared<const T>(std::forward<Args>(args)...), std::move(inputs));
}

// The inputs list of a new node. Building it from a braced list would copy every NodePtr
// twice (into the initializer_list, then into the vector): two more atomic reference-count
// updates per input on the hot path of graph building.
template <typename... P>
Nodes inputs_of(const P&... p) {
  Nodes v;
  v.reserve(sizeof...(p));
  (v.push_back(p), ...);
  return v;
}

// Ops without parameters are shared by all their nodes (one allocation less per node).
std::shared_ptr<const Op> binary_op(Bin kind) {
  static const std::shared_ptr<const Op> ops[] = {
      std::make_shared<const BinaryOp>(Bin::Add), std::make_shared<const BinaryOp>(Bin::Sub),
      std::make_shared<const BinaryOp>(Bin::Mul), std::make_shared<const BinaryOp>(Bin::Div)};
  return ops[static_cast<int>(kind)];
}

std::shared_ptr<const Op> unary_op(Un kind) {
  static const std::shared_ptr<const Op> ops[] = {
      std::make_shared<const UnaryOp>(Un::Neg),     std::make_shared<const UnaryOp>(Un::Exp),
      std::make_shared<const UnaryOp>(Un::Log),     std::make_shared<const UnaryOp>(Un::Sqrt),
      std::make_shared<const UnaryOp>(Un::Relu),    std::make_shared<const UnaryOp>(Un::Sigmoid),
      std::make_shared<const UnaryOp>(Un::Tanh)};
  return ops[static_cast<int>(kind)];
}

// Scalar ops hold their constant, so they cannot be made once per kind; each thread keeps the
// ones it made last in a small table keyed by (kind, constant), and nodes with the same kind
// and constant share one (a chain of x * 0.5 makes one op, not one per node).
std::shared_ptr<const Op> scalar_op(Sca kind, float c) {
  struct Entry {
    Sca kind;
    uint32_t bits;
    std::shared_ptr<const Op> op;
  };
  thread_local Entry cache[64];
  uint32_t bits;
  std::memcpy(&bits, &c, sizeof bits);
  const uint32_t h = (bits ^ (static_cast<uint32_t>(kind) << 29)) * 2654435761u;
  Entry& e = cache[h >> 26];
  if (!e.op || e.kind != kind || e.bits != bits)
    e = {kind, bits, std::make_shared<const ScalarOp>(kind, c)};
  return e.op;
}

std::shared_ptr<const Op> like_op(LikeOp::Kind kind) {
  static const std::shared_ptr<const Op> ops[] = {std::make_shared<const LikeOp>(LikeOp::SumTo),
                                                  std::make_shared<const LikeOp>(LikeOp::BroadcastTo),
                                                  std::make_shared<const LikeOp>(LikeOp::Reshape)};
  return ops[kind];
}

NodePtr binary_node(Bin kind, const NodePtr& a, const NodePtr& b) {
  return make_node(binary_op(kind), inputs_of(a, b));
}
NodePtr scalar_node(Sca kind, float c, const NodePtr& a) {
  return make_node(scalar_op(kind, c), inputs_of(a));
}

}  // namespace

// ============================================================================================
// Builders (ops.h)
// ============================================================================================

NodePtr add(const NodePtr& a, const NodePtr& b) { return binary_node(Bin::Add, a, b); }
NodePtr sub(const NodePtr& a, const NodePtr& b) { return binary_node(Bin::Sub, a, b); }
NodePtr mul(const NodePtr& a, const NodePtr& b) { return binary_node(Bin::Mul, a, b); }
NodePtr div(const NodePtr& a, const NodePtr& b) { return binary_node(Bin::Div, a, b); }
NodePtr add_scalar(const NodePtr& a, float c) { return scalar_node(Sca::Add, c, a); }
NodePtr mul_scalar(const NodePtr& a, float c) { return scalar_node(Sca::Mul, c, a); }
NodePtr pow_scalar(const NodePtr& a, float p) { return scalar_node(Sca::Pow, p, a); }
NodePtr rsub_scalar(const NodePtr& a, float c) { return scalar_node(Sca::RSub, c, a); }
NodePtr neg(const NodePtr& x) { return make_node(unary_op(Un::Neg), inputs_of(x)); }
NodePtr exp(const NodePtr& x) { return make_node(unary_op(Un::Exp), inputs_of(x)); }
NodePtr log(const NodePtr& x) { return make_node(unary_op(Un::Log), inputs_of(x)); }
NodePtr sqrt(const NodePtr& x) { return make_node(unary_op(Un::Sqrt), inputs_of(x)); }
NodePtr relu(const NodePtr& x) { return make_node(unary_op(Un::Relu), inputs_of(x)); }
NodePtr sigmoid(const NodePtr& x) { return make_node(unary_op(Un::Sigmoid), inputs_of(x)); }
NodePtr tanh(const NodePtr& x) { return make_node(unary_op(Un::Tanh), inputs_of(x)); }

NodePtr matmul(const NodePtr& a, const NodePtr& b, bool trans_a, bool trans_b) {
  return node_of<MatmulOp>({a, b}, trans_a, trans_b);
}

NodePtr permute(const NodePtr& x, std::vector<int64_t> dims) {
  PA1_CHECK(x != nullptr, "permute", "x is a null node");
  const int64_t r = rank(x);
  std::vector<bool> seen(static_cast<size_t>(r), false);
  for (int64_t& d : dims) {
    d = mlsys::normalize_axis(d, r, "permute");
    PA1_CHECK(!seen[d], "permute", "dim ", d, " is repeated in ", mlsys::to_string(dims));
    seen[d] = true;
  }
  return node_of<PermuteOp>({x}, std::move(dims));
}

NodePtr transpose(const NodePtr& x, int64_t dim0, int64_t dim1) {
  PA1_CHECK(x != nullptr, "transpose", "x is a null node");
  const int64_t r = rank(x);
  dim0 = mlsys::normalize_axis(dim0, r, "transpose");
  dim1 = mlsys::normalize_axis(dim1, r, "transpose");
  std::vector<int64_t> dims(static_cast<size_t>(r));
  std::iota(dims.begin(), dims.end(), int64_t{0});
  std::swap(dims[dim0], dims[dim1]);
  return node_of<PermuteOp>({x}, std::move(dims));
}

NodePtr reshape(const NodePtr& x, Shape shape) { return node_of<ReshapeOp>({x}, std::move(shape)); }
NodePtr broadcast_to(const NodePtr& x, Shape shape) {
  return node_of<BroadcastToOp>({x}, std::move(shape));
}

NodePtr sum(const NodePtr& x, std::vector<int64_t> axes, bool keepdims) {
  PA1_CHECK(x != nullptr, "sum", "x is a null node");
  return node_of<ReduceOp>({x}, ReduceOp::Sum, normalize_axes(std::move(axes), rank(x), "sum"), keepdims);
}

NodePtr mean(const NodePtr& x, std::vector<int64_t> axes, bool keepdims) {
  PA1_CHECK(x != nullptr, "mean", "x is a null node");
  return node_of<ReduceOp>({x}, ReduceOp::Mean, normalize_axes(std::move(axes), rank(x), "mean"), keepdims);
}

NodePtr max(const NodePtr& x, int64_t axis, bool keepdims) {
  PA1_CHECK(x != nullptr, "max", "x is a null node");
  return node_of<MaxOp>({x}, mlsys::normalize_axis(axis, rank(x), "max"), keepdims);
}

NodePtr softmax(const NodePtr& x, int64_t axis) {
  PA1_CHECK(x != nullptr, "softmax", "x is a null node");
  return node_of<SoftmaxOp>({x}, mlsys::normalize_axis(axis, rank(x), "softmax"), false);
}

NodePtr log_softmax(const NodePtr& x, int64_t axis) {
  PA1_CHECK(x != nullptr, "log_softmax", "x is a null node");
  return node_of<SoftmaxOp>({x}, mlsys::normalize_axis(axis, rank(x), "log_softmax"), true);
}

NodePtr softmax_cross_entropy(const NodePtr& logits, const NodePtr& labels) {
  return node_of<SoftmaxCrossEntropyOp>({logits, labels});
}

NodePtr layernorm(const NodePtr& x, const NodePtr& gain, const NodePtr& bias, float eps) {
  PA1_CHECK(eps > 0.f, "layernorm", "eps must be positive, got ", eps);
  return node_of<LayerNormOp>({x, gain, bias}, eps);
}

NodePtr gelu(const NodePtr& x) { return node_of<GeluOp>({x}); }
NodePtr embedding(const NodePtr& table, const NodePtr& indices) {
  return node_of<EmbeddingOp>({table, indices});
}

NodePtr dropout(const NodePtr& x, float p, uint64_t seed) {
  PA1_CHECK(p >= 0.f && p < 1.f, "dropout", "p must be in [0, 1), got ", p);
  return node_of<DropoutOp>({x}, p, seed);
}

// When both static shapes are fully known and equal, the "*_like" ops are the identity: no
// node is made (most gradients of unbroadcast elementwise ops take this path).
static bool same_known_shape(const NodePtr& x, const NodePtr& like) {
  return x && like && x->shape == like->shape && static_numel(x->shape) >= 0;
}

NodePtr sum_to_like(const NodePtr& x, const NodePtr& like) {
  if (same_known_shape(x, like) && x->dtype == DType::Float32) return x;
  return make_node(like_op(LikeOp::SumTo), inputs_of(x, like));
}

NodePtr broadcast_to_like(const NodePtr& x, const NodePtr& like) {
  if (same_known_shape(x, like)) return x;
  return make_node(like_op(LikeOp::BroadcastTo), inputs_of(x, like));
}

NodePtr reshape_like(const NodePtr& x, const NodePtr& like) {
  if (same_known_shape(x, like)) return x;
  return make_node(like_op(LikeOp::Reshape), inputs_of(x, like));
}

NodePtr unsqueeze(const NodePtr& x, std::vector<int64_t> axes) {
  PA1_CHECK(x != nullptr, "unsqueeze", "x is a null node");
  PA1_CHECK(!axes.empty(), "unsqueeze", "name the axes to insert");
  const int64_t out_rank = rank(x) + static_cast<int64_t>(axes.size());
  return node_of<UnsqueezeOp>({x}, normalize_axes(std::move(axes), out_rank, "unsqueeze"), false);
}

NodePtr squeeze(const NodePtr& x, std::vector<int64_t> axes) {
  PA1_CHECK(x != nullptr, "squeeze", "x is a null node");
  PA1_CHECK(!axes.empty(), "squeeze", "name the axes to remove");
  return node_of<UnsqueezeOp>({x}, normalize_axes(std::move(axes), rank(x), "squeeze"), true);
}

NodePtr numel(const NodePtr& x, std::vector<int64_t> axes) {
  PA1_CHECK(x != nullptr, "numel", "x is a null node");
  return node_of<ConstantLikeOp>({x}, ConstantLikeOp::Numel, normalize_axes(std::move(axes), rank(x), "numel"));
}

NodePtr one_hot(const NodePtr& labels, int64_t depth) {
  PA1_CHECK(depth > 0, "one_hot", "depth must be positive, got ", depth);
  return node_of<ConstantLikeOp>({labels}, ConstantLikeOp::OneHot, std::vector<int64_t>{}, depth);
}

NodePtr equal(const NodePtr& a, const NodePtr& b) { return node_of<ConstantLikeOp>({a, b}, ConstantLikeOp::Equal); }
NodePtr relu_mask(const NodePtr& x) { return node_of<ConstantLikeOp>({x}, ConstantLikeOp::ReluMask); }
NodePtr scatter_add_rows(const NodePtr& src, const NodePtr& indices, const NodePtr& like) {
  return node_of<ScatterAddRowsOp>({src, indices, like});
}
NodePtr zeros_like(const NodePtr& x) { return node_of<ConstantLikeOp>({x}, ConstantLikeOp::Zeros); }
NodePtr ones_like(const NodePtr& x) { return node_of<ConstantLikeOp>({x}, ConstantLikeOp::Ones); }

// ============================================================================================
// Operators
// ============================================================================================

NodePtr operator+(const NodePtr& a, const NodePtr& b) { return add(a, b); }
NodePtr operator-(const NodePtr& a, const NodePtr& b) { return sub(a, b); }
NodePtr operator*(const NodePtr& a, const NodePtr& b) { return mul(a, b); }
NodePtr operator/(const NodePtr& a, const NodePtr& b) { return div(a, b); }
NodePtr operator-(const NodePtr& x) { return neg(x); }
NodePtr operator+(const NodePtr& a, float c) { return add_scalar(a, c); }
NodePtr operator+(float c, const NodePtr& a) { return add_scalar(a, c); }
NodePtr operator-(const NodePtr& a, float c) { return add_scalar(a, -c); }
NodePtr operator-(float c, const NodePtr& a) { return rsub_scalar(a, c); }
NodePtr operator*(const NodePtr& a, float c) { return mul_scalar(a, c); }
NodePtr operator*(float c, const NodePtr& a) { return mul_scalar(a, c); }
NodePtr operator/(const NodePtr& a, float c) { return mul_scalar(a, 1.f / c); }
NodePtr operator/(float c, const NodePtr& a) { return mul_scalar(pow_scalar(a, -1.f), c); }

}  // namespace pa1
