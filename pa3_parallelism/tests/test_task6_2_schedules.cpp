// PA3 Task 6.2 — the GPipe and 1F1B schedules as data. The golden tables below were written
// by hand from the papers' definitions (GPipe: all forwards, then all backwards; 1F1B /
// PipeDream-Flush: warm-up of p - s - 1 forwards, then one forward one backward, then the
// remaining backwards), for p = 4 and m < p, m = p, m > p. The stash bound min(p - s, m) is
// checked on a simulated count over the student's schedule.

#include "pp_test_util.h"

namespace {

namespace rec = mlsys::test;
using pa3::PipeSchedule;

// Every stage's schedule as text, one string per stage.
std::vector<std::string> all_stages(PipeSchedule kind, int p, int m) {
  std::vector<std::string> out;
  for (int s = 0; s < p; ++s) {
    out.push_back(pa3::schedule_to_string(pa3::make_schedule(kind, p, s, m)));
  }
  return out;
}

void expect_tables(PipeSchedule kind, int p, int m, const std::vector<std::string>& golden) {
  const std::vector<std::string> got = all_stages(kind, p, m);
  std::string joined;
  for (const std::string& s : got) joined += s + "\n";
  rec::record_exact(std::string(pa3::schedule_name(kind)) + "_p" + std::to_string(p) + "_m" +
                        std::to_string(m),
                    joined);
  ASSERT_EQ(got.size(), golden.size());
  for (size_t s = 0; s < golden.size(); ++s) {
    EXPECT_EQ(got[s], golden[s]) << pa3::schedule_name(kind) << " p=" << p << " m=" << m
                                 << " stage " << s;
  }
}

TEST(Task6_2_GPipe, FourStagesTwoMicroBatches) {
  const std::string all = "F0 F1 B0 B1";
  expect_tables(PipeSchedule::GPipe, 4, 2, {all, all, all, all});
}

TEST(Task6_2_GPipe, FourStagesFourAndSixMicroBatches) {
  const std::string four = "F0 F1 F2 F3 B0 B1 B2 B3";
  expect_tables(PipeSchedule::GPipe, 4, 4, {four, four, four, four});
  const std::string six = "F0 F1 F2 F3 F4 F5 B0 B1 B2 B3 B4 B5";
  expect_tables(PipeSchedule::GPipe, 4, 6, {six, six, six, six});
}

TEST(Task6_2_1F1B, FourStagesTwoMicroBatches) {  // m < p: the warm-up is cut at m
  expect_tables(PipeSchedule::OneFOneB, 4, 2,
                {"F0 F1 B0 B1",
                 "F0 F1 B0 B1",
                 "F0 F1 B0 B1",
                 "F0 B0 F1 B1"});
}

TEST(Task6_2_1F1B, FourStagesFourMicroBatches) {  // m = p
  expect_tables(PipeSchedule::OneFOneB, 4, 4,
                {"F0 F1 F2 F3 B0 B1 B2 B3",
                 "F0 F1 F2 B0 F3 B1 B2 B3",
                 "F0 F1 B0 F2 B1 F3 B2 B3",
                 "F0 B0 F1 B1 F2 B2 F3 B3"});
}

TEST(Task6_2_1F1B, FourStagesSixMicroBatches) {  // m > p: a steady state on every stage
  expect_tables(PipeSchedule::OneFOneB, 4, 6,
                {"F0 F1 F2 F3 B0 F4 B1 F5 B2 B3 B4 B5",
                 "F0 F1 F2 B0 F3 B1 F4 B2 F5 B3 B4 B5",
                 "F0 F1 B0 F2 B1 F3 B2 F4 B3 F5 B4 B5",
                 "F0 B0 F1 B1 F2 B2 F3 B3 F4 B4 F5 B5"});
}

TEST(Task6_2_1F1B, OneStageAlternates) {
  expect_tables(PipeSchedule::OneFOneB, 1, 3, {"F0 B0 F1 B1 F2 B2"});
}

// The memory side of the schedules: micro-batches stashed at once along each stage's schedule.
TEST(Task6_2_Stash, GPipeStashesMAndOneFOneBAtMostPMinusS) {
  std::vector<int64_t> peaks;
  for (int m : {2, 4, 6}) {
    for (int s = 0; s < 4; ++s) {
      const int64_t g = pptest::peak_stash(pa3::gpipe_schedule(4, s, m));
      const int64_t f = pptest::peak_stash(pa3::one_f_one_b_schedule(4, s, m));
      EXPECT_EQ(g, m) << "GPipe m=" << m << " stage " << s;
      EXPECT_EQ(f, std::min(4 - s, m)) << "1F1B m=" << m << " stage " << s;
      peaks.push_back(g);
      peaks.push_back(f);
    }
  }
  rec::record_exact("peaks", peaks);
}

TEST(Task6_2_Errors, BadArgumentsAreNamed) {
  // valid calls first: the errors alone are no schedule
  EXPECT_EQ(pa3::schedule_to_string(pa3::gpipe_schedule(2, 1, 1)), "F0 B0");
  EXPECT_EQ(pa3::schedule_to_string(pa3::one_f_one_b_schedule(2, 1, 1)), "F0 B0");
  std::vector<int64_t> threw;
  auto check = [&](const std::function<void()>& fn, const std::string& arg) {
    try {
      fn();
      ADD_FAILURE() << "no error for a bad '" << arg << "'";
      threw.push_back(0);
    } catch (const mlsys::NotImplemented&) {
      throw;
    } catch (const mlsys::Error& e) {
      EXPECT_NE(std::string(e.what()).find(arg), std::string::npos) << e.what();
      threw.push_back(1);
    }
  };
  check([] { pa3::gpipe_schedule(0, 0, 2); }, "num_stages");
  check([] { pa3::gpipe_schedule(2, 2, 2); }, "stage");
  check([] { pa3::one_f_one_b_schedule(2, 0, 0); }, "num_micro");
  check([] { pa3::one_f_one_b_schedule(3, -1, 2); }, "stage");
  rec::record_exact("errors", threw);
}

}  // namespace
