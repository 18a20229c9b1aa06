// pa3/parallel3d.h — PA3 Task 7: 3D parallelism (data x tensor x pipeline) over one process
// grid, with ZeRO-1 along the data-parallel axis.
//
// A world of W = DP * TP * PP ranks is the process grid of Task 2 (Megatron's order: tp
// fastest, then dp, then pp). Every rank at (dp, tp, pp):
//   - trains on rows [dp B/DP, (dp+1) B/DP) of the global batch (the DP axis splits rows),
//     as m micro-batches that flow through the pipeline;
//   - holds the layers of pipeline stage pp (stage_layers: consecutive blocks; stage 0 also the
//     embedding, stage PP-1 also the final LayerNorm and the LM head);
//   - holds shard tp of each of those layers (Megatron tensor parallelism, pa3/tensor_parallel.h):
//     column-parallel c_attn and c_fc, row-parallel c_proj's, whole LayerNorms and row-parallel
//     biases (replicated over the TP group). With TP = 1 a rank holds its stage's full tensors.
//
// Which communicator carries what (the lesson of Task 7):
//   grid.tp()     the Megatron all-reduces inside each block (forward and backward)
//   grid.pp()     activations forward, activation gradients backward, point to point
//                 (non-blocking sends: a blocking send in both directions at once could
//                 deadlock the 1F1B steady state)
//   embed group   tied embeddings only: the first and the last stage of one (dp, tp) pipeline;
//                 it all-reduces the two copies' gradients after the pipeline flush
//   grid.dp()     ZeRO-1 after the flush: reduce-scatter of the gradients, AdamW on this
//                 rank's chunk, all-gather of the updated parameters
//   grid.dp(), then grid.pp(): the loss (summed on the last stage, broadcast to the others)
//
// The rank's parameters live in ONE flat buffer (its gradients in a second one with the same
// layout): its stage's tensors (its TP shards) in canonical order (gpt.h), cut into buckets, each
// padded with zeros to a multiple of DP. Bucket 0 is the tied embedding copy when this stage
// holds one (tie_embeddings, stage 0 or PP-1), so that both copies are reduced in the same chunks
// and stay bit-identical; the other tensors form the last bucket. ZeRO-1: the rank with
// coordinate dp owns chunk_of(padded, DP, dp) of every bucket; its AdamW state (m, v) holds only
// those chunks, back to back in bucket order.
//
// Tied embeddings with PP > 1 (Megatron): stage PP-1 holds its own copy of wte as the LM head,
// initialized from the same draw; the two copies' gradients are summed over the embed group, so
// both take the same AdamW update. With PP = 1 the LM head is wte itself (one tensor, no sync).
//
// The loss scale (as in Task 3): every micro-batch's backward uses dloss = 1.0f / (B T) with the
// GLOBAL B; gradients are SUMMED over micro-batches, the TP group's replicated parts need no
// sum (every TP rank computes the same bits), the DP group sums in the reduce-scatter.
//
// What equals what (threads backend; every PA3 target is compiled with -ffp-contract=off):
//   - TP = 1: bit for bit with a single process that, for every DP rank d, accumulates d's
//     micro-batches in micro-batch order into a zeroed gradient (with PP > 1 and tied
//     embeddings: the head's and the embedding's contributions to wte in two buffers, then
//     added), then sums the DP gradients per element in the ring's order of that element's
//     chunk (chunk c: d = c+1, c+2, ..., c, mod DP; see backend.cpp), then AdamW. With DP = 1 and
//     untied embeddings that is train_single itself.
//   - TP > 1: the row-parallel layers add partial products across the TP group: within a
//     tolerance (handouts/pa3.md, Task 7).
//   - every rank of a DP group holds the same parameter bits after every step, and so do the
//     two tied copies.
//   - MPI backend: MPI's reductions add in their own order: within the TP > 1 tolerance.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "pa3/adamw.h"
#include "pa3/comm.h"
#include "pa3/data.h"
#include "pa3/gpt.h"
#include "pa3/grid.h"
#include "pa3/pipeline.h"

