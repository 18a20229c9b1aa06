// PA1 Task 4 — training the MLP on the digits through the whole pipeline (every task's code,
// or staff code for the other tasks when graded). About 1,800 small steps: under a second on
// an idle machine; labelled slow because Eigen's OpenMP threads can make it 30x slower on a
// machine whose cores are busy (OMP_NUM_THREADS=1 avoids that).
#include <sstream>

#include "mlsys/io.h"
#include "pa1_test_util.h"

using namespace pa1;

TEST(Task4_Digits, Reach95Percent) {
  // 64-128-10 relu MLP, Adam lr 3e-3, batch 32: about 1,800 steps of 1.5 MFLOP each.
  auto [train, test] = mlsys::train_test_split(mlsys::load_digits(), 0.2, 0);
  Model m = build_mlp({64, 128, 10}, 0);
  Trainer trainer(m, std::make_shared<Adam>(m.params, 3e-3f));
  FitOptions opt;
  opt.epochs = 12;
  opt.batch_size = 32;
  std::ostringstream log;
  opt.log = &log;
  std::vector<EpochStats> history = fit(trainer, train, test, opt);
  ASSERT_EQ(history.size(), 12u);
  std::cout << log.str();
  EXPECT_LT(history.back().loss, history.front().loss);
  EXPECT_GE(history.back().test_accuracy, 0.95) << log.str();
  // For the grader: the final accuracy, within the band this test accepts. Two training runs
  // that differ only in rounding end at different accuracies, so the value itself cannot be
  // compared tightly; any two accuracies in [0.95, 1] are within 2 * 0.025 of each other
  // (0.026: room for the rounding of 1 - 0.95 in double).
  mlsys::test::record_value("final_test_accuracy", history.back().test_accuracy, 0, 0.026);
}
