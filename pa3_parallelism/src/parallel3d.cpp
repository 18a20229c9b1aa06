// pa3_parallelism/src/parallel3d.cpp — PA3 Task 7: 3D parallelism (DP x TP x PP) with ZeRO-1
// on the data-parallel axis. 7.1 the two gradient syncs that happen after the pipeline flush
// (tied embedding copies, ZeRO-1 over the DP group), 7.2 the step that composes everything.
// Edit only the marked regions; the rest is given.
//
// Read pa3/parallel3d.h first: it says which communicator carries what, how this rank's
// parameters lie in its flat buffers (buckets, each padded to a multiple of DP), and what must
// equal what bit for bit. The building blocks are staff code: the grid (Task 2), the
// tensor-parallel layers inside the pipeline stage (Task 5), run_pipeline (Task 6). Use the
// runtime's reference collectives (native_*), not your Task 1 code.
#include <cstring>

#include "mlsys/error.h"
#include "mlsys/ops.h"
#include "pa3/parallel3d.h"

namespace pa3 {

// ============================================================================================
// Task 7.1 — the gradient syncs after the flush
// ============================================================================================

// Tied embeddings, PP > 1: stage 0 holds wte, stage PP-1 its copy as the LM head. Each copy's
// gradient holds only its own stage's contributions (the embedding lookups on stage 0, the LM
// head on stage PP-1); the model's gradient of the ONE tied matrix is their sum. So, on both
// stages, the gradient of local_params()[0] (a contiguous view of the flat gradients) becomes
// the sum over embed_group() — one native_all_reduce. Both copies then hold the same gradient,
// take the same AdamW step and stay bit-identical. On every other rank (and when untied or
// PP == 1) embed_group() is not valid: do nothing.
// Bytes (2 ranks): each sends the tensor once, 4 * numel.
void Parallel3D::sync_tied_gradients() {
  // TODO(student): PA3 Task 7.1 — see handouts/pa3.md#task-71
  throw mlsys::NotImplemented("PA3 Task 7.1", "pa3_parallelism/src/parallel3d.cpp", "handouts/pa3.md#task-71");
}

// ZeRO-1 on the DP group (grid_.dp(), D ranks, this rank d = its rank there). The replicas of
// one (tp, pp) position hold the same tensors in the same flat layout; each has summed its own
// rows' gradients. For every bucket b (begin, padded) with c = chunk_of(padded, D, d) and
// s = shard_offset(b):
//   1. native_reduce_scatter of the bucket's flat-gradient range [begin, begin + padded) into a
//      temporary of c.size floats: chunk d of the sum over the D replicas;
//   2. adamw_range(b, begin + c.begin, begin + c.end(), the flat parameters at begin + c.begin,
//      the temporary, m_ + s, v_ + s);
//   3. native_all_gather of the updated chunk (copy it to a temporary first: it is part of the
//      output) into the flat parameters [begin, begin + padded), so every replica has every
//      updated parameter.
// Bytes per bucket: (padded - |c_d|) + (padded - |c_{d+1}|) floats, an all-reduce's worth.
void Parallel3D::zero1_update() {
  // TODO(student): PA3 Task 7.1 — see handouts/pa3.md#task-71
  throw mlsys::NotImplemented("PA3 Task 7.1", "pa3_parallelism/src/parallel3d.cpp", "handouts/pa3.md#task-71");
}

// ============================================================================================
// Task 7.2 — one 3D step
// ============================================================================================

// Called by step() (which has set step_count() and global_rows() and times the call). Plan:
//   1. DP axis: this rank's rows are batch_shard(global_batch, d, D) with d = grid_.coord().dp,
//      D = the grid's dp size; begin_step(local) zeroes the gradients and gives them to stage().
//   2. PP axis (TP inside each stage): pipeline_ = run_pipeline(grid_.pp(), stage(), schedule_,
//      m) with m = options_.num_micro. It returns at the pipeline flush: every micro-batch went
//      forward and backward, every gradient of this rank is final.
//   3. Only now the gradient syncs, each once per step and never per micro-batch:
//      sync_tied_gradients() (embed group), then zero1_update() (DP group).
//   4. The loss, inside a pa3::CommScope named "loss" on each communicator you use: the last
//      stage's stage_loss_sum() summed over the DP group (native_all_reduce of one double on
//      grid_.dp()), then sent to every stage (native_broadcast of that double on grid_.pp()
//      from the last stage, pp rank PP-1). Return sum / (D m) as a float: every rank returns the
//      same value.
float Parallel3D::step_3d(const Batch& global_batch) {
  // TODO(student): PA3 Task 7.2 — see handouts/pa3.md#task-72
  throw mlsys::NotImplemented("PA3 Task 7.2", "pa3_parallelism/src/parallel3d.cpp", "handouts/pa3.md#task-72");
}

}  // namespace pa3
