// pa3/pipeline.h — PA3 Task 6: pipeline parallelism (GPipe and 1F1B).
//
// The model's layers are cut into p consecutive STAGES, one per rank of a pipeline communicator
// (the Task 2 grid's pp() group, or any communicator: stage s = rank s). A training step splits
// the batch into m MICRO-BATCHES; every stage runs a forward (F) and a backward (B) for each of
// them. Activations flow from stage s to s+1, gradients from s+1 back to s. The order in which a
// stage runs its 2m operations is its SCHEDULE:
//
//   GPipe  (Huang et al. 2019)       all m forwards, then all m backwards.
//   1F1B   (PipeDream-Flush,          warm-up: min(p - s - 1, m) forwards; steady state: one
//           Narayanan et al. 2021)    forward then one backward, while forwards remain;
//                                     cool-down: the remaining backwards.
//
// Both leave the pipeline idle for the same fraction (p-1)/(m+p-1) of a step (the BUBBLE, with
// equal forward times and equal backward times on every stage), but a stage must keep a
// micro-batch's activations from its forward until its backward: GPipe stashes m micro-batches
// on every stage, 1F1B at most min(p - s, m) on stage s.
//
// This header is given code: it fixes every signature. Your code goes in src/pipeline.cpp:
//   Task 6.1  stage_layers             the layer partition
//   Task 6.2  gpipe_schedule, one_f_one_b_schedule   the two schedules, as data
//   Task 6.3  run_pipeline             the executor's receive / compute / send order
// Given code (src/pipeline/*.cpp): the schedule parser and printer, the stage bookkeeping
// (StageRecorder: the timeline and the stash counter), the GPT stage, the timeline tools
// (bubble fraction, Chrome trace JSON, ASCII picture).
//
// Vocabulary: p stages (pp.size()), s this stage (pp.rank()), m micro-batches, L layers
// (transformer blocks), micro-batch index i in [0, m).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "pa3/comm.h"
#include "pa3/data.h"
#include "pa3/gpt.h"

