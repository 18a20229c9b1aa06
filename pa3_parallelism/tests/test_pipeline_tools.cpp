// Given code of PA3 Task 6: the timeline tools (Chrome trace JSON, bubble formula, ASCII
// picture) and the schedule text format, on hand-made timelines. Runs without any student code.

#include <fstream>

#include <nlohmann/json.hpp>

#include "pp_test_util.h"

namespace {

using pa3::PipeOp;
using pa3::TimelineEvent;
using mlsys::Tensor;

// A hand-made GPipe timeline, p = 2, m = 2, forward 1 ms, backward 2 ms, free communication:
//   stage 0: F0 [0,1)  F1 [1,2)                    B0 [6,8)  B1 [8,10)
//   stage 1:           F0 [1,2)  F1 [2,3)  B0 [3,5)  B1 [5,7)
// (times in ms). busy = 2 * (2 * 1 + 2 * 2) = 12 ms, span 10 ms: bubble = 1 - 12/20 = 0.4,
// while (p-1)/(m+p-1) = 1/3 holds for the ideal (stage 0 would start B0 at 5): this timeline
// has a 1 ms gap, on purpose, so the formula in bubble_fraction is what is tested.
std::vector<TimelineEvent> sample() {
  const double ms = 1000.0, t0 = 5e9;  // steady_clock microseconds, far from 0
  return {{0, PipeOp::F, 0, t0 + 0 * ms, t0 + 1 * ms}, {0, PipeOp::F, 1, t0 + 1 * ms, t0 + 2 * ms},
          {0, PipeOp::B, 0, t0 + 6 * ms, t0 + 8 * ms}, {0, PipeOp::B, 1, t0 + 8 * ms, t0 + 10 * ms},
          {1, PipeOp::F, 0, t0 + 1 * ms, t0 + 2 * ms}, {1, PipeOp::F, 1, t0 + 2 * ms, t0 + 3 * ms},
          {1, PipeOp::B, 0, t0 + 3 * ms, t0 + 5 * ms}, {1, PipeOp::B, 1, t0 + 5 * ms, t0 + 7 * ms}};
}

TEST(PipelineTools, BubbleFractionIsOneMinusBusyOverPTimesSpan) {
  EXPECT_NEAR(pa3::bubble_fraction(sample(), 2), 0.4, 1e-12);
  // the ideal timeline of p stages, m micro-batches, unit ops: (p-1)/(m+p-1)
  for (int p : {2, 3, 4}) {
    for (int m : {1, 3, 8}) {
      std::vector<TimelineEvent> ideal;
      for (int s = 0; s < p; ++s) {
        for (int i = 0; i < m; ++i) {
          ideal.push_back({s, PipeOp::F, i, double(s + i), double(s + i + 1)});
          ideal.push_back({s, PipeOp::B, i, double(m + p - 1 + (p - 1 - s) + i),
                           double(m + p - 1 + (p - 1 - s) + i + 1)});
        }
      }
      EXPECT_NEAR(pa3::bubble_fraction(ideal, p), double(p - 1) / (m + p - 1), 1e-12)
          << "p=" << p << " m=" << m;
    }
  }
  EXPECT_THROW(pa3::bubble_fraction({}, 2), mlsys::Error);
}

TEST(PipelineTools, ChromeTraceIsValidJsonWithCompleteEvents) {
  const nlohmann::json trace = nlohmann::json::parse(pa3::chrome_trace_json(sample()));
  ASSERT_TRUE(trace.contains("traceEvents"));
  ASSERT_TRUE(trace["traceEvents"].is_array());
  int complete = 0, metadata = 0;
  for (const nlohmann::json& e : trace["traceEvents"]) {
    if (e["ph"] == "M") {
      ++metadata;
      EXPECT_EQ(e["name"], "process_name");
      EXPECT_EQ(e["args"]["name"], "stage " + std::to_string(e["pid"].get<int>()));
      continue;
    }
    ASSERT_EQ(e["ph"], "X");
    const std::string name = e["name"];
    const int stage = e["pid"], micro = e["args"]["micro"];
    const double ts = e["ts"], dur = e["dur"];
    // find the event it came from (ts relative to the earliest start, microseconds)
    bool found = false;
    for (const TimelineEvent& t : sample()) {
      const std::string n = std::string(1, static_cast<char>(t.op)) + std::to_string(t.micro);
      if (t.stage == stage && n == name && t.micro == micro) {
        found = true;
        EXPECT_NEAR(ts, t.start_us - 5e9, 1e-3) << name;
        EXPECT_NEAR(dur, t.end_us - t.start_us, 1e-3) << name;
        EXPECT_EQ(e["cat"], t.op == PipeOp::F ? "forward" : "backward");
        EXPECT_EQ(e["tid"], 0);
      }
    }
    EXPECT_TRUE(found) << e.dump();
    ++complete;
  }
  EXPECT_EQ(complete, 8);
  EXPECT_EQ(metadata, 2);
}

TEST(PipelineTools, WriteChromeTraceWritesTheFile) {
  const std::string path = ::testing::TempDir() + "pa3_pipeline_trace_test.json";
  pa3::write_chrome_trace(path, sample());
  std::ifstream in(path);
  const nlohmann::json trace = nlohmann::json::parse(in);
  EXPECT_EQ(trace["traceEvents"].size(), 10u);
  EXPECT_THROW(pa3::write_chrome_trace("/nonexistent-dir/x/trace.json", sample()), mlsys::Error);
}

TEST(PipelineTools, AsciiTimelineDrawsEachOperation) {
  // 10 columns over 10 ms: one column per ms
  EXPECT_EQ(pa3::ascii_timeline(sample(), 2, 10),
            "stage 0 |01....aabb|\n"
            "stage 1 |.01aabb...|\n");
}

TEST(PipelineTools, ScheduleTextRoundTrips) {
  const std::vector<pa3::PipeStep> s = pa3::parse_schedule("F0 F1 B0 F12 B1 B12");
  ASSERT_EQ(s.size(), 6u);
  EXPECT_EQ(s[3], (pa3::PipeStep{PipeOp::F, 12}));
  EXPECT_EQ(pa3::schedule_to_string(s), "F0 F1 B0 F12 B1 B12");
  EXPECT_THROW(pa3::parse_schedule("F0 X1"), mlsys::Error);
  EXPECT_THROW(pa3::parse_schedule("F"), mlsys::Error);
  EXPECT_EQ(pa3::parse_schedule_name("1f1b"), pa3::PipeSchedule::OneFOneB);
  EXPECT_THROW(pa3::parse_schedule_name("zigzag"), mlsys::Error);
}

TEST(PipelineTools, GatherTimelineCollectsEveryStageInOrder) {
  std::vector<TimelineEvent> got;
  pa3::run_ranks(3, [&](pa3::Communicator& comm) {
    std::vector<TimelineEvent> mine;
    for (int i = 0; i <= comm.rank(); ++i) {  // different counts per rank
      mine.push_back({comm.rank(), i % 2 ? PipeOp::B : PipeOp::F, i, 1e9 + i, 1e9 + i + 0.5});
    }
    std::vector<TimelineEvent> all = pa3::gather_timeline(comm, mine);
    if (comm.rank() == 2) got = all;
  });
  ASSERT_EQ(got.size(), 6u);
  const int stages[] = {0, 1, 1, 2, 2, 2}, micros[] = {0, 0, 1, 0, 1, 2};
  for (int k = 0; k < 6; ++k) {
    EXPECT_EQ(got[k].stage, stages[k]);
    EXPECT_EQ(got[k].micro, micros[k]);
    EXPECT_EQ(got[k].op, micros[k] % 2 ? PipeOp::B : PipeOp::F);
    EXPECT_EQ(got[k].start_us, 1e9 + micros[k]);
  }
}

TEST(PipelineTools, RecorderRejectsABackwardBeforeItsForward) {
  pptest::EchoStage stage(0, 1, 2);
  pa3::StageRecorder rec(stage, 0, 1, 2);
  EXPECT_THROW(rec.backward(0, Tensor(), Tensor()), mlsys::Error);
  rec.forward(0, Tensor(), Tensor());
  EXPECT_THROW(rec.forward(0, Tensor(), Tensor()), mlsys::Error);
  EXPECT_THROW(rec.forward(2, Tensor(), Tensor()), mlsys::Error);
  EXPECT_EQ(rec.stashed(), 1);
  EXPECT_THROW(rec.finish(), mlsys::Error);
}

// GPTStage alone (one stage owns everything, no messages): the gradients of m micro-batches run
// through the recorder equal one process's gradient accumulation bit for bit, and each
// micro-batch's activations are released by its backward.
TEST(PipelineTools, GPTStageOnOneStageEqualsGradientAccumulation) {
  const pa3::GPTConfig c = pptest::tiny_config(2);
  const pa3::GPTParams params = pa3::gpt_init(c, 5);
  const std::vector<int32_t> tokens = pptest::token_stream(2000, 7);
  const int m = 3;
  const pa3::Batch batch = pa3::global_batch(tokens, 0, 1, 6, 5);
  const pptest::Reference ref = pptest::reference_grads(c, params, batch, m);
  pa3::GPTParams g = pa3::gpt_zeros_like(params);
  pa3::GPTStage stage(c, params, g, 0, 1, {0, 2});
  stage.set_batch(batch, m);
  pa3::StageRecorder recorder(stage, 0, 1, m);
  for (int i = 0; i < m; ++i) recorder.forward(i, Tensor(), Tensor());
  EXPECT_EQ(stage.held_micro_batches(), m);
  for (int i = 0; i < m; ++i) recorder.backward(i, Tensor(), Tensor());
  EXPECT_EQ(stage.held_micro_batches(), 0);
  EXPECT_EQ(recorder.finish().peak_stashed, m);
  const std::vector<pa3::NamedTensor> list = g.list();
  int64_t bad = 0;
  for (size_t i = 0; i < list.size(); ++i) {
    bad += pptest::bit_mismatches(pptest::values(list[i].tensor), ref.grads[i]);
  }
  EXPECT_EQ(bad, 0);
  const float loss = stage.loss();
  EXPECT_EQ(std::memcmp(&loss, &ref.loss, sizeof(float)), 0) << loss << " vs " << ref.loss;
  // tied embeddings cannot be split across stages
  pa3::GPTConfig tied = c;
  tied.tie_embeddings = true;
  const pa3::GPTParams tp = pa3::gpt_init(tied, 5);
  EXPECT_THROW(pa3::GPTStage(tied, tp, pa3::gpt_zeros_like(tp), 0, 2, {0, 1}), mlsys::Error);
}

}  // namespace
