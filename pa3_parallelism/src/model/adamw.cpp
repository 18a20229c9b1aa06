// AdamW (contract in pa3/adamw.h).
#include "pa3/adamw.h"

#include <cmath>

#include "check.h"

namespace pa3 {

void adamw_update(float* param, const float* grad, float* m, float* v, int64_t n, int64_t step,
                  const AdamWConfig& c, float weight_decay) {
  if (step < 1) detail::fail("adamw_update", "step", "expected >= 1, got " + std::to_string(step));
  if (n < 0) detail::fail("adamw_update", "n", "expected >= 0, got " + std::to_string(n));
  const float correction1 = 1.0f - std::pow(c.beta1, static_cast<float>(step));
  const float correction2 = 1.0f - std::pow(c.beta2, static_cast<float>(step));
  for (int64_t i = 0; i < n; ++i) {
    const float g = grad[i];
    m[i] = c.beta1 * m[i] + (1.0f - c.beta1) * g;
    v[i] = c.beta2 * v[i] + (1.0f - c.beta2) * g * g;
    const float m_hat = m[i] / correction1;
    const float v_hat = v[i] / correction2;
    param[i] -= c.lr * (m_hat / (std::sqrt(v_hat) + c.eps) + weight_decay * param[i]);
  }
}

AdamW::AdamW(std::vector<NamedTensor> params, AdamWConfig config)
    : params_(std::move(params)), config_(config) {
  for (const NamedTensor& p : params_) {
    detail::check_tensor("AdamW", p.name.c_str(), p.tensor, p.tensor.shape());
    m_.push_back(mlsys::zeros(p.tensor.shape()));
    v_.push_back(mlsys::zeros(p.tensor.shape()));
  }
}

void AdamW::step(const std::vector<NamedTensor>& grads) {
  if (grads.size() != params_.size()) {
    detail::fail("AdamW::step", "grads", "expected " + std::to_string(params_.size()) +
                                             " tensors (one per parameter), got " +
                                             std::to_string(grads.size()));
  }
  ++step_;
  for (size_t i = 0; i < params_.size(); ++i) {
    const Tensor& p = params_[i].tensor;
    detail::check_tensor("AdamW::step", params_[i].name.c_str(), grads[i].tensor, p.shape());
    adamw_update(p.data<float>(), grads[i].tensor.data<float>(), m_[i].data<float>(),
                 v_[i].data<float>(), p.numel(), step_, config_,
                 params_[i].decay ? config_.weight_decay : 0.f);
  }
}

}  // namespace pa3
