// Hidden tests of PA3 Task 6.2 (schedules): p = 3 and p = 2 golden tables written by hand from
// the papers' definitions, odd micro-batch counts, and properties for p up to 4, m up to 9
// checked against an independent generator (the stash bound: pptest::reference_schedule).

#include "pp_test_util.h"

namespace {

namespace rec = mlsys::test;
using pa3::PipeSchedule;

void expect_tables(PipeSchedule kind, int p, int m, const std::vector<std::string>& golden) {
  std::string joined;
  for (int s = 0; s < p; ++s) {
    const std::string got = pa3::schedule_to_string(pa3::make_schedule(kind, p, s, m));
    joined += got + "\n";
    EXPECT_EQ(got, golden[s]) << pa3::schedule_name(kind) << " p=" << p << " m=" << m
                              << " stage " << s;
  }
  rec::record_exact(std::string(pa3::schedule_name(kind)) + "_p" + std::to_string(p) + "_m" +
                        std::to_string(m),
                    joined);
}

TEST(HiddenTask6_2_1F1B, ThreeStagesOddMicroBatchCounts) {
  expect_tables(PipeSchedule::OneFOneB, 3, 1, {"F0 B0", "F0 B0", "F0 B0"});
  expect_tables(PipeSchedule::OneFOneB, 3, 3,
                {"F0 F1 F2 B0 B1 B2",
                 "F0 F1 B0 F2 B1 B2",
                 "F0 B0 F1 B1 F2 B2"});
  expect_tables(PipeSchedule::OneFOneB, 3, 5,
                {"F0 F1 F2 B0 F3 B1 F4 B2 B3 B4",
                 "F0 F1 B0 F2 B1 F3 B2 F4 B3 B4",
                 "F0 B0 F1 B1 F2 B2 F3 B3 F4 B4"});
}

TEST(HiddenTask6_2_1F1B, TwoStages) {
  expect_tables(PipeSchedule::OneFOneB, 2, 3,
                {"F0 F1 B0 F2 B1 B2",
                 "F0 B0 F1 B1 F2 B2"});
}

TEST(HiddenTask6_2_GPipe, ThreeStagesFiveMicroBatches) {
  const std::string all = "F0 F1 F2 F3 F4 B0 B1 B2 B3 B4";
  expect_tables(PipeSchedule::GPipe, 3, 5, {all, all, all});
  expect_tables(PipeSchedule::GPipe, 1, 1, {"F0 B0"});
}

TEST(HiddenTask6_2_Properties, EverySizeMatchesTheStashBoundSchedule) {
  int64_t mismatches = 0, checked = 0;
  for (int p = 1; p <= 4; ++p) {
    for (int m = 1; m <= 9; ++m) {
      for (int s = 0; s < p; ++s) {
        for (PipeSchedule kind : {PipeSchedule::GPipe, PipeSchedule::OneFOneB}) {
          const auto got = pa3::make_schedule(kind, p, s, m);
          const auto want = pptest::reference_schedule(kind, p, s, m);
          if (got != want) {
            ++mismatches;
            ADD_FAILURE() << pa3::schedule_name(kind) << " p=" << p << " m=" << m << " stage "
                          << s << ": got " << pa3::schedule_to_string(got) << ", expected "
                          << pa3::schedule_to_string(want);
          }
          ++checked;
        }
      }
    }
  }
  rec::record_exact("checked", checked);
  rec::record_exact("mismatches", mismatches);
}

}  // namespace