namespace pa3 {

// ============================================================================================
// Task 6.1 — layer partition
// ============================================================================================

// Layers [begin, end) of one stage.
struct LayerRange {
  int64_t begin = 0;
  int64_t end = 0;
  int64_t size() const { return end - begin; }
  bool operator==(const LayerRange& o) const { return begin == o.begin && end == o.end; }
};

// PA3 Task 6.1. The layers of stage `stage` when n_layer layers are split over num_stages
// stages: consecutive ranges in stage order, as even as possible, the first n_layer % num_stages
// stages one layer more. Example: 7 layers over 3 stages -> [0,3) [3,5) [5,7).
// Throws mlsys::Error (naming the argument, expected vs given) unless num_stages >= 1,
// 0 <= stage < num_stages and n_layer >= num_stages (every stage gets at least one layer).
// (Stage 0 also owns the embedding and the last stage the head: see GPTStage.)
LayerRange stage_layers(int64_t n_layer, int num_stages, int stage);

// ============================================================================================
// Task 6.2 — schedules as data
// ============================================================================================

enum class PipeOp : char { F = 'F', B = 'B' };

// One operation of a stage's schedule: the forward or backward of micro-batch `micro`.
struct PipeStep {
  PipeOp op = PipeOp::F;
  int micro = 0;
  bool operator==(const PipeStep& o) const { return op == o.op && micro == o.micro; }
  bool operator!=(const PipeStep& o) const { return !(*this == o); }
};

enum class PipeSchedule { GPipe, OneFOneB };

// PA3 Task 6.2. Stage `stage`'s GPipe schedule for m = num_micro micro-batches:
//   F0 F1 ... F(m-1) B0 B1 ... B(m-1)
// (the same on every stage; backwards in micro-batch order, so each stage accumulates its
// gradients in the same order as a single process looping over the micro-batches).
// Throws mlsys::Error unless num_stages >= 1, 0 <= stage < num_stages, num_micro >= 1.
std::vector<PipeStep> gpipe_schedule(int num_stages, int stage, int num_micro);

// PA3 Task 6.2. Stage `stage`'s 1F1B schedule (PipeDream-Flush) for m = num_micro:
//   warm-up   w = min(p - stage - 1, m) forwards  F0 .. F(w-1)
//   steady    for k = 0 .. m-w-1:  F(w+k) B(k)
//   cool-down B(m-w) .. B(m-1)
// Example p = 4, m = 6, stage 1: F0 F1 F2 B0 F3 B1 F4 B2 F5 B3 B4 B5.
// Forwards and backwards each run in micro-batch order. Same errors as gpipe_schedule.
std::vector<PipeStep> one_f_one_b_schedule(int num_stages, int stage, int num_micro);

// Given. gpipe_schedule or one_f_one_b_schedule.
std::vector<PipeStep> make_schedule(PipeSchedule kind, int num_stages, int stage, int num_micro);
// Given. "GPipe" / "1F1B"; and the inverse (also accepts "gpipe", "1f1b"; throws otherwise).
const char* schedule_name(PipeSchedule kind);
PipeSchedule parse_schedule_name(const std::string& name);

// Given. A schedule as text and back: "F0 F1 B0 B1" (tokens separated by single spaces).
// parse_schedule throws mlsys::Error on a malformed token.
std::string schedule_to_string(const std::vector<PipeStep>& steps);
std::vector<PipeStep> parse_schedule(const std::string& text);

// ============================================================================================
// A pipeline stage (what the executor runs): implement it to plug in any model piece
// ============================================================================================
//
// The executor calls forward(i) and backward(i) once per micro-batch i, in schedule order, on
// the stage's own thread/process. Tensors crossing stage boundaries are float32, contiguous,
// of input_shape() (from the previous stage, and the gradient sent back to it) and
// output_shape() (to the next stage, and the gradient received from it), the same for every
// micro-batch. The stage keeps whatever its backward(i) needs from forward(i) (its input
// included: the executor does not keep it) and may drop it in backward(i).
class PipelineStage {
 public:
  virtual ~PipelineStage() = default;
  // Shape of the activation received from stage s-1 (not called on stage 0).
  virtual mlsys::Shape input_shape() const = 0;
  // Shape of the activation sent to stage s+1 (not called on the last stage).
  virtual mlsys::Shape output_shape() const = 0;
  // input: the activation from stage s-1 (an undefined Tensor on stage 0: the stage reads its
  // own data). output: a tensor of output_shape() to WRITE (undefined on the last stage: the
  // stage computes its loss).
  virtual void forward(int micro, const Tensor& input, const Tensor& output) = 0;
  // grad_output: dL/d(output) from stage s+1 (undefined on the last stage: the gradient starts
  // at the loss). grad_input: ZEROED tensor of input_shape() to which the stage ADDS
  // dL/d(input) (undefined on stage 0). Parameter gradients are accumulated (+=) by the stage.
  virtual void backward(int micro, const Tensor& grad_output, const Tensor& grad_input) = 0;
};

// Given. A stage made of callbacks (tests use it for synthetic stages; a Task 7 stage may too).
class FunctionStage : public PipelineStage {
 public:
  using Fn = std::function<void(int micro, const Tensor& in, const Tensor& out)>;
  FunctionStage(mlsys::Shape input_shape, mlsys::Shape output_shape, Fn forward, Fn backward)
      : input_shape_(std::move(input_shape)),
        output_shape_(std::move(output_shape)),
        forward_(std::move(forward)),
        backward_(std::move(backward)) {}
  mlsys::Shape input_shape() const override { return input_shape_; }
  mlsys::Shape output_shape() const override { return output_shape_; }
  void forward(int micro, const Tensor& input, const Tensor& output) override {
    forward_(micro, input, output);
  }
  void backward(int micro, const Tensor& grad_output, const Tensor& grad_input) override {
    backward_(micro, grad_output, grad_input);
  }

