// The single-process reference trainer (contract in pa3/train.h).
#include "pa3/train.h"

#include <chrono>

#include "check.h"
#include "pa3/data.h"

namespace pa3 {

namespace {

// total[i] = total[i] + shard[i], elementwise over every parameter's gradient (what an
// all-reduce of two ranks' gradients computes).
void add_shard_gradient(const GPTParams& total, const GPTParams& shard) {
  const std::vector<NamedTensor> t = total.list(), g = shard.list();
  for (size_t i = 0; i < t.size(); ++i) {
    float* a = t[i].tensor.data<float>();
    const float* b = g[i].tensor.data<float>();
    for (int64_t e = 0, n = t[i].tensor.numel(); e < n; ++e) a[e] = a[e] + b[e];
  }
}

}  // namespace

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
  if (o.num_shards <= 0 || B % o.num_shards != 0) {
    detail::fail(op, "num_shards", "expected a positive divisor of batch_size = " +
                                       std::to_string(B) + ", got " + std::to_string(o.num_shards));
  }
  if (o.num_micro <= 0 || (B / o.num_shards) % o.num_micro != 0) {
    detail::fail(op, "num_micro", "expected a positive divisor of the rows per shard, batch_size / num_shards = " +
                                      std::to_string(B / o.num_shards) + ", got " +
                                      std::to_string(o.num_micro));
  }
  TrainResult result{gpt_init(config, o.model_seed), {}};
  const GPTParams& params = result.params;
  const GPTParams grads = gpt_zeros_like(params);
  // Shards 1 .. S-1 compute their gradient here, then add it to `grads` (shard 0's).
  const GPTParams shard_grads = o.num_shards > 1 ? gpt_zeros_like(params) : GPTParams{};
  AdamW optimizer(params.list(), o.adamw);
  GPTActs acts;
  const float dloss = 1.0f / static_cast<float>(B * T);
  for (int64_t step = 0; step < o.steps; ++step) {
    const auto start = std::chrono::steady_clock::now();
    const Batch batch = global_batch(train_tokens, step, o.data_seed, B, T);
    double loss_sum = 0.0;
    for (int64_t j = 0; j < o.num_shards; ++j) {
      const GPTParams& g = j == 0 ? grads : shard_grads;
      const Batch shard = batch_shard(batch, j, o.num_shards);
      zero_grads(g);
      double shard_loss = 0.0;
      for (int64_t k = 0; k < o.num_micro; ++k) {
        const Batch micro = batch_shard(shard, k, o.num_micro);
        shard_loss += gpt_forward(acts, params, config, micro.inputs, micro.targets);
        gpt_backward(g, acts, params, config, micro.inputs, micro.targets, dloss);
      }
      if (j > 0) add_shard_gradient(grads, shard_grads);
      loss_sum += shard_loss;
    }
    optimizer.step(grads.list());
    const float loss =
        static_cast<float>(loss_sum / static_cast<double>(o.num_shards * o.num_micro));
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
