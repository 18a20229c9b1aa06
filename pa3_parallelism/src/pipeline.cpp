// pa3_parallelism/src/pipeline.cpp — PA3 Task 6 (pipeline parallelism): 6.1 the layer
// partition, 6.2 the GPipe and 1F1B schedules as data, 6.3 the executor that runs a schedule and
// moves activations and gradients between neighbouring stages. Edit only the marked regions;
// the rest is given.
//
// Read pa3/pipeline.h first: it defines the schedules, the PipelineStage a schedule drives, and
// the StageRecorder through which every forward and backward must run (it keeps the timeline
// and counts the stashed micro-batches that the tests check).
#include <algorithm>
#include <string>

#include "mlsys/error.h"
#include "mlsys/tensor.h"
#include "pa3/pipeline.h"

namespace pa3 {

namespace {
[[noreturn]] void fail(const char* op, const std::string& arg, const std::string& what) {
  throw mlsys::Error(std::string(op) + ": argument '" + arg + "': " + what);
}

// The checks every schedule function starts with.
void check_schedule_args(const char* op, int num_stages, int stage, int num_micro) {
  if (num_stages < 1) fail(op, "num_stages", "expected >= 1, got " + std::to_string(num_stages));
  if (stage < 0 || stage >= num_stages) {
    fail(op, "stage", "expected a stage in [0, " + std::to_string(num_stages) + "), got " +
                          std::to_string(stage));
  }
  if (num_micro < 1) fail(op, "num_micro", "expected >= 1, got " + std::to_string(num_micro));
}
}  // namespace

// ============================================================================================
// Task 6.1 — layer partition
// ============================================================================================

// Stage `stage`'s layers [begin, end): n_layer / num_stages layers each, plus one for each of
// the first n_layer % num_stages stages; the ranges follow each other in stage order.
// Example: 7 layers, 3 stages -> sizes 3, 2, 2 -> [0,3) [3,5) [5,7).
LayerRange stage_layers(int64_t n_layer, int num_stages, int stage) {
  const char* op = "stage_layers";
  if (num_stages < 1) fail(op, "num_stages", "expected >= 1, got " + std::to_string(num_stages));
  if (stage < 0 || stage >= num_stages) {
    fail(op, "stage", "expected a stage in [0, " + std::to_string(num_stages) + "), got " +
                          std::to_string(stage));
  }
  if (n_layer < num_stages) {
    fail(op, "n_layer", "expected at least one layer per stage (>= " +
                            std::to_string(num_stages) + "), got " + std::to_string(n_layer));
  }
  LayerRange range;
  // TODO(student): PA3 Task 6.1 — see handouts/pa3.md#task-61
  throw mlsys::NotImplemented("PA3 Task 6.1", "pa3_parallelism/src/pipeline.cpp", "handouts/pa3.md#task-61");
  return range;
}

// ============================================================================================
// Task 6.2 — schedules as data
// ============================================================================================

// GPipe: every forward, then every backward, both in micro-batch order. Stage-independent.
std::vector<PipeStep> gpipe_schedule(int num_stages, int stage, int num_micro) {
  check_schedule_args("gpipe_schedule", num_stages, stage, num_micro);
  std::vector<PipeStep> steps;
  // TODO(student): PA3 Task 6.2 — see handouts/pa3.md#task-62
  throw mlsys::NotImplemented("PA3 Task 6.2", "pa3_parallelism/src/pipeline.cpp", "handouts/pa3.md#task-62");
  return steps;
}

// 1F1B (PipeDream-Flush). Stage s first runs w = min(p - s - 1, m) forwards (warm-up: enough
// to keep the stages after it busy), then alternates one forward and one backward while
// forwards remain (steady state), then runs the remaining backwards (cool-down). The last stage
// has no warm-up: it runs each micro-batch's backward right after its forward. Plan:
//   1. w = min(p - stage - 1, m);  append F0 .. F(w-1);
//   2. for k = 0 .. m - w - 1: append F(w + k), then B(k);
//   3. append B(m - w) .. B(m - 1).
std::vector<PipeStep> one_f_one_b_schedule(int num_stages, int stage, int num_micro) {
  check_schedule_args("one_f_one_b_schedule", num_stages, stage, num_micro);
  std::vector<PipeStep> steps;
  // TODO(student): PA3 Task 6.2 — see handouts/pa3.md#task-62
  throw mlsys::NotImplemented("PA3 Task 6.2", "pa3_parallelism/src/pipeline.cpp", "handouts/pa3.md#task-62");
  return steps;
}

// ============================================================================================
// Task 6.3 — the executor
// ============================================================================================

// Runs `schedule` on this stage (s = pp.rank() of p = pp.size()). For each step, in order:
//   F i: input  = (s > 0)     a new tensor of stage.input_shape(), received from s-1
//                             (kPipeActivationTag); undefined on stage 0
//        output = (s < p-1)   a new tensor of stage.output_shape(); undefined on the last stage
//        recorder.forward(i, input, output); then send output to s+1 (kPipeActivationTag)
//   B i: grad_output = (s < p-1)  a new tensor of stage.output_shape(), received from s+1
//                                 (kPipeGradientTag); undefined on the last stage
//        grad_input  = (s > 0)    mlsys::zeros(stage.input_shape()); undefined on stage 0
//        recorder.backward(i, grad_output, grad_input); then send grad_input to s-1
//        (kPipeGradientTag)
// Deadlock: a blocking send (Communicator::send) waits until the receiver posts its receive.
// Under 1F1B, stage s may send F(i)'s output to s+1 at the moment s+1 sends B(j)'s gradient
// back to s: two blocking sends facing each other never complete. Choose the communication
// calls so that a stage only ever waits for a message its neighbour sends in an EARLIER step
// of its own schedule (Communicator has non-blocking isend/irecv returning a Request; a
// tensor stays alive while its Request does). Return only when every send has completed.
// Messages between two ranks with one tag arrive in the order they were sent, and both
// schedules run forwards (and backwards) in micro-batch order, so no micro-batch index needs
// to travel with the data.
PipelineResult run_pipeline(Communicator& pp, PipelineStage& stage,
                            const std::vector<PipeStep>& schedule, int num_micro) {
  if (num_micro < 1) {
    fail("run_pipeline", "num_micro", "expected >= 1, got " + std::to_string(num_micro));
  }
  const int s = pp.rank(), p = pp.size();
  StageRecorder recorder(stage, s, p, num_micro);
  // TODO(student): PA3 Task 6.3 — see handouts/pa3.md#task-63
  throw mlsys::NotImplemented("PA3 Task 6.3", "pa3_parallelism/src/pipeline.cpp", "handouts/pa3.md#task-63");
  return recorder.finish();
}

}  // namespace pa3
