// pa1_autodiff/src/optim.cpp — PA1 Task 3.1 (SGD with momentum and weight decay) and
// Task 3.2 (Adam and AdamW). Edit only the marked regions; the rest is given.
//
// An optimizer updates each parameter's value in place: params_[i]->value is the Tensor the
// graph reads, so write the new values into it rather than assigning a new Tensor to it. Two
// ways, both fine for the tests:
//   - mlsys tensor math (mlsys/ops.h): w.copy_(w - g * lr). Works on CPU and CUDA alike, but
//     each operator makes a temporary and passes over memory once more.
//   - a loop over the raw data (w.data<float>(), contiguous CPU tensors): one pass, no
//     temporaries. For large layers the optimizer is memory-bound, so this is several times
//     faster, more so when split across threads (kParallelElems below); the reference uses
//     it on the CPU and tensor math elsewhere.
// Parameters, gradients and state (velocity_, m_, v_) all have the same shape; gradients may be
// strided views (grads[i].contiguous() gives a packed copy when needed). State tensors are
// contiguous, on the parameter's device, and yours to update in place the same way.
#include <cmath>

#include "check.h"
#include "mlsys/ops.h"
#include "pa1/optim.h"

namespace pa1 {

// ============================================================================================
// Given: construction and argument checks
// ============================================================================================

static std::vector<Tensor> zeros_like_params(const std::vector<NodePtr>& params) {
  std::vector<Tensor> state;
  for (const NodePtr& p : params) state.push_back(mlsys::zeros_like(p->value));
  return state;
}

Optimizer::Optimizer(std::vector<NodePtr> params) : lr(0.f), params_(std::move(params)) {
  for (size_t i = 0; i < params_.size(); ++i) {
    PA1_CHECK(params_[i] != nullptr, "Optimizer", "parameter ", i, " is a null node");
    PA1_CHECK(params_[i]->kind == NodeKind::Variable, "Optimizer", "parameter ", i, " ",
              params_[i]->describe(), " is a ", to_string(params_[i]->kind),
              "; only variables can be optimized");
    for (size_t j = 0; j < i; ++j)
      PA1_CHECK(params_[j] != params_[i], "Optimizer", "parameter ", params_[i]->describe(),
                " is listed twice");
  }
}

void Optimizer::step(const std::vector<Tensor>& grads) {
  PA1_CHECK(grads.size() == params_.size(), "Optimizer::step", "got ", grads.size(),
            " gradients for ", params_.size(), " parameters");
  for (size_t i = 0; i < grads.size(); ++i) {
    const Tensor& w = params_[i]->value;
    PA1_CHECK(grads[i].defined() && grads[i].dtype() == DType::Float32 &&
                  grads[i].shape() == w.shape() && grads[i].device() == w.device(),
              "Optimizer::step", "the gradient of parameter ", params_[i]->describe(), " is ",
              grads[i].defined() ? grads[i].describe() : std::string("undefined"),
              "; expected ", w.describe());
  }
  ++t_;
  update(grads);
}

SGD::SGD(std::vector<NodePtr> params, float lr_, float momentum_, float weight_decay_)
    : Optimizer(std::move(params)), momentum(momentum_), weight_decay(weight_decay_) {
  lr = lr_;
  PA1_CHECK(lr_ >= 0.f && momentum_ >= 0.f && weight_decay_ >= 0.f, "SGD",
            "lr, momentum and weight_decay must be >= 0");
  velocity_ = zeros_like_params(params_);
}

Adam::Adam(std::vector<NodePtr> params, float lr_, float beta1_, float beta2_, float eps_,
           float weight_decay_, bool decoupled)
    : Optimizer(std::move(params)),
      beta1(beta1_),
      beta2(beta2_),
      eps(eps_),
      weight_decay(weight_decay_),
      decoupled_weight_decay(decoupled) {
  lr = lr_;
  PA1_CHECK(beta1_ >= 0.f && beta1_ < 1.f && beta2_ >= 0.f && beta2_ < 1.f, "Adam",
            "beta1 and beta2 must be in [0, 1), got ", beta1_, " and ", beta2_);
  PA1_CHECK(lr_ >= 0.f && eps_ >= 0.f && weight_decay_ >= 0.f, "Adam",
            "lr, eps and weight_decay must be >= 0");
  m_ = zeros_like_params(params_);
  v_ = zeros_like_params(params_);
}

// ============================================================================================
// Task 3.1: SGD
// ============================================================================================

// Tensors with at least this many elements (2 MiB of float32) are worth updating on all
// OpenMP threads (over a raw loop, `#pragma omp parallel for if (n >= kParallelElems)` does
// that). Smaller ones stay on one thread: waking the threads costs more than it saves, and
// far more when the cores are busy with other work.
[[maybe_unused]] static constexpr int64_t kParallelElems = int64_t{1} << 19;

// One step for every parameter i, with w = params_[i]->value and g = grads[i] (same shape):
//   g = g + weight_decay * w          (L2 regularization, skipped when weight_decay == 0)
//   v = momentum * v + g              (v = velocity_[i], zero before the first step)
//   w = w - lr * v                    (with momentum == 0 this is w - lr * g)
// w and v are updated in place. Tests check two or three steps against the arithmetic done
// by hand, with and without momentum and weight decay, and that every graph reading w sees
// the new values.
void SGD::update(const std::vector<Tensor>& grads) {
  // BEGIN SOLUTION PA1 Task 3.1
  for (size_t i = 0; i < params_.size(); ++i) {
    Tensor& w = params_[i]->value;
    if (w.device() == mlsys::Device::CPU && w.is_contiguous()) {
      // One pass over the data, on all OpenMP threads for large tensors.
      const Tensor g = grads[i].contiguous();
      float* pw = w.data<float>();
      float* pv = velocity_[i].data<float>();
      const float* pg = g.data<float>();
      const int64_t n = w.numel();
      const float rate = lr, mu = momentum, wd = weight_decay;
      if (mu != 0.f) {
#pragma omp parallel for schedule(static) if (n >= kParallelElems)
        for (int64_t j = 0; j < n; ++j) {
          pv[j] = mu * pv[j] + (pg[j] + wd * pw[j]);
          pw[j] -= rate * pv[j];
        }
      } else {
#pragma omp parallel for schedule(static) if (n >= kParallelElems)
        for (int64_t j = 0; j < n; ++j) pw[j] -= rate * (pg[j] + wd * pw[j]);
      }
      continue;
    }
    Tensor g = grads[i];
    if (weight_decay != 0.f) g = g + w * weight_decay;
    if (momentum != 0.f) {
      velocity_[i].copy_(velocity_[i] * momentum + g);
      g = velocity_[i];
    }
    w.copy_(w - g * lr);
  }
  // END SOLUTION
}

// ============================================================================================
// Task 3.2: Adam and AdamW
// ============================================================================================

// One step (t_ = 1 on the first call) for every parameter i, w = params_[i]->value,
// g = grads[i], m = m_[i], v = v_[i]:
// 1. Weight decay, when weight_decay != 0:
//      Adam  (decoupled_weight_decay false): g = g + weight_decay * w
//      AdamW (decoupled_weight_decay true):  w = w * (1 - lr * weight_decay), g unchanged
// 2. Moments: m = beta1 m + (1 - beta1) g;  v = beta2 v + (1 - beta2) g^2
// 3. Bias correction (m and v start at zero, so early averages are too small):
//      m_hat = m / (1 - beta1^t),  v_hat = v / (1 - beta2^t)   (compute beta^t in double)
// 4. w = w - lr * m_hat / (sqrt(v_hat) + eps)
// Tests check three steps against the arithmetic done by hand for Adam, Adam with L2 weight
// decay and AdamW.
void Adam::update(const std::vector<Tensor>& grads) {
  // BEGIN SOLUTION PA1 Task 3.2
  const float bc1 = static_cast<float>(1.0 - std::pow(static_cast<double>(beta1), static_cast<double>(t_)));
  const float bc2 = static_cast<float>(1.0 - std::pow(static_cast<double>(beta2), static_cast<double>(t_)));
  const float decay = decoupled_weight_decay ? 1.f - lr * weight_decay : 1.f;
  const float l2 = decoupled_weight_decay ? 0.f : weight_decay;
  for (size_t i = 0; i < params_.size(); ++i) {
    Tensor& w = params_[i]->value;
    if (w.device() == mlsys::Device::CPU && w.is_contiguous()) {
      // One pass over the data, on all OpenMP threads for large tensors.
      const Tensor g = grads[i].contiguous();
      float* pw = w.data<float>();
      float* pm = m_[i].data<float>();
      float* pv = v_[i].data<float>();
      const float* pg = g.data<float>();
      const int64_t n = w.numel();
      const float b1 = beta1, b2 = beta2, rate = lr, e = eps;
#pragma omp parallel for schedule(static) if (n >= kParallelElems)
      for (int64_t j = 0; j < n; ++j) {
        const float d = pg[j] + l2 * pw[j];
        pm[j] = b1 * pm[j] + (1.f - b1) * d;
        pv[j] = b2 * pv[j] + (1.f - b2) * d * d;
        pw[j] = pw[j] * decay - rate * (pm[j] / bc1) / (std::sqrt(pv[j] / bc2) + e);
      }
      continue;
    }
    Tensor g = grads[i];
    if (l2 != 0.f) g = g + w * l2;
    if (decay != 1.f) w.copy_(w * decay);
    m_[i].copy_(m_[i] * beta1 + g * (1.f - beta1));
    v_[i].copy_(v_[i] * beta2 + g * g * (1.f - beta2));
    w.copy_(w - (m_[i] / bc1) * lr / (mlsys::sqrt(v_[i] / bc2) + eps));
  }
  // END SOLUTION
}

}  // namespace pa1
