// The single-process reference trainer (contract in pa3/train.h).
#include "pa3/train.h"

#include <chrono>

#include "check.h"
#include "pa3/data.h"

namespace pa3 {

TrainResult train_single(const GPTConfig& config, const TrainOptions& o,
                         const std::vector<int32_t>& train_tokens) {
  const char* op = "train_single";
  config.validate();
  const int64_t B = o.batch_size, T = o.seq_len > 0 ? o.seq_len : config.block_size;
  if (o.steps < 0) detail::fail(op, "steps", "expected >= 0, got " + std::to_string(o.steps));
  if (B <= 0) detail::fail(op, "batch_size", "expected > 0, got " + std::to_string(B));
  if (T > config.block_size) {
    detail::fail(op, "seq_len", "expected <= block_size = " + std::to_string(config.block_size) +
                                    ", got " + std::to_string(T));
  }
  if (o.num_micro <= 0 || B % o.num_micro != 0) {
    detail::fail(op, "num_micro", "expected a positive divisor of batch_size = " +
                                      std::to_string(B) + ", got " + std::to_string(o.num_micro));
  }
  TrainResult result{gpt_init(config, o.model_seed), {}};
  const GPTParams& params = result.params;
  const GPTParams grads = gpt_zeros_like(params);
  AdamW optimizer(params.list(), o.adamw);
  GPTActs acts;
  const float dloss = 1.0f / static_cast<float>(B * T);
  for (int64_t step = 0; step < o.steps; ++step) {
    const auto start = std::chrono::steady_clock::now();
    const Batch batch = global_batch(train_tokens, step, o.data_seed, B, T);
    zero_grads(grads);
    double loss_sum = 0.0;
    for (int64_t k = 0; k < o.num_micro; ++k) {
      const Batch micro = batch_shard(batch, k, o.num_micro);
      loss_sum += gpt_forward(acts, params, config, micro.inputs, micro.targets);
      gpt_backward(grads, acts, params, config, micro.inputs, micro.targets, dloss);
    }
    optimizer.step(grads.list());
    const float loss = static_cast<float>(loss_sum / static_cast<double>(o.num_micro));
    result.losses.push_back(loss);
    if (o.on_step) {
      const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
      o.on_step({step, loss, elapsed.count(), B * T});
    }
  }
  return result;
}

float evaluate(const GPTParams& params, const GPTConfig& config,
               const std::vector<int32_t>& tokens, int64_t batches, int64_t B, int64_t T,
               uint64_t seed) {
  if (batches <= 0) detail::fail("evaluate", "batches", "expected > 0, got " + std::to_string(batches));
  GPTActs acts;
  double total = 0.0;
  for (int64_t i = 0; i < batches; ++i) {
    const Batch batch = global_batch(tokens, i, seed, B, T);
    total += gpt_forward(acts, params, config, batch.inputs, batch.targets);
  }
  return static_cast<float>(total / static_cast<double>(batches));
}

}  // namespace pa3
