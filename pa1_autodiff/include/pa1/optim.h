// pa1/optim.h — optimizers (PA1 Tasks 3.1 and 3.2, src/optim.cpp) and initializers.
//
//   SGD opt(params, /*lr=*/0.1f, /*momentum=*/0.9f);
//   auto out = ex.run(feeds);                       // out[1..] = gradients of params, in order
//   opt.step({out.begin() + 1, out.end()});          // updates every Variable's value in place
//
// An optimizer holds the Variable nodes it updates and any per-parameter state (momentum
// buffers, Adam moments), allocated zero-filled when it is constructed. step() writes into the
// Variables' existing value tensors (Tensor::copy_ or their data), so every graph and executor
// that reads them sees the update.
#pragma once

#include <cstdint>
#include <vector>

#include "pa1/graph.h"

namespace pa1 {

class Optimizer {
 public:
  // params: Variable nodes with float32 values, each listed once.
  explicit Optimizer(std::vector<NodePtr> params);
  virtual ~Optimizer() = default;
  // grads[i]: dL/d(params[i]->value), same shape and device. Checks the arguments, then
  // updates every parameter once; steps() counts the calls.
  void step(const std::vector<Tensor>& grads);
  const std::vector<NodePtr>& params() const { return params_; }
  int64_t steps() const { return t_; }
  float lr;  // may be changed between steps (schedules)

 protected:
  virtual void update(const std::vector<Tensor>& grads) = 0;  // t_ is already incremented
  std::vector<NodePtr> params_;
  int64_t t_ = 0;  // number of steps, including the current one (1 during the first update)
};

// Stochastic gradient descent with momentum and (L2) weight decay, PyTorch's convention:
//   g = grad + weight_decay * w;   v = momentum * v + g;   w = w - lr * v
// (v starts at zero; with momentum 0 this is plain w -= lr * g).
class SGD : public Optimizer {
 public:
  SGD(std::vector<NodePtr> params, float lr, float momentum = 0.f, float weight_decay = 0.f);
  float momentum, weight_decay;

 protected:
  void update(const std::vector<Tensor>& grads) override;
  std::vector<Tensor> velocity_;  // one per parameter, zero-initialized
};

// Adam (Kingma & Ba, 2015) with bias correction; AdamW (Loshchilov & Hutter, 2019) when
// decoupled_weight_decay is set. At step t (1, 2, ...):
//   Adam:  g = grad + weight_decay * w        AdamW: g = grad;  w = w * (1 - lr * weight_decay)
//   m = beta1 m + (1 - beta1) g;   v = beta2 v + (1 - beta2) g^2
//   w = w - lr * (m / (1 - beta1^t)) / (sqrt(v / (1 - beta2^t)) + eps)
class Adam : public Optimizer {
 public:
  Adam(std::vector<NodePtr> params, float lr = 1e-3f, float beta1 = 0.9f, float beta2 = 0.999f,
       float eps = 1e-8f, float weight_decay = 0.f, bool decoupled_weight_decay = false);
  float beta1, beta2, eps, weight_decay;
  bool decoupled_weight_decay;

 protected:
  void update(const std::vector<Tensor>& grads) override;
  std::vector<Tensor> m_, v_;  // first and second moments, zero-initialized
};

// Adam with decoupled weight decay (default 0.01, as in PyTorch).
class AdamW : public Adam {
 public:
  AdamW(std::vector<NodePtr> params, float lr = 1e-3f, float beta1 = 0.9f, float beta2 = 0.999f,
        float eps = 1e-8f, float weight_decay = 0.01f)
      : Adam(std::move(params), lr, beta1, beta2, eps, weight_decay, true) {}
};

// ---- initializers (staff code, src/init.cpp) ------------------------------------------------
// Weights of shape [fan_in, fan_out] (x @ W), or any shape whose first dim is fan_in and
// whose other dims multiply to fan_out. Seeded: the same (shape, seed) gives the same values.
//   xavier (Glorot): uniform(+-sqrt(6 / (fan_in + fan_out))), normal(std sqrt(2 / (fan_in + fan_out)))
//   he (Kaiming, for relu): uniform(+-sqrt(6 / fan_in)), normal(std sqrt(2 / fan_in))
Tensor xavier_uniform(const Shape& shape, uint64_t seed);
Tensor xavier_normal(const Shape& shape, uint64_t seed);
Tensor he_uniform(const Shape& shape, uint64_t seed);
Tensor he_normal(const Shape& shape, uint64_t seed);

}  // namespace pa1
