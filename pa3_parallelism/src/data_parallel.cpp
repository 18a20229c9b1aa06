// pa3_parallelism/src/data_parallel.cpp — PA3 Task 3 (data parallelism): 3.1 replicas and the
// gradient all-reduce, 3.2 gradient buckets reduced during the backward pass, 3.3 the training
// step with gradient accumulation. Edit only the marked regions; the rest is given.
//
// Read pa3/data_parallel.h first: it defines the buckets, the flat buffers, the loss scale and
// what must equal what bit for bit. Use the reference collectives of the Communicator
// (comm.native_broadcast, native_all_reduce, ...): this task is graded with them, not with
// your ring collectives of Task 1.
#include <algorithm>

#include "mlsys/error.h"
#include "mlsys/ops.h"
#include "pa3/data_parallel.h"

namespace pa3 {

namespace {
[[noreturn]] void fail(const char* op, const std::string& arg, const std::string& what) {
  throw mlsys::Error(std::string(op) + ": argument '" + arg + "': " + what);
}
}  // namespace

// ============================================================================================
// Task 3.1 — replicas and the plain gradient all-reduce
// ============================================================================================

// Every rank's parameters become a copy of root's: one native_broadcast per tensor, in list
// order (every rank walks the same list, so the collectives match). Tensors are contiguous.
void broadcast_params(const Communicator& comm, const std::vector<NamedTensor>& params,
                      int root) {
  if (root < 0 || root >= comm.size()) {
    fail("broadcast_params", "root", "expected a rank in [0, " + std::to_string(comm.size()) +
                                         "), got " + std::to_string(root));
  }
  // TODO(student): PA3 Task 3.1 — see handouts/pa3.md#task-31
  throw mlsys::NotImplemented("PA3 Task 3.1", "pa3_parallelism/src/data_parallel.cpp", "handouts/pa3.md#task-31");
}

// Each trainable gradient becomes the elementwise SUM over ranks (no division: the 1/N is
// already in every rank's dloss = 1 / (B T) with the global B). One native_all_reduce per
// tensor, in list order; skip the tensors with trainable[i] == false.
void all_reduce_gradients(const Communicator& comm, const std::vector<NamedTensor>& grads,
                          const std::vector<bool>& trainable) {
  if (trainable.size() != grads.size()) {
    fail("all_reduce_gradients", "trainable", "expected " + std::to_string(grads.size()) +
                                                  " flags (one per gradient), got " +
                                                  std::to_string(trainable.size()));
  }
  // TODO(student): PA3 Task 3.1 — see handouts/pa3.md#task-31
  throw mlsys::NotImplemented("PA3 Task 3.1", "pa3_parallelism/src/data_parallel.cpp", "handouts/pa3.md#task-31");
}

// ============================================================================================
// Task 3.2 — gradient buckets
// ============================================================================================

// The buckets of pa3/data_parallel.h. Plan:
//   1. walk i = params.size()-1 down to 0, skipping !trainable[i];
//   2. bytes = 4 * numel of parameter i; if the open bucket is not empty and its parameter
//      bytes + bytes > cap_bytes, close it (a new bucket starts right after its padded end);
//   3. append i to the open bucket; numel += its numel; padded = numel rounded up to a
//      multiple of world.
// Example: caps of 4 * (numel of the largest parameter) or more put small neighbours
// together; a cap of 1 byte gives one bucket per trainable parameter.
std::vector<Bucket> make_buckets(const std::vector<NamedTensor>& params,
                                 const std::vector<bool>& trainable, int64_t cap_bytes,
                                 int world) {
  const char* op = "make_buckets";
  if (cap_bytes <= 0) fail(op, "cap_bytes", "expected > 0, got " + std::to_string(cap_bytes));
  if (world < 1) fail(op, "world", "expected >= 1, got " + std::to_string(world));
  if (trainable.size() != params.size()) {
    fail(op, "trainable", "expected " + std::to_string(params.size()) + " flags, got " +
                              std::to_string(trainable.size()));
  }
  std::vector<Bucket> buckets;
  // TODO(student): PA3 Task 3.2 — see handouts/pa3.md#task-32
  throw mlsys::NotImplemented("PA3 Task 3.2", "pa3_parallelism/src/data_parallel.cpp", "handouts/pa3.md#task-32");
  return buckets;
}

BucketReducer::BucketReducer(std::vector<Bucket> buckets, int64_t num_params,
                             std::function<void(size_t)> reduce, CommWorker* worker)
    : buckets_(std::move(buckets)), reduce_(std::move(reduce)), worker_(worker) {
  bucket_of_.assign(static_cast<size_t>(num_params), -1);
  for (size_t b = 0; b < buckets_.size(); ++b) {
    for (int i : buckets_[b].params) {
      if (i < 0 || i >= num_params || bucket_of_[i] != -1) {
        fail("BucketReducer", "buckets", "parameter " + std::to_string(i) +
                                             " is out of range or in two buckets");
      }
      bucket_of_[i] = static_cast<int>(b);
    }
  }
  reset();
}

void BucketReducer::reset() {
  pending_.clear();
  for (const Bucket& b : buckets_) pending_.push_back(static_cast<int64_t>(b.params.size()));
  inflight_.clear();
  launched_ = 0;
}

// Parameter `param`'s gradient is final. Parameters in no bucket (frozen) are ignored.
// Launch rule: bucket b is launched when all its gradients are final AND every bucket before
// it was launched — so every rank launches the buckets in the same order 0, 1, 2, ... even if
// its gradients became final in another order. Launch = reduce_(b) submitted to the worker
// (keep the AsyncWork to wait on it), or called right here when worker_ is nullptr.
// Capture what the work needs by value (the function, b), not `this`.
void BucketReducer::grad_ready(int param) {
  if (param < 0 || param >= static_cast<int>(bucket_of_.size())) {
    fail("BucketReducer::grad_ready", "param", "expected an index in [0, " +
                                                   std::to_string(bucket_of_.size()) + "), got " +
                                                   std::to_string(param));
  }
  const int b = bucket_of_[param];
  if (b < 0) return;
  if (pending_[b] <= 0) {
    fail("BucketReducer::grad_ready", "param", "parameter " + std::to_string(param) +
                                                   " was reported ready twice in one backward");
  }
  // TODO(student): PA3 Task 3.2 — see handouts/pa3.md#task-32
  throw mlsys::NotImplemented("PA3 Task 3.2", "pa3_parallelism/src/data_parallel.cpp", "handouts/pa3.md#task-32");
}

// Waits for every launched reduction (all of them, even when one failed, then rethrows the
// first failure). Then checks that every bucket was launched: a bucket never launched means a
// gradient was never reported, and the step would use unreduced gradients.
void BucketReducer::wait() {
  // TODO(student): PA3 Task 3.2 — see handouts/pa3.md#task-32
  throw mlsys::NotImplemented("PA3 Task 3.2", "pa3_parallelism/src/data_parallel.cpp", "handouts/pa3.md#task-32");
  if (launched_ != static_cast<int64_t>(buckets_.size())) {
    fail("BucketReducer::wait", "this", "expected all " + std::to_string(buckets_.size()) +
                                            " buckets launched, got " + std::to_string(launched_) +
                                            " (a trained parameter was never reported ready)");
  }
}

// ============================================================================================
// Task 3.3 — one training step (stages 0, 1, 2)
// ============================================================================================

// One step on this rank's rows `local` ([B/N, T]). Plan:
//   1. attach_grads() (zeroes the gradients); dloss = 1.0f / (B T) with the GLOBAL B = N * rows;
//   2. for each micro-batch k of m (batch_shard(local, k, m)): gpt_forward into acts_ (add its
//      mean loss to a double sum); then the backward pass layer by layer, as gpt_backward does
//      (pa3/gpt.h): head_backward, block_backward for l = L-1 .. 0, embedding_backward, each
//      into grads_ with a fresh zero dx/dinp. On the LAST micro-batch only (accumulating
//      micro-batches do not communicate): reducer_->reset() before it and, after each layer,
//      reducer_->grad_ready(i) for each parameter that layer finished:
//        head  -> lm_head (4 + 12L, untied only), ln_f.weight (2 + 12L), ln_f.bias (3 + 12L)
//        block l -> 2 + 12 l + j, j = 0..11
//        embedding -> wpe (1), wte (0)   (tied: wte's gradient is final only here)
//   3. reducer_->wait();
//   4. stage 0: update_replicated(); stages 1, 2: zero_update_and_gather(); then
//      release_grads();
//   5. the loss: all-reduce the double sum of micro-batch losses (native_all_reduce on one
//      double) inside a pa3::CommScope named "loss", and return sum / (N m) as a float.
float DataParallel::step_replicated(const Batch& local) {
  // TODO(student): PA3 Task 3.3 — see handouts/pa3.md#task-33
  throw mlsys::NotImplemented("PA3 Task 3.3", "pa3_parallelism/src/data_parallel.cpp", "handouts/pa3.md#task-33");
}

// AdamW over the whole flat buffers: for each bucket b, adamw_flat_range over
// [begin, begin + padded) with pointers to element begin of flat_params_, flat_grads_, m_, v_.
void DataParallel::update_replicated() {
  // TODO(student): PA3 Task 3.3 — see handouts/pa3.md#task-33
  throw mlsys::NotImplemented("PA3 Task 3.3", "pa3_parallelism/src/data_parallel.cpp", "handouts/pa3.md#task-33");
}

}  // namespace pa3