namespace pa3 {

// ============================================================================================
// Options and layout
// ============================================================================================

struct Options3D {
  GridShape grid;                    // DP x TP x PP = the world's size
  std::string schedule = "1f1b";     // "gpipe" or "1f1b"
  int64_t num_micro = 1;             // m: micro-batches per DP rank per step; DP * m divides B
  // Blocks per pipeline stage (PP entries, each >= 1, summing to n_layer), for uneven splits.
  // Empty: as even as possible, the first L % PP stages one block more (pipeline.h).
  std::vector<int64_t> stage_layers;
  AdamWConfig adamw;
  uint64_t model_seed = 1337;

  // Throws mlsys::Error naming the option unless the grid's sizes are >= 1, the schedule is
  // known ("gpipe", "1f1b", any case), num_micro >= 1, stage_layers is empty or valid for
  // `config` (n_layer >= PP when empty), and TP divides NH and Vp (tensor_parallel.h).
  void validate(const GPTConfig& config) const;
};

// The blocks of stage `stage`: consecutive ranges in stage order of options.stage_layers[s]
// blocks each, or, when that is empty, pa3::stage_layers(n_layer, PP, stage) (pipeline.h).
LayerRange layers_of_stage(const GPTConfig& config, const Options3D& options, int stage);

// One tensor this rank holds: a view into the flat parameter (and gradient) buffer.
struct LocalParam {
  int index = 0;           // canonical index (gpt.h); the tied LM head copy has index 0 (wte)
  std::string name;        // as in GPTParams::list(); the tied copy "lm_head.weight (tied)"
  Tensor param, grad;      // shapes of this rank's TP shard
  float decay = 0.f;       // the AdamW weight decay for this tensor (0 for no decay)
  int64_t offset = 0;      // first element in the flat buffers
  int64_t bucket = 0;
};

struct Bucket3D {
  int64_t begin = 0;   // first element in the flat buffers
  int64_t numel = 0;   // elements of its tensors
  int64_t padded = 0;  // numel rounded up to a multiple of DP
};

// Per-step measurements of this rank (for pa3_train and the tests).
struct StepStats3D {
  double seconds = 0;           // the whole step
  double pipeline_seconds = 0;  // from this stage's first forward call to its last backward's end
  double busy_seconds = 0;      // of which in its forward and backward calls
  int64_t stash_peak = 0;       // most micro-batches whose activations this stage held at once
};

// ============================================================================================
// The 3D trainer
// ============================================================================================

class Parallel3D {
 public:
  // Collective over `world` (size DP*TP*PP). Builds the grid (Task 2), the embed group and
  // this rank's parameters: every rank draws the full gpt_init(config, model_seed) and keeps its
  // stage's tensors, sliced to its TP shard, so every layout starts from the same weights.
  Parallel3D(Communicator& world, const GPTConfig& config, const Options3D& options);
  ~Parallel3D();
  Parallel3D(const Parallel3D&) = delete;
  Parallel3D& operator=(const Parallel3D&) = delete;

  // Collective. One training step on `global_batch` (the same [B, T] batch on every rank; DP*m
  // divides B). Returns the global mean loss (the mean of all DP*m micro-batch losses), the
  // same float on every rank. Calls step_3d (Task 7.2) and times it.
  float step(const Batch& global_batch);

  // Collective (every rank must call it). The full model on every rank, assembled from every
  // stage and TP shard: the stages' tensors broadcast over grid.pp(), then the TP shards
  // gathered over grid.tp(). Tied: wte comes from stage 0.
  GPTParams full_params();

  // ---- PA3 Task 7.1 (src/parallel3d.cpp) ---------------------------------------------------
  // Tied embeddings with PP > 1, on stages 0 and PP-1 (a no-op on the other stages and when
  // untied or PP == 1): the gradient of this stage's embedding copy (local_params()[0], bucket
  // 0) becomes the sum of both copies' gradients, an all-reduce over embed_group().
  void sync_tied_gradients();
  // ZeRO-1 over grid().dp(), once the gradients are final: for every bucket b, reduce-scatter
  // its padded range of the flat gradients so that this rank receives chunk dp of the sum,
  // AdamW (step number step_count()) on that chunk of the flat parameters with the chunk's m
  // and v (at shard_offset(b)), then all-gather the updated chunk into the bucket's range of
  // the flat parameters.
  void zero1_update();

