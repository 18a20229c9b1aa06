// pa3/data_parallel.h — data parallelism (PA3 Task 3) and ZeRO stages 1-3 (PA3 Task 4).
//
// N ranks each hold a replica of the GPT (or, under ZeRO, a shard of its model state), train on
// disjoint rows of the same global batch, and combine their gradients with collectives so that
// every rank takes the same optimizer step. This header is given code: it fixes every signature.
// Your code goes in src/data_parallel.cpp (Task 3) and src/zero.cpp (Task 4).
//
// Vocabulary: N ranks (comm.size()), r this rank, B the GLOBAL batch rows (N divides B), T the
// sequence length, m micro-batches per rank (gradient accumulation), Ψ the number of trained
// parameters. Parameter indices are positions in GPTParams::list() (canonical order, gpt.h).
//
// The loss scale (how the 1/N is applied): every rank runs backward with
//     dloss = 1.0f / (B * T)        (B the global batch, the same float on every rank)
// i.e. each rank computes the gradient of its rows' share of the GLOBAL mean loss, exactly the
// per-row contribution the single-process run adds. Gradients are then SUMMED across ranks
// (no division afterwards). What equals what, bit for bit (every PA3 target is compiled with
// -ffp-contract=off):
//   - N = 1 and N = 2: the engine == train_single with num_shards = N (pa3/train.h), which
//     computes each shard's gradient into its own zeroed buffer and adds them in shard order
//     (a + b == b + a in floating point, so the ring's order does not matter at N = 2).
//   - N > 2: the ring sums each chunk starting at a different rank, so the order of the N
//     terms depends on the element; results match train_single (num_shards = N) within a
//     tolerance (handouts/pa3.md, section 5).
//   - ZeRO-1 and ZeRO-2 use the same buckets and reduce-scatter each bucket the way the
//     all-reduce's first half does: == plain DP bit for bit at every N. ZeRO-3 uses one bucket
//     per layer: == plain DP bit for bit at N = 2, within a tolerance at N > 2.
//   - every rank holds the same parameter bits after every step (an all-reduce or all-gather
//     gives every rank the same result).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "pa3/adamw.h"
#include "pa3/comm.h"
#include "pa3/data.h"
#include "pa3/gpt.h"

namespace pa3 {

// ============================================================================================
// Options
// ============================================================================================

struct DPOptions {
  int zero = 0;                         // 0: plain data parallelism; 1, 2, 3: ZeRO stage
  int64_t bucket_cap_bytes = 1 << 16;   // gradient bucket cap (stages 0-2; ZeRO-3: one per layer)
  int64_t num_micro = 1;                // m: micro-batches per rank per step (divides B / N)
  bool overlap = true;                  // launch bucket reductions during the backward pass
  std::vector<std::string> frozen;      // names (GPTParams::list()) of parameters not trained
  AdamWConfig adamw;
  uint64_t model_seed = 1337;           // rank 0's initialization (broadcast to the others)
};

// ============================================================================================
// Buckets and the flat buffers (layout)
// ============================================================================================
//
// The trained parameters live in ONE flat float buffer per rank, in REVERSE canonical order
// (the order in which backward finishes their gradients: lm_head, ln_f, the last block, ...,
// the first block, wpe, wte). Gradients live in a flat buffer with the same layout. A bucket
// is a contiguous range of that buffer: its parameters, then zero padding up to a multiple of
// N elements, so that chunk_of(padded, N, r) is the same size on every rank. Under ZeRO, rank
// r owns chunk r of every bucket: its shard is the concatenation of those chunks, in bucket
// order (bucket_shard_offset gives where each chunk starts in it).
struct Bucket {
  std::vector<int> params;  // parameter indices (canonical), in the order they sit in the bucket
  int64_t begin = 0;        // first element of the bucket in the flat buffer
  int64_t numel = 0;        // elements of its parameters (sum of numel)
  int64_t padded = 0;       // numel rounded up to a multiple of N: the bucket spans [begin, begin + padded)
};

// Element offset of each parameter in the flat buffer (-1 for parameters in no bucket).
std::vector<int64_t> param_offsets(const std::vector<Bucket>& buckets,
                                   const std::vector<NamedTensor>& params);
// Total flat elements (sum of padded).
int64_t flat_numel(const std::vector<Bucket>& buckets);
// Offset of rank r's chunk of bucket b in r's shard buffer (sum of padded / N over buckets < b).
int64_t bucket_shard_offset(const std::vector<Bucket>& buckets, int world, size_t b);

// One bucket per layer unit (ZeRO-3's unit of gathering), in reverse canonical order: the head
// (lm_head when untied, ln_f.bias, ln_f.weight), blocks L-1 .. 0 (12 parameters each), the
// embedding (wpe, wte). Frozen parameters are left out; a unit with none left gets no bucket.
// Given code.
std::vector<Bucket> make_layer_buckets(const GPTConfig& config,
                                       const std::vector<NamedTensor>& params,
                                       const std::vector<bool>& trainable, int world);

// ============================================================================================
// A background thread for collectives (given code)
// ============================================================================================
//
// Each rank owns one CommWorker. submit() queues a function; the worker thread runs the queued
// functions one after the other, in submission order (so all ranks issue their collectives in
// the same order, as they must), while the rank's own thread goes on computing. The worker's
// allocations are charged to the memory tag of the thread that created it.
class AsyncWork {
 public:
  AsyncWork() = default;
  // Blocks until the function ran; rethrows what it threw.
  void wait();
  bool valid() const { return state_ != nullptr; }

