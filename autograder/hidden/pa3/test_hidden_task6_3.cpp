// Hidden tests of PA3 Task 6.3 (executor): p = 3, uneven layer splits (written by hand), odd
// micro-batch counts, the GPT's gradients bit for bit against one process, exact stash counts.
// Schedules from pptest::reference_schedule (independent of Task 6.2).

#include "pp_test_util.h"

namespace {

namespace rec = mlsys::test;
using pa3::PipeSchedule;

const std::vector<int32_t>& tokens() {
  static const std::vector<int32_t> t = pptest::token_stream(5000, 7, 11);
  return t;
}

void expect_gpt_matches(PipeSchedule kind, int64_t L, int p, int m, int64_t rows_per_micro,
                        const std::vector<pa3::LayerRange>& layers) {
  const pa3::GPTConfig c = pptest::tiny_config(L);
  const pa3::GPTParams params = pa3::gpt_init(c, 2024);
  const int64_t B = rows_per_micro * m, T = 6;
  const pa3::Batch batch = pa3::global_batch(tokens(), 1, 9, B, T);
  const pptest::Reference ref = pptest::reference_grads(c, params, batch, m);
  const pptest::GPTRun run = pptest::run_gpt_pipeline(
      c, params, batch, p, m, layers,
      [=](int s) { return pptest::reference_schedule(kind, p, s, m); });
  const std::vector<int64_t> bad = pptest::gradient_mismatches(c, run, ref, layers);
  const std::string what = std::string(pa3::schedule_name(kind)) + " p=" + std::to_string(p) +
                           " m=" + std::to_string(m);
  EXPECT_EQ(bad, std::vector<int64_t>(p, 0)) << what;
  EXPECT_EQ(std::memcmp(&run.loss, &ref.loss, sizeof(float)), 0) << what;
  std::vector<int64_t> peaks;
  for (int s = 0; s < p; ++s) {
    peaks.push_back(run.results[s].peak_stashed);
    const int64_t expect = kind == PipeSchedule::GPipe ? m : std::min(p - s, m);
    EXPECT_EQ(run.results[s].peak_stashed, expect) << what << " stage " << s;
    EXPECT_EQ(run.results[s].timeline.size(), static_cast<size_t>(2 * m)) << what;
  }
  rec::record_exact(what + " mismatches", bad);
  rec::record_exact(what + " peaks", peaks);
  rec::record_value(what + " loss", run.loss, 0, 0);
}

TEST(HiddenTask6_3_GPT, ThreeStagesUnevenSplit1F1BOddMicroBatches) {
  // 5 layers over 3 stages: 2 2 1
  expect_gpt_matches(PipeSchedule::OneFOneB, 5, 3, 5, 1, {{0, 2}, {2, 4}, {4, 5}});
}

TEST(HiddenTask6_3_GPT, ThreeStagesUnevenSplitGPipeThreeMicroBatches) {
  // 4 layers over 3 stages: 2 1 1
  expect_gpt_matches(PipeSchedule::GPipe, 4, 3, 3, 2, {{0, 2}, {2, 3}, {3, 4}});
}

TEST(HiddenTask6_3_GPT, FourStagesUneven1F1BSevenMicroBatches) {
  // 6 layers over 4 stages: 2 2 1 1
  expect_gpt_matches(PipeSchedule::OneFOneB, 6, 4, 7, 1, {{0, 2}, {2, 4}, {4, 5}, {5, 6}});
}

TEST(HiddenTask6_3_GPT, ThreeStagesOneMicroBatch) {
  expect_gpt_matches(PipeSchedule::OneFOneB, 3, 3, 1, 3, {{0, 1}, {1, 2}, {2, 3}});
}

TEST(HiddenTask6_3_Executor, OneStageRunsWithoutMessages) {
  std::vector<int64_t> sent(1), peak(1);
  pa3::run_ranks(1, [&](pa3::Communicator& comm) {
    pptest::EchoStage stage(0, 1, 2);
    const auto r = pa3::run_pipeline(comm, stage, pptest::reference_schedule(
                                                      PipeSchedule::OneFOneB, 1, 0, 3), 3);
    sent[0] = static_cast<int64_t>(comm.stats().sent.messages);
    peak[0] = r.peak_stashed;
  });
  EXPECT_EQ(sent[0], 0);
  EXPECT_EQ(peak[0], 1);
  rec::record_exact("messages", sent);
  rec::record_exact("peak", peak);
}

// Both schedules in one interleaving that is consistent across stages but not one of the two:
// stage 0 GPipe-like, stage 1 1F1B-like at p = 2 (any valid order must run without deadlock).
TEST(HiddenTask6_3_Executor, MixedValidSchedulesDoNotDeadlock) {
  std::vector<std::string> errors;
  std::mutex mu;
  const int m = 4;
  pa3::run_ranks(2, [&](pa3::Communicator& comm) {
    pptest::EchoStage stage(comm.rank(), 2, 3);
    const std::string text = comm.rank() == 0 ? "F0 F1 F2 F3 B0 B1 B2 B3"
                                              : "F0 B0 F1 B1 F2 B2 F3 B3";
    pa3::run_pipeline(comm, stage, pa3::parse_schedule(text), m);
    std::lock_guard<std::mutex> lock(mu);
    errors.insert(errors.end(), stage.errors.begin(), stage.errors.end());
  });
  for (const std::string& e : errors) ADD_FAILURE() << e;
  rec::record_exact("errors", static_cast<int64_t>(errors.size()));
}

}  // namespace
