// pa3_parallelism/src/zero.cpp — PA3 Task 4 (ZeRO, Rajbhandari et al., SC 2020): 4.1 ZeRO-1
// and ZeRO-2 (optimizer state and gradients sharded), 4.2 ZeRO-3 (parameters sharded too,
// gathered one layer at a time). Edit only the marked regions; the rest is given.
//
// Read pa3/data_parallel.h first. Sharding: every bucket spans `padded` elements (a multiple of
// N); rank r owns chunk_of(padded, N, r) of every bucket. Its shard buffers (param_shard_,
// grad_shard_, m_, v_ under ZeRO) hold those chunks back to back in bucket order: bucket b's
// chunk starts at bucket_shard_offset(buckets_, world_, b). The flat buffers (flat_params_,
// flat_grads_) hold bucket b at [begin, begin + padded).
//
// Use the reference collectives (comm_.native_reduce_scatter, native_all_gather): this task is
// graded with them. They must not be given overlapping input and output buffers (MPI forbids
// it): when the output is part of the input, go through a temporary.
#include <cstring>

#include "mlsys/error.h"
#include "mlsys/ops.h"
#include "pa3/data_parallel.h"

namespace pa3 {

// ============================================================================================
// Task 4.1 — ZeRO-1 and ZeRO-2
// ============================================================================================

// Called by the bucket reducer (on the worker thread) once bucket b's gradients are final.
// Reduce-scatter [begin, begin + padded) of flat_grads_: rank r receives chunk r of the sum.
//   ZeRO-1: into a temporary of the chunk's size, then copied over chunk r of the bucket in
//           flat_grads_ (the optimizer reads it there).
//   ZeRO-2: straight into grad_shard_ at bucket_shard_offset(b).
// Bytes: a reduce-scatter sends (N-1)/N of the bucket, half of what the all-reduce sends.
void DataParallel::zero_reduce_bucket(size_t b) {
  // TODO(student): PA3 Task 4.1 — see handouts/pa3.md#task-41
  throw mlsys::NotImplemented("PA3 Task 4.1", "pa3_parallelism/src/zero.cpp", "handouts/pa3.md#task-41");
}

// After every bucket was reduced: AdamW on this rank's chunks only, then every rank gets every
// updated parameter back. For each bucket b, with c = chunk_of(padded, N, r) and
// s = bucket_shard_offset(b):
//   1. adamw_flat_range(b, begin + c.begin, begin + c.end(), params at flat_params_ + begin +
//      c.begin, gradients (ZeRO-1: flat_grads_ + begin + c.begin; ZeRO-2: grad_shard_ + s),
//      m_ + s, v_ + s);
//   2. native_all_gather of the updated chunk (copied to a temporary first: it is part of the
//      output) into flat_params_ [begin, begin + padded).
// Bytes: the all-gather sends (N-1)/N of the bucket: reduce-scatter + all-gather = all-reduce.
void DataParallel::zero_update_and_gather() {
  // TODO(student): PA3 Task 4.1 — see handouts/pa3.md#task-41
  throw mlsys::NotImplemented("PA3 Task 4.1", "pa3_parallelism/src/zero.cpp", "handouts/pa3.md#task-41");
}

// ============================================================================================
// Task 4.2 — ZeRO-3
// ============================================================================================

// Bucket b's full parameters: a buffer of `padded` elements from gather_alloc (so that its
// memory is charged to gather_tag), filled by native_all_gather from this rank's chunk of
// param_shard_ (at bucket_shard_offset(b)).
Tensor DataParallel::zero3_gather(size_t b) {
  // TODO(student): PA3 Task 4.2 — see handouts/pa3.md#task-42
  throw mlsys::NotImplemented("PA3 Task 4.2", "pa3_parallelism/src/zero.cpp", "handouts/pa3.md#task-42");
}

// Reduce-scatters bucket b's full gradient buffer: chunk r of the sum into grad_shard_ at
// bucket_shard_offset(b).
void DataParallel::zero3_reduce(size_t b, const Tensor& full_grad) {
  // TODO(student): PA3 Task 4.2 — see handouts/pa3.md#task-42
  throw mlsys::NotImplemented("PA3 Task 4.2", "pa3_parallelism/src/zero.cpp", "handouts/pa3.md#task-42");
}

// One ZeRO-3 step on this rank's rows `local`. Buckets are layer units (make_layer_buckets):
// the head, blocks L-1 .. 0, the embedding; a unit whose parameters are all frozen has none.
// Only the shards persist between steps; a unit's full parameters exist while it computes.
// Plan (for each micro-batch k of m, dloss = 1.0f / (B T) with the global B):
//   forward, unit by unit: gather (zero3_gather), point params_ at it (zero3_point), run the
//     layer (embedding_forward / block_forward / head_forward into acts_, allocated with
//     gpt_acts_alloc for the micro-batch's shape), then release it: zero3_point(params_, b,
//     Tensor()) and drop the buffer. Tied embeddings: the head also needs wte, so gather the
//     embedding unit again for it.
//   backward, unit by unit in reverse (head, blocks L-1 .. 0, embedding): gather the unit's
//     parameters again; its gradient buffer (gather_alloc, padded elements) is allocated at
//     the unit's first backward of the step and kept over the micro-batches (grads_ points at
//     it); run the layer's backward; on the LAST micro-batch reduce-scatter it (zero3_reduce)
//     and release the gradient buffer. Tied: the embedding's gradient buffer exists from the
//     head's backward to the embedding's (both add into wte's gradient).
//   after the last micro-batch: AdamW on the shard (adamw_flat_range per bucket over this
//   rank's chunk: param_shard_, grad_shard_, m_, v_ at bucket_shard_offset(b)); the loss as in
//   Task 3.3 (CommScope "loss").
// Frozen parameters are not sharded: params_/grads_ hold them all the time (zero their
// gradients at the start of the step). Traffic per micro-batch, untied: every unit gathered
// twice and reduce-scattered once = 1.5x the all-reduce of plain DP.
float DataParallel::zero3_step(const Batch& local) {
  // TODO(student): PA3 Task 4.2 — see handouts/pa3.md#task-42
  throw mlsys::NotImplemented("PA3 Task 4.2", "pa3_parallelism/src/zero.cpp", "handouts/pa3.md#task-42");
}

}  // namespace pa3