 private:
  mlsys::Shape input_shape_, output_shape_;
  Fn forward_, backward_;
};

// ============================================================================================
// Timeline and stash bookkeeping (given)
// ============================================================================================

// One executed operation: stage, F or B, micro-batch, and the start and end of the stage's
// forward/backward call (not the time spent waiting for messages), in microseconds of
// std::chrono::steady_clock (one clock for all threads, and for all processes of one machine).
struct TimelineEvent {
  int stage = 0;
  PipeOp op = PipeOp::F;
  int micro = 0;
  double start_us = 0.0;
  double end_us = 0.0;
};

// What one run of the executor reports for its stage.
struct PipelineResult {
  // The largest number of micro-batches that had run their forward but not yet their backward
  // on this stage at any moment of the run (counted at each forward and backward call).
  int64_t peak_stashed = 0;
  std::vector<TimelineEvent> timeline;  // this stage's operations in execution order
};

// The bookkeeping of one stage during one run: calls the stage, times the call, counts the
// stashed micro-batches, and checks that the run is a valid one (each micro-batch in [0, m)
// forwarded once, then backwarded once; finish() checks that all 2m operations ran). Every
// misuse throws mlsys::Error naming the stage, the operation and the micro-batch.
class StageRecorder {
 public:
  StageRecorder(PipelineStage& stage, int stage_index, int num_stages, int num_micro);
  void forward(int micro, const Tensor& input, const Tensor& output);
  void backward(int micro, const Tensor& grad_output, const Tensor& grad_input);
  int64_t stashed() const { return stashed_; }
  // Checks that every micro-batch ran its forward and backward; returns the result.
  PipelineResult finish();

 private:
  PipelineStage& stage_;
  int stage_index_, num_stages_, num_micro_;
  std::vector<char> forwarded_, backwarded_;
  int64_t stashed_ = 0;
  PipelineResult result_;
};

// ============================================================================================
// Task 6.3 — the executor
// ============================================================================================

// Message tags of the executor on the pipeline communicator (activations go s -> s+1,
// gradients s+1 -> s).
constexpr int kPipeActivationTag = 601;
constexpr int kPipeGradientTag = 602;

// PA3 Task 6.3. Collective over `pp` (stage s = pp.rank(), p = pp.size()): runs this stage's
// `schedule` once — one training step's forwards and backwards of its m micro-batches — and
// returns the recorder's result. m = num_micro; `schedule` must hold each of F0..F(m-1) and
// B0..B(m-1) once, a forward before its backward (gpipe_schedule, one_f_one_b_schedule or any
// such order that is consistent across stages).
//   F i: receive the activation of micro-batch i from stage s-1 (not on stage 0), run the
//        forward through recorder.forward, send the output to stage s+1 (not on the last).
//   B i: receive the gradient of micro-batch i from stage s+1 (not on the last stage), run the
//        backward through recorder.backward into a zeroed grad_input, send grad_input to s-1
//        (not on stage 0).
// Use tags kPipeActivationTag / kPipeGradientTag. The order of sends and receives must never
// deadlock, for both schedules and any p, m (a blocking send waits for its receiver).
// Returns only when every message this stage sent has been received.
// Throws mlsys::Error when num_micro < 1 (and via the recorder on an invalid schedule).
PipelineResult run_pipeline(Communicator& pp, PipelineStage& stage,
                            const std::vector<PipeStep>& schedule, int num_micro);

// ============================================================================================
// The GPT as pipeline stages (given)
// ============================================================================================
//
// Stage s of p runs blocks layers.begin .. layers.end-1; stage 0 also runs the embedding,
// the last stage also the head (final LayerNorm, LM head, cross-entropy). The activation
// between stages is the residual stream [b, T, C] with b = B / m rows per micro-batch.
// Micro-batch i is batch_shard(batch, i, m) of the global batch (rows [i b, (i+1) b)), and
// every backward uses dloss = 1.0f / (B * T): the same per-row gradient contributions as
// train_single's gradient accumulation, so the gradients match one process accumulating the
// micro-batches in order 0..m-1, bit for bit (pa3/gpt.h explains why).
class GPTStage : public PipelineStage {
 public:
  // params / grads: GPTParams of the full model's shapes (gpt_init / gpt_zeros_like); only
  // this stage's tensors are read (params) or accumulated into (grads). The others may be
  // undefined Tensors. Throws mlsys::Error on a bad stage, layer range or config.
  GPTStage(const GPTConfig& config, const GPTParams& params, const GPTParams& grads, int stage,
           int num_stages, LayerRange layers);

