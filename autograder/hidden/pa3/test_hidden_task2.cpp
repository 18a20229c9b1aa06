// PA3 Task 2 hidden tests: other layouts (worlds 6, 7 and 8), written out by hand from
// rank = tp + TP (dp + DP pp), and other bad inputs.
#include "task2_util.h"

namespace {

using pa3::GridShape;
using pa3test::grid_table;
using pa3test::throws_error_with;

TEST(Hidden2_Grid, World6_3x2x1) {
  EXPECT_EQ(grid_table(6, {3, 2, 1}), (std::vector<std::string>{
      "r 0: dp 0 tp 0 pp 0 | tp {0,1} dp {0,2,4} pp {0} | prev - next -",
      "r 1: dp 0 tp 1 pp 0 | tp {0,1} dp {1,3,5} pp {1} | prev - next -",
      "r 2: dp 1 tp 0 pp 0 | tp {2,3} dp {0,2,4} pp {2} | prev - next -",
      "r 3: dp 1 tp 1 pp 0 | tp {2,3} dp {1,3,5} pp {3} | prev - next -",
      "r 4: dp 2 tp 0 pp 0 | tp {4,5} dp {0,2,4} pp {4} | prev - next -",
      "r 5: dp 2 tp 1 pp 0 | tp {4,5} dp {1,3,5} pp {5} | prev - next -"}));
}

TEST(Hidden2_Grid, World6_1x2x3) {
  EXPECT_EQ(grid_table(6, {1, 2, 3}), (std::vector<std::string>{
      "r 0: dp 0 tp 0 pp 0 | tp {0,1} dp {0} pp {0,2,4} | prev - next 2",
      "r 1: dp 0 tp 1 pp 0 | tp {0,1} dp {1} pp {1,3,5} | prev - next 3",
      "r 2: dp 0 tp 0 pp 1 | tp {2,3} dp {2} pp {0,2,4} | prev 0 next 4",
      "r 3: dp 0 tp 1 pp 1 | tp {2,3} dp {3} pp {1,3,5} | prev 1 next 5",
      "r 4: dp 0 tp 0 pp 2 | tp {4,5} dp {4} pp {0,2,4} | prev 2 next -",
      "r 5: dp 0 tp 1 pp 2 | tp {4,5} dp {5} pp {1,3,5} | prev 3 next -"}));
}

TEST(Hidden2_Grid, World6_2x1x3) {
  EXPECT_EQ(grid_table(6, {2, 1, 3}), (std::vector<std::string>{
      "r 0: dp 0 tp 0 pp 0 | tp {0} dp {0,1} pp {0,2,4} | prev - next 2",
      "r 1: dp 1 tp 0 pp 0 | tp {1} dp {0,1} pp {1,3,5} | prev - next 3",
      "r 2: dp 0 tp 0 pp 1 | tp {2} dp {2,3} pp {0,2,4} | prev 0 next 4",
      "r 3: dp 1 tp 0 pp 1 | tp {3} dp {2,3} pp {1,3,5} | prev 1 next 5",
      "r 4: dp 0 tp 0 pp 2 | tp {4} dp {4,5} pp {0,2,4} | prev 2 next -",
      "r 5: dp 1 tp 0 pp 2 | tp {5} dp {4,5} pp {1,3,5} | prev 3 next -"}));
}

TEST(Hidden2_Grid, World7_PipelineOnly_1x1x7) {
  EXPECT_EQ(grid_table(7, {1, 1, 7}), (std::vector<std::string>{
      "r 0: dp 0 tp 0 pp 0 | tp {0} dp {0} pp {0,1,2,3,4,5,6} | prev - next 1",
      "r 1: dp 0 tp 0 pp 1 | tp {1} dp {1} pp {0,1,2,3,4,5,6} | prev 0 next 2",
      "r 2: dp 0 tp 0 pp 2 | tp {2} dp {2} pp {0,1,2,3,4,5,6} | prev 1 next 3",
      "r 3: dp 0 tp 0 pp 3 | tp {3} dp {3} pp {0,1,2,3,4,5,6} | prev 2 next 4",
      "r 4: dp 0 tp 0 pp 4 | tp {4} dp {4} pp {0,1,2,3,4,5,6} | prev 3 next 5",
      "r 5: dp 0 tp 0 pp 5 | tp {5} dp {5} pp {0,1,2,3,4,5,6} | prev 4 next 6",
      "r 6: dp 0 tp 0 pp 6 | tp {6} dp {6} pp {0,1,2,3,4,5,6} | prev 5 next -"}));
}

TEST(Hidden2_Grid, World7_DataOnly_7x1x1) {
  EXPECT_EQ(grid_table(7, {7, 1, 1}), (std::vector<std::string>{
      "r 0: dp 0 tp 0 pp 0 | tp {0} dp {0,1,2,3,4,5,6} pp {0} | prev - next -",
      "r 1: dp 1 tp 0 pp 0 | tp {1} dp {0,1,2,3,4,5,6} pp {1} | prev - next -",
      "r 2: dp 2 tp 0 pp 0 | tp {2} dp {0,1,2,3,4,5,6} pp {2} | prev - next -",
      "r 3: dp 3 tp 0 pp 0 | tp {3} dp {0,1,2,3,4,5,6} pp {3} | prev - next -",
      "r 4: dp 4 tp 0 pp 0 | tp {4} dp {0,1,2,3,4,5,6} pp {4} | prev - next -",
      "r 5: dp 5 tp 0 pp 0 | tp {5} dp {0,1,2,3,4,5,6} pp {5} | prev - next -",
      "r 6: dp 6 tp 0 pp 0 | tp {6} dp {0,1,2,3,4,5,6} pp {6} | prev - next -"}));
}

TEST(Hidden2_Grid, World8_2x4x1) {
  EXPECT_EQ(grid_table(8, {2, 4, 1}), (std::vector<std::string>{
      "r 0: dp 0 tp 0 pp 0 | tp {0,1,2,3} dp {0,4} pp {0} | prev - next -",
      "r 1: dp 0 tp 1 pp 0 | tp {0,1,2,3} dp {1,5} pp {1} | prev - next -",
      "r 2: dp 0 tp 2 pp 0 | tp {0,1,2,3} dp {2,6} pp {2} | prev - next -",
      "r 3: dp 0 tp 3 pp 0 | tp {0,1,2,3} dp {3,7} pp {3} | prev - next -",
      "r 4: dp 1 tp 0 pp 0 | tp {4,5,6,7} dp {0,4} pp {4} | prev - next -",
      "r 5: dp 1 tp 1 pp 0 | tp {4,5,6,7} dp {1,5} pp {5} | prev - next -",
      "r 6: dp 1 tp 2 pp 0 | tp {4,5,6,7} dp {2,6} pp {6} | prev - next -",
      "r 7: dp 1 tp 3 pp 0 | tp {4,5,6,7} dp {3,7} pp {7} | prev - next -"}));
}

TEST(Hidden2_Grid, World8_1x2x4) {
  EXPECT_EQ(grid_table(8, {1, 2, 4}), (std::vector<std::string>{
      "r 0: dp 0 tp 0 pp 0 | tp {0,1} dp {0} pp {0,2,4,6} | prev - next 2",
      "r 1: dp 0 tp 1 pp 0 | tp {0,1} dp {1} pp {1,3,5,7} | prev - next 3",
      "r 2: dp 0 tp 0 pp 1 | tp {2,3} dp {2} pp {0,2,4,6} | prev 0 next 4",
      "r 3: dp 0 tp 1 pp 1 | tp {2,3} dp {3} pp {1,3,5,7} | prev 1 next 5",
      "r 4: dp 0 tp 0 pp 2 | tp {4,5} dp {4} pp {0,2,4,6} | prev 2 next 6",
      "r 5: dp 0 tp 1 pp 2 | tp {4,5} dp {5} pp {1,3,5,7} | prev 3 next 7",
      "r 6: dp 0 tp 0 pp 3 | tp {6,7} dp {6} pp {0,2,4,6} | prev 4 next -",
      "r 7: dp 0 tp 1 pp 3 | tp {6,7} dp {7} pp {1,3,5,7} | prev 5 next -"}));
}

TEST(Hidden2_Errors, OtherBadInputs) {
  EXPECT_TRUE(throws_error_with([] { pa3::grid_coord({3, 2, 2}, 12); }, {"grid_coord", "12"}));
  EXPECT_TRUE(throws_error_with([] { pa3::grid_coord({1, -2, 1}, 0); }, {"grid_coord", "-2"}));
  EXPECT_TRUE(throws_error_with([] { pa3::grid_rank({3, 2, 2}, {3, 0, 0}); }, {"grid_rank", "3"}));
  EXPECT_TRUE(throws_error_with([] { pa3::grid_rank({1, 1, 0}, {0, 0, 0}); }, {"grid_rank", "0"}));
  pa3::ScopedDeadline deadline(2.0);
  EXPECT_TRUE(throws_error_with(
      [] { pa3::run_ranks(6, [](pa3::Communicator& c) { pa3::ProcessGrid g(c, {2, 2, 2}); }); },
      {"ProcessGrid", "8", "6"}));
  EXPECT_TRUE(throws_error_with(
      [] { pa3::run_ranks(7, [](pa3::Communicator& c) { pa3::ProcessGrid g(c, {1, 7, 7}); }); },
      {"ProcessGrid", "49", "7"}));
}

}  // namespace