  struct State {
    std::mutex mutex;
    std::condition_variable done_cv;
    bool done = false;
    std::exception_ptr error;
  };
  explicit AsyncWork(std::shared_ptr<State> state) : state_(std::move(state)) {}

 private:
  std::shared_ptr<State> state_;
};

class CommWorker {
 public:
  CommWorker();
  ~CommWorker();  // finishes the queued work, then joins the thread
  CommWorker(const CommWorker&) = delete;
  CommWorker& operator=(const CommWorker&) = delete;
  AsyncWork submit(std::function<void()> fn);

 private:
  void run();
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::pair<std::function<void()>, std::shared_ptr<AsyncWork::State>>> queue_;
  bool stop_ = false;
  int tag_;
  std::thread thread_;
};

// ============================================================================================
// Task 3.1 — replicas and the plain gradient all-reduce (src/data_parallel.cpp)
// ============================================================================================

// Every rank's `params` (same names and shapes on every rank) becomes a copy of root's.
void broadcast_params(const Communicator& comm, const std::vector<NamedTensor>& params,
                      int root = 0);

// Each gradient tensor becomes the elementwise sum over ranks: one native_all_reduce per
// tensor, in list order. Tensors with trainable[i] == false are skipped (not communicated).
void all_reduce_gradients(const Communicator& comm, const std::vector<NamedTensor>& grads,
                          const std::vector<bool>& trainable);

// ============================================================================================
// Task 3.2 — gradient buckets, reduced while backward runs (src/data_parallel.cpp)
// ============================================================================================

// Groups the trainable parameters into buckets (see "Buckets" above): walk the parameters
// from the LAST index to the first, skipping untrainable ones; a parameter joins the open
// bucket unless that would take the bucket's parameter bytes (4 * numel) above cap_bytes and
// the bucket is not empty, in which case the bucket is closed and a new one opened. So every
// bucket holds at least one parameter, and one larger than the cap is a bucket of its own.
// Buckets are laid out back to back from element 0 (begin of bucket b = begin + padded of
// bucket b-1), padded to a multiple of world. cap_bytes > 0, world >= 1.
std::vector<Bucket> make_buckets(const std::vector<NamedTensor>& params,
                                 const std::vector<bool>& trainable, int64_t cap_bytes,
                                 int world);

// Launches one reduction per bucket as soon as all of the bucket's gradients are final.
//   reduce(b): the function that reduces bucket b (an all-reduce for DP, a reduce-scatter
//   under ZeRO); the reducer does not know which.
//   worker: where reductions run. nullptr: synchronously, inside grad_ready.
class BucketReducer {
 public:
  BucketReducer(std::vector<Bucket> buckets, int64_t num_params,
                std::function<void(size_t bucket)> reduce, CommWorker* worker);
  // Starts a backward pass: no gradient is final yet, nothing launched.
  void reset();
  // Parameter `param`'s gradient is final (called once per trainable parameter per backward).
  void grad_ready(int param);
  // Waits until every bucket's reduction finished (rethrows a failure). Every bucket must
  // have been launched.
  void wait();
  // How many buckets were launched since reset().
  int64_t launched() const { return launched_; }
  const std::vector<Bucket>& buckets() const { return buckets_; }