  // The global batch of this step (every stage gets the same one; only stage 0 reads inputs
  // and only the last stage targets) and m. B % num_micro == 0, T <= block_size.
  void set_batch(const Batch& batch, int num_micro);

  mlsys::Shape input_shape() const override;   // [B/m, T, C]
  mlsys::Shape output_shape() const override;  // [B/m, T, C]
  void forward(int micro, const Tensor& input, const Tensor& output) override;
  void backward(int micro, const Tensor& grad_output, const Tensor& grad_input) override;

  // Last stage: the mean of the micro-batches' mean losses (summed in double in micro-batch
  // order, as train_single) once every forward of the step ran; NaN on other stages.
  float loss() const;
  // Micro-batches whose activations this stage holds right now.
  int64_t held_micro_batches() const;

 private:
  struct MicroActs {
    bool live = false;
    Tensor input;     // stage > 0: the received activation (the first block's input)
    Tensor encoded;   // stage 0: the embedding output
    std::vector<BlockActs> blocks;
    HeadActs head;
  };
  GPTConfig config_;
  GPTParams params_, grads_;
  int stage_, num_stages_;
  LayerRange layers_;
  int num_micro_ = 0;
  int64_t B_ = 0, T_ = 0;
  std::vector<Batch> micro_;
  std::vector<MicroActs> acts_;
  std::vector<double> losses_;
  std::vector<char> have_loss_;
  float dloss_ = 0.f;
};

// ============================================================================================
// Timeline tools (given)
// ============================================================================================

// Collective over `pp`: every stage's timeline, concatenated in stage order, on every rank.
std::vector<TimelineEvent> gather_timeline(const Communicator& pp,
                                           const std::vector<TimelineEvent>& mine);

// The bubble fraction of a run: 1 - (sum of all events' durations) / (p * span), span = the
// latest end minus the earliest start over all events. p = num_stages. Throws on no events.
// With equal forward times tf and backward times tb on every stage and free communication,
// both schedules give (p-1)/(m+p-1).
double bubble_fraction(const std::vector<TimelineEvent>& events, int num_stages);

// Chrome trace JSON (chrome://tracing, https://ui.perfetto.dev): {"traceEvents": [...]} with
// one complete event per operation: "ph": "X", "name": "F3" / "B3", "cat": "forward" /
// "backward", "pid": stage, "tid": 0, "ts" and "dur" in microseconds (ts relative to the
// earliest start), "args": {"micro": i}; plus one "process_name" metadata event ("ph": "M")
// per stage naming it "stage s".
std::string chrome_trace_json(const std::vector<TimelineEvent>& events);
// Writes chrome_trace_json to `path`; throws mlsys::Error when the file cannot be written.
void write_chrome_trace(const std::string& path, const std::vector<TimelineEvent>& events);

// An ASCII picture of the timeline: one row per stage, `columns` characters spanning the run,
// each column showing the operation that covers the column's midpoint: the digit i % 10 for the
// forward of micro-batch i, the letter 'a' + i % 26 for its backward, '.' when the stage is idle.
std::string ascii_timeline(const std::vector<TimelineEvent>& events, int num_stages,
                           int columns = 72);

}  // namespace pa3
