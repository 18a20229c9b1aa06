// pa3/train.h — the single-process trainer: the reference every parallel run is compared with.
//
// One step s (s = 0, 1, ...):
//   1. batch = global_batch(train_tokens, s, data_seed, B, T)           (pa3/data.h)
//   2. zero the gradients; for k = 0 .. num_micro-1, on micro-batch k = batch_shard(batch, k,
//      num_micro) (rows [k B/num_micro, (k+1) B/num_micro)): gpt_forward, then gpt_backward
//      with dloss = 1.0f / (B T), i.e. each micro-batch's mean loss scaled by 1/num_micro, so
//      the accumulated gradient is the full batch's (bit for bit: see pa3/gpt.h)
//   3. one AdamW step over params.list()                                (pa3/adamw.h)
//   4. the step's loss: the mean of the micro-batches' mean losses (summed in double).
// A data-parallel run with N ranks, each rank's micro-batches taken from its shard of the
// same global batch, computes the same per-row activations as this trainer.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "pa3/adamw.h"
#include "pa3/gpt.h"

namespace pa3 {

struct StepStats {
  int64_t step = 0;      // 0-based
  float loss = 0.f;      // the step's mean training loss
  double seconds = 0.0;  // wall time of the step (for progress output only)
  int64_t tokens = 0;    // B * T
};

struct TrainOptions {
  int64_t steps = 100;
  int64_t batch_size = 16;  // B: rows of the global batch
  int64_t seq_len = 0;      // T; 0 means config.block_size
  int64_t num_micro = 1;    // micro-batches per step (gradient accumulation); divides B
  uint64_t model_seed = 1337;
  uint64_t data_seed = 42;
  AdamWConfig adamw;
  std::function<void(const StepStats&)> on_step;  // called after every step when set
};

struct TrainResult {
  GPTParams params;           // the weights after the last step
  std::vector<float> losses;  // one per step
};

// Trains gpt_init(config, options.model_seed) on train_tokens; throws mlsys::Error on a bad
// option (naming it).
TrainResult train_single(const GPTConfig& config, const TrainOptions& options,
                         const std::vector<int32_t>& train_tokens);

// Mean loss over `batches` batches global_batch(tokens, i, seed, B, T), i = 0 .. batches-1.
float evaluate(const GPTParams& params, const GPTConfig& config,
               const std::vector<int32_t>& tokens, int64_t batches, int64_t B, int64_t T,
               uint64_t seed);

}  // namespace pa3