  // ---- accessors ---------------------------------------------------------------------------
  ProcessGrid& grid() { return grid_; }
  // Stage 0 and stage PP-1 of this rank's (dp, tp) pipeline, ranked by stage, when the model is
  // tied and PP > 1 and this rank is on one of them; an invalid Communicator otherwise.
  const Communicator& embed_group() const { return embed_; }
  // This rank's tensors in flat-buffer order (bucket 0 first).
  const std::vector<LocalParam>& local_params() const { return local_; }
  const std::vector<Bucket3D>& buckets() const { return buckets_; }
  const Tensor& flat_params() const { return flat_params_; }
  const Tensor& flat_grads() const { return flat_grads_; }
  const Tensor& adam_m() const { return m_; }  // the ZeRO-1 shard: sum of padded / DP elements
  const Tensor& adam_v() const { return v_; }
  int64_t step_count() const { return step_; }
  // Steps taken (step() increments it before step_3d). Tests that call zero1_update() on their
  // own set it first (AdamW's step number is >= 1).
  void set_step_count(int64_t step) { step_ = step; }
  const LayerRange& layers() const { return layers_; }
  const std::vector<PipeStep>& schedule() const { return schedule_; }
  // What run_pipeline returned in the last step (its timeline: see pipeline.h).
  const PipelineResult& last_pipeline() const { return pipeline_; }
  const StepStats3D& last_stats() const { return stats_; }
  const GPTConfig& config() const { return config_; }
  const Options3D& options() const { return options_; }
  // Offset of this rank's chunk of bucket b in m and v: the sum of padded / DP over buckets < b.
  int64_t shard_offset(size_t b) const;
  // Global row count B of the step in progress (set by step()).
  int64_t global_rows() const { return global_rows_; }

 private:
  // ---- PA3 Task 7.2 (src/parallel3d.cpp) ---------------------------------------------------
  // The composition: one step of this rank's part of the 3D run (contract in the .cpp file).
  float step_3d(const Batch& global_batch);

  // ---- given (src/p3d/engine3d.cpp) --------------------------------------------------------
  // Zeroes the flat gradients and hands this rank's DP rows `local` to its pipeline stage,
  // which cuts them into m micro-batches (batch_shard(local, i, m)) and uses dloss = 1 / (B T)
  // with B = global_rows().
  void begin_step(const Batch& local);
  // This rank's pipeline stage: its blocks (tensor-parallel over grid.tp() when TP > 1), the
  // embedding on stage 0, the head and the loss on stage PP-1.
  PipelineStage& stage();
  // Last stage: the sum of its micro-batches' mean losses (in double, micro-batch order) since
  // begin_step; 0 on the other stages.
  double stage_loss_sum() const;
  // AdamW (step step_) on the flat elements [lo, hi) of bucket b: one adamw_update per piece of
  // a tensor in the range, with that tensor's decay; padding is skipped. p, g, m, v point at
  // element lo of their buffers.
  void adamw_range(size_t b, int64_t lo, int64_t hi, float* p, const float* g, float* m,
                   float* v) const;

  struct Impl;
  std::unique_ptr<Impl> impl_;  // the stage object and its activations

  GPTConfig config_;
  Options3D options_;
  ProcessGrid grid_;
  Communicator embed_;
  LayerRange layers_;
  std::vector<LocalParam> local_;
  std::vector<Bucket3D> buckets_;
  Tensor flat_params_, flat_grads_, m_, v_;
  std::vector<PipeStep> schedule_;
  PipelineResult pipeline_;
  int64_t step_ = 0;
  int64_t global_rows_ = 0;
  StepStats3D stats_;
};

}  // namespace pa3
