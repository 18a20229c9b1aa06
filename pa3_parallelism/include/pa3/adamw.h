// pa3/adamw.h — the AdamW optimizer (Loshchilov & Hutter, "Decoupled Weight Decay
// Regularization", ICLR 2019), as one elementwise update over a contiguous range of floats.
//
// For every element, at step t = 1, 2, ... (float32 arithmetic, in this order):
//   m = beta1 m + (1 - beta1) g
//   v = beta2 v + (1 - beta2) g^2
//   m_hat = m / (1 - beta1^t),   v_hat = v / (1 - beta2^t)          (bias correction)
//   p = p - lr (m_hat / (sqrt(v_hat) + eps) + weight_decay p)        (decay decoupled from g)
// Weight decay applies to the matrices (embeddings and linear weights, dim >= 2) and not to
// biases and LayerNorm weights (NamedTensor::decay; nanoGPT's rule): pulling a LayerNorm gain
// towards 0 or a bias towards 0 is not a regularizer of the function's complexity.
//
// The update of an element depends only on that element's p, g, m, v and on t, so any
// partition of the parameters (ZeRO's flat shards included) gives bit-identical results as
// long as each element is updated with its own tensor's decay setting: a shard that crosses a
// parameter boundary calls adamw_update once per piece.
#pragma once

#include <cstdint>
#include <vector>

#include "pa3/gpt.h"

namespace pa3 {

struct AdamWConfig {
  float lr = 1e-3f;
  float beta1 = 0.9f;
  float beta2 = 0.95f;
  float eps = 1e-8f;
  float weight_decay = 0.1f;  // applied only to tensors with decay == true
};

// Updates n elements in place: param, m, v written; grad read. step >= 1 is the number of this
// update (1 for the first). weight_decay is the value for this range (0 for no decay).
void adamw_update(float* param, const float* grad, float* m, float* v, int64_t n, int64_t step,
                  const AdamWConfig& config, float weight_decay);

// AdamW over a parameter list (GPTParams::list() or any other): owns m and v, zero at start.
class AdamW {
 public:
  AdamW(std::vector<NamedTensor> params, AdamWConfig config);
  // One update with `grads` (same order and shapes as the parameters). Increments step().
  void step(const std::vector<NamedTensor>& grads);
  int64_t step_count() const { return step_; }
  const AdamWConfig& config() const { return config_; }
  const std::vector<Tensor>& m() const { return m_; }
  const std::vector<Tensor>& v() const { return v_; }

 private:
  std::vector<NamedTensor> params_;
  AdamWConfig config_;
  std::vector<Tensor> m_, v_;
  int64_t step_ = 0;
};

}  // namespace pa3