 private:
  std::vector<Bucket> buckets_;
  std::vector<int> bucket_of_;   // parameter index -> bucket index, or -1
  std::vector<int64_t> pending_; // per bucket: parameters whose gradient is not final yet
  std::function<void(size_t)> reduce_;
  CommWorker* worker_;
  std::vector<AsyncWork> inflight_;
  int64_t launched_ = 0;
};

// ============================================================================================
// The data-parallel trainer (Tasks 3.3 and 4)
// ============================================================================================

class DataParallel {
 public:
  // Collective. Rank 0 initializes gpt_init(config, options.model_seed) and broadcasts it;
  // allocates the flat parameter/gradient buffers and the optimizer state the stage keeps.
  DataParallel(const Communicator& comm, const GPTConfig& config, const DPOptions& options);
  ~DataParallel();
  DataParallel(const DataParallel&) = delete;
  DataParallel& operator=(const DataParallel&) = delete;

  // Collective. One training step on this rank's rows of `global_batch` (batch_shard(global,
  // r, N), then m micro-batches of it). Returns the global mean loss (the same on every rank).
  float step(const Batch& global_batch);

  // Collective under ZeRO-3 (all-gathers every unit). Fresh full copies of the parameters.
  GPTParams full_params();

  const std::vector<Bucket>& buckets() const { return buckets_; }
  int64_t step_count() const { return step_; }
  // The memory tag of the buffers ZeRO-3 gathers for one unit (parameters and gradients).
  static int gather_tag(int rank) { return 1000 + rank; }

 private:
  // ---- Task 3.3 (src/data_parallel.cpp) ----
  // Stages 0, 1, 2: forward and backward over the micro-batches of `local`, the bucket
  // reductions, then the optimizer (stage 0: update_replicated; 1, 2: zero_update_and_gather).
  float step_replicated(const Batch& local);
  // Stage 0: AdamW over every trained parameter's flat range (its own decay setting).
  void update_replicated();

  // ---- Task 4.1 (src/zero.cpp): ZeRO-1 and ZeRO-2 ----
  // Reduce-scatters bucket b's gradients: rank r receives chunk r of the sum, into its shard.
  void zero_reduce_bucket(size_t b);
  // AdamW on this rank's shard only, then all-gathers the updated parameters.
  void zero_update_and_gather();

  // ---- Task 4.2 (src/zero.cpp): ZeRO-3 ----
  float zero3_step(const Batch& local);
  Tensor zero3_gather(size_t b);        // bucket b's full parameters (gather tag)
  void zero3_reduce(size_t b, const Tensor& full_grad);  // reduce-scatter into grad_shard_

  // ---- given helpers (src/dp/engine.cpp) ----
  // AdamW (step step_) on the flat elements [lo, hi) of bucket b: one adamw_update per piece
  // of a parameter that falls in the range (its own decay), padding skipped. p, g, m, v point
  // at the element lo of their buffers.
  void adamw_flat_range(size_t b, int64_t lo, int64_t hi, float* p, const float* g, float* m,
                        float* v) const;
  // Stages 0-2: zeroes the gradients before a step (ZeRO-2: allocates the flat gradient buffer
  // first and points grads_ into it); release_grads frees it again under ZeRO-2.
  void attach_grads();
  void release_grads();
  // Points the tensors of bucket b's parameters in `target` (params_ or grads_) at their
  // ranges of `full` (bucket b's padded buffer), or makes them undefined when `full` is.
  // A tied lm_head follows wte.
  void zero3_point(GPTParams& target, size_t b, const Tensor& full) const;
  Tensor gather_alloc(int64_t n) const;  // zeros(n) charged to gather_tag(rank)
  // The tensors of `p` in canonical order (tied: lm_head not listed), as pointers to its fields.
  static std::vector<Tensor*> param_fields(GPTParams& p);

  Communicator comm_;
  GPTConfig config_;
  DPOptions options_;
  int rank_ = 0, world_ = 1;
  int64_t step_ = 0;
  std::vector<bool> trainable_;          // per canonical index
  std::vector<float> decay_;             // per canonical index: weight decay to apply
  std::vector<int64_t> numel_;           // per canonical index
  std::vector<Bucket> buckets_;
  std::vector<int64_t> offset_;          // per canonical index: flat offset, -1 frozen
  int64_t shard_numel_ = 0;              // sum of padded / N

  // Stages 0-2: params_ and grads_ are views into flat_params_ / flat_grads_ (frozen
  // parameters have their own tensors). ZeRO-2 allocates flat_grads_ during a step only.
  // ZeRO-3: params_ of trained parameters point into gathered buffers while a unit is held.
  GPTParams params_, grads_;
  Tensor flat_params_, flat_grads_;
  Tensor param_shard_, grad_shard_;      // ZeRO: this rank's chunks, in bucket order
  Tensor m_, v_;                         // stage 0: flat size; ZeRO: shard size
  GPTActs acts_;
  std::unique_ptr<CommWorker> worker_;
  std::unique_ptr<BucketReducer> reducer_;
};

}  // namespace pa3
