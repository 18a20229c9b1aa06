// pa1/executor.h — runs a graph: feeds in, values of the requested nodes out.
//
//   Executor ex({loss, grad_W});                       // plans once
//   for (...) {
//     auto out = ex.run({{x, batch_x}, {y, batch_y}});  // out[0] = loss, out[1] = grad_W
//   }
//
// The constructor works out which nodes the outputs need and an order to compute them in.
// Each run then computes every needed node exactly once and nothing else, checks each feed
// against its placeholder (rank, known dims, dtype), reads Variables' current values (so an
// optimizer's in-place updates are seen by the next run), and frees each intermediate value
// as soon as its last consumer has run. Problems throw mlsys::Error naming the node: a
// missing or badly shaped feed, a cycle, an op whose inputs turn out incompatible at run time.
#pragma once

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "pa1/graph.h"

namespace pa1 {

using FeedDict = std::unordered_map<NodePtr, Tensor>;

struct RunOptions {
  int64_t step = -1;     // RunContext::step; -1: the number of earlier runs of this executor
  bool training = true;  // RunContext::training
};

class Executor {
 public:
  Executor() = default;  // runs nothing; assign a planned executor to it
  explicit Executor(std::vector<NodePtr> outputs);

  // The outputs' values, in order, contiguous. Feeds are keyed by placeholder node; feeds for
  // placeholders the outputs do not need are ignored.
  std::vector<Tensor> run(const FeedDict& feeds = {}, RunOptions options = {});

  const std::vector<NodePtr>& outputs() const { return outputs_; }
  // Every node a run touches (leaves included), in the order they are evaluated.
  const std::vector<NodePtr>& schedule() const { return schedule_; }
  int64_t runs() const { return runs_; }

 private:
  // The plan, as flat arrays indexed by schedule position k: the inputs of step k are
  // input_pos_[input_begin_[k] .. input_begin_[k + 1]); read_[e] says how read e passes its
  // value to the op: kMove for the last read of a value (the value dies with its last
  // consumer), kBorrow for other reads (moved in and moved back after the op, no copy), kCopy
  // where a step reads the same value twice (x * x) and cannot move it in for both.
  // slot_[k] is where step k's value lives during a run: a value's slot is handed to a later
  // step once its last reader has run, so a run keeps n_slots_ tensors (the most values alive
  // at once), not one per step.
  enum Read : char { kCopy, kMove, kBorrow };
  std::vector<NodePtr> outputs_;
  std::vector<NodePtr> schedule_;
  std::vector<int32_t> input_begin_, input_pos_;
  std::vector<Read> read_;
  std::vector<int32_t> output_pos_;
  std::vector<int32_t> slot_;
  int32_t n_slots_ = 0;
  int64_t runs_ = 0;
};

}  // namespace pa1
