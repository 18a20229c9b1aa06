// Given code of PA3 Task 6 (read it, do not edit it): schedules as text, the schedule
// dispatcher, and StageRecorder, the bookkeeping every forward and backward of the executor
// runs through (timeline, stash counter, validity checks).
#include <chrono>
#include <sstream>
#include <string>

#include "mlsys/error.h"
#include "pa3/pipeline.h"

namespace pa3 {

namespace {
[[noreturn]] void fail(const char* op, const std::string& arg, const std::string& what) {
  throw mlsys::Error(std::string(op) + ": argument '" + arg + "': " + what);
}

double now_us() {
  using namespace std::chrono;
  return duration_cast<nanoseconds>(steady_clock::now().time_since_epoch()).count() / 1000.0;
}

std::string step_name(PipeOp op, int micro) {
  return std::string(1, static_cast<char>(op)) + std::to_string(micro);
}
}  // namespace

// ============================================================================================
// Schedules: names, text, dispatch
// ============================================================================================

std::vector<PipeStep> make_schedule(PipeSchedule kind, int num_stages, int stage, int num_micro) {
  return kind == PipeSchedule::GPipe ? gpipe_schedule(num_stages, stage, num_micro)
                                     : one_f_one_b_schedule(num_stages, stage, num_micro);
}

const char* schedule_name(PipeSchedule kind) {
  return kind == PipeSchedule::GPipe ? "GPipe" : "1F1B";
}

PipeSchedule parse_schedule_name(const std::string& name) {
  if (name == "GPipe" || name == "gpipe") return PipeSchedule::GPipe;
  if (name == "1F1B" || name == "1f1b") return PipeSchedule::OneFOneB;
  fail("parse_schedule_name", "name", "expected GPipe or 1F1B, got '" + name + "'");
}

std::string schedule_to_string(const std::vector<PipeStep>& steps) {
  std::string out;
  for (const PipeStep& step : steps) {
    if (!out.empty()) out += ' ';
    out += step_name(step.op, step.micro);
  }
  return out;
}

std::vector<PipeStep> parse_schedule(const std::string& text) {
  std::vector<PipeStep> steps;
  std::istringstream in(text);
  std::string token;
  while (in >> token) {
    const bool op_ok = token.size() >= 2 && (token[0] == 'F' || token[0] == 'B');
    bool digits_ok = op_ok && token.size() <= 10;
    for (size_t k = 1; digits_ok && k < token.size(); ++k) {
      digits_ok = token[k] >= '0' && token[k] <= '9';
    }
    if (!digits_ok) {
      fail("parse_schedule", "text", "expected tokens like F0 or B12, got '" + token + "'");
    }
    steps.push_back({static_cast<PipeOp>(token[0]), std::stoi(token.substr(1))});
  }
  return steps;
}

// ============================================================================================
// StageRecorder
// ============================================================================================

StageRecorder::StageRecorder(PipelineStage& stage, int stage_index, int num_stages,
                             int num_micro)
    : stage_(stage), stage_index_(stage_index), num_stages_(num_stages), num_micro_(num_micro) {
  const char* op = "StageRecorder";
  if (num_stages < 1) fail(op, "num_stages", "expected >= 1, got " + std::to_string(num_stages));
  if (stage_index < 0 || stage_index >= num_stages) {
    fail(op, "stage_index", "expected a stage in [0, " + std::to_string(num_stages) +
                                "), got " + std::to_string(stage_index));
  }
  if (num_micro < 1) fail(op, "num_micro", "expected >= 1, got " + std::to_string(num_micro));
  forwarded_.assign(static_cast<size_t>(num_micro), 0);
  backwarded_.assign(static_cast<size_t>(num_micro), 0);
}

void StageRecorder::forward(int micro, const Tensor& input, const Tensor& output) {
  const std::string where = "pipeline stage " + std::to_string(stage_index_) + ": " +
                            step_name(PipeOp::F, micro) + ": ";
  if (micro < 0 || micro >= num_micro_) {
    throw mlsys::Error(where + "micro-batch out of range [0, " + std::to_string(num_micro_) +
                       ")");
  }
  if (forwarded_[micro]) throw mlsys::Error(where + "this micro-batch was already forwarded");
  const double start = now_us();
  stage_.forward(micro, input, output);
  const double end = now_us();
  forwarded_[micro] = 1;
  ++stashed_;
  result_.peak_stashed = std::max(result_.peak_stashed, stashed_);
  result_.timeline.push_back({stage_index_, PipeOp::F, micro, start, end});
}

void StageRecorder::backward(int micro, const Tensor& grad_output, const Tensor& grad_input) {
  const std::string where = "pipeline stage " + std::to_string(stage_index_) + ": " +
                            step_name(PipeOp::B, micro) + ": ";
  if (micro < 0 || micro >= num_micro_) {
    throw mlsys::Error(where + "micro-batch out of range [0, " + std::to_string(num_micro_) +
                       ")");
  }
  if (!forwarded_[micro]) throw mlsys::Error(where + "backward before the forward F" +
                                             std::to_string(micro));
  if (backwarded_[micro]) throw mlsys::Error(where + "this micro-batch was already backwarded");
  const double start = now_us();
  stage_.backward(micro, grad_output, grad_input);
  const double end = now_us();
  backwarded_[micro] = 1;
  --stashed_;
  result_.timeline.push_back({stage_index_, PipeOp::B, micro, start, end});
}

PipelineResult StageRecorder::finish() {
  for (int i = 0; i < num_micro_; ++i) {
    if (!forwarded_[i] || !backwarded_[i]) {
      throw mlsys::Error("pipeline stage " + std::to_string(stage_index_) + ": micro-batch " +
                         std::to_string(i) + " never ran its " +
                         (forwarded_[i] ? "backward" : "forward") + " (" +
                         std::to_string(num_stages_) + " stages, " + std::to_string(num_micro_) +
                         " micro-batches)");
    }
  }
  return result_;
}

}  // namespace pa3
