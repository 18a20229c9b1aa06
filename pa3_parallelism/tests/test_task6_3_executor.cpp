// PA3 Task 6.3 — the executor. Schedules come from pptest::reference_schedule (built from the
// stash bound, independent of Task 6.2) and layer ranges are written by hand (independent of
// Task 6.1). Checks: values and bytes between stages (exact), the GPT's gradients against one
// process accumulating the same micro-batches (bit for bit), the executor's stash count (exact:
// m for GPipe, min(p - s, m) for 1F1B), and the bubble of stages that sleep (a timing
// measurement, tolerance 0.05: see BubbleMatchesTheFormula).

#include "pp_test_util.h"

namespace {

namespace rec = mlsys::test;
using pa3::PipeSchedule;

using pptest::EchoRun;
using pptest::run_echo;

// ---- values and bytes -----------------------------------------------------------------------

TEST(Task6_3_Executor, ActivationsAndGradientsReachTheRightMicroBatch) {
  for (PipeSchedule kind : {PipeSchedule::GPipe, PipeSchedule::OneFOneB}) pptest::echo_case(kind, 4, 5);
}

// ---- the executor's stash count -------------------------------------------------------------

TEST(Task6_3_Executor, PeakStashIsMForGPipeAndPMinusSFor1F1B) {
  const int p = 4;
  for (int m : {2, 4, 6}) {  // m < p, m = p, m > p
    const EchoRun g = run_echo(PipeSchedule::GPipe, p, m);
    const EchoRun f = run_echo(PipeSchedule::OneFOneB, p, m);
    std::vector<int64_t> expect_g(p, m), expect_f(p);
    for (int s = 0; s < p; ++s) expect_f[s] = std::min(p - s, m);
    EXPECT_EQ(g.peaks, expect_g) << "GPipe m=" << m;
    EXPECT_EQ(f.peaks, expect_f) << "1F1B m=" << m;
    rec::record_exact("gpipe_peaks_m" + std::to_string(m), g.peaks);
    rec::record_exact("1f1b_peaks_m" + std::to_string(m), f.peaks);
  }
}

// ---- the GPT, bit for bit -------------------------------------------------------------------

TEST(Task6_3_GPT, TwoStagesGPipeMatchesOneProcessBitForBit) {
  pptest::gpt_case(PipeSchedule::GPipe, 2, 2, 4, 2, {{0, 1}, {1, 2}});
}

TEST(Task6_3_GPT, TwoStages1F1BMatchesOneProcessBitForBit) {
  pptest::gpt_case(PipeSchedule::OneFOneB, 2, 2, 3, 2, {{0, 1}, {1, 2}});
}

TEST(Task6_3_GPT, FourStages1F1BFewerMicroBatchesThanStages) {
  pptest::gpt_case(PipeSchedule::OneFOneB, 4, 4, 2, 1, {{0, 1}, {1, 2}, {2, 3}, {3, 4}});
}

TEST(Task6_3_GPT, FourStages1F1BAndGPipeMoreMicroBatchesThanStages) {
  const std::vector<pa3::LayerRange> layers = {{0, 1}, {1, 2}, {2, 3}, {3, 4}};
  pptest::gpt_case(PipeSchedule::OneFOneB, 4, 4, 6, 1, layers);
  pptest::gpt_case(PipeSchedule::GPipe, 4, 4, 4, 2, layers);
}

// ---- the bubble -----------------------------------------------------------------------------

// Stages that sleep 30 ms per forward and 60 ms per backward; the bubble is measured from the
// recorded timeline (1 - busy / (p * span)). The formula (p-1)/(m+p-1) assumes equal op times
// and free communication; a late thread wake-up or a sleep that overshoots on a busy machine
// breaks both a little. On the reference, single runs deviate by 0.01-0.02 typically and by up
// to about 0.06 at a load average of 20 on 2 cores, so the tolerance is 0.05 and the best of
// four runs counts. An executor that lets one stage work at a time measures 1 - 1/p = 0.75
// instead of 0.43 at p = 4, m = 4.
TEST(Task6_3_Bubble, BubbleMatchesTheFormula) {
  struct Case { PipeSchedule kind; int p, m; };
  for (const Case& k : {Case{PipeSchedule::GPipe, 4, 4}, Case{PipeSchedule::OneFOneB, 4, 4},
                        Case{PipeSchedule::OneFOneB, 2, 6}}) {
    const double expect = double(k.p - 1) / double(k.m + k.p - 1);
    const pptest::BubbleRun run = pptest::best_bubble(k.kind, k.p, k.m, 30, 60, expect, 0.05, 4);
    const std::string what = std::string(pa3::schedule_name(k.kind)) + " p=" +
                             std::to_string(k.p) + " m=" + std::to_string(k.m);
    EXPECT_NEAR(run.bubble, expect, 0.05) << what << "\n" << pa3::ascii_timeline(run.events, k.p);
    EXPECT_EQ(run.events.size(), static_cast<size_t>(2 * k.m * k.p)) << what;
    rec::record_value(what + " bubble", run.bubble, 0, 0.05);
  }
}

// ---- errors ---------------------------------------------------------------------------------

TEST(Task6_3_Executor, AnIncompleteScheduleIsAnError) {
  // a valid run first: the errors alone are no executor
  const EchoRun ok = run_echo(PipeSchedule::OneFOneB, 2, 2);
  EXPECT_TRUE(ok.errors.empty());
  std::string message;
  try {
    pa3::run_ranks(1, [&](pa3::Communicator& comm) {
      pptest::EchoStage stage(0, 1, 2);
      pa3::run_pipeline(comm, stage, pa3::parse_schedule("F0 F1 B0"), 2);
    });
  } catch (const pa3::RankFailed& e) {
    message = e.what();
  }
  EXPECT_NE(message.find("micro-batch 1 never ran its backward"), std::string::npos) << message;
  rec::record_exact("incomplete", static_cast<int64_t>(!message.empty()));
}

}  // namespace
