// pa3/train.h — the single-process trainer: the reference every parallel run is compared with.
//
// One step s (s = 0, 1, ...), with S = num_shards and m = num_micro:
//   1. batch = global_batch(train_tokens, s, data_seed, B, T)           (pa3/data.h)
//   2. for each shard j = 0 .. S-1 in order (shard j = batch_shard(batch, j, S): the rows
//      data-parallel rank j of S would get), the shard's gradient: zeroed, then for each
//      micro-batch k = 0 .. m-1 of the shard (batch_shard(shard, k, m)) gpt_forward and
//      gpt_backward with dloss = 1.0f / (B T) (the GLOBAL B), accumulated into it. Shard 0's
//      gradient is the running total; every later shard's gradient is added to it elementwise,
//      in shard order: g = ((g_0 + g_1) + g_2) + ...
//   3. one AdamW step over params.list()                                (pa3/adamw.h)
//   4. the step's loss: the shards' double sums of their micro-batches' mean losses, added in
//      shard order, divided by S m.
// This is what S data-parallel ranks compute, done in one process: with S = 1 it is a data-
// parallel run with N = 1, and with S = 2 a run with N = 2, bit for bit (a + b == b + a in
// floating point, so the order in which an all-reduce adds two gradients does not matter).
// For S > 2 a ring all-reduce adds the S gradients of an element in an order that depends on
// the element's chunk, so N > 2 ranks match S = N within a tolerance (handouts/pa3.md, §5).
// Within one shard, m micro-batches accumulate into one running sum, so changing m never
// changes the bits (pa3/gpt.h); changing S does (a new shard starts its own sum from zero).
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
  int64_t num_shards = 1;   // S: shards of the global batch, as S data-parallel ranks split it
  int64_t num_micro = 1;    // m: micro-batches per shard (gradient accumulation); S m divides B
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
