// PA3 Task 2 — the process grid (pa3_parallelism/src/grid.cpp).
// Coordinates in Megatron's order (tp fastest, then dp, then pp), the TP/DP/PP groups and the
// pipeline neighbours of every rank, against tables written out by hand from the layout
// formula rank = tp + TP (dp + DP pp); bad shapes and ranks are mlsys::Errors. These tests use
// the given runtime only, never your Task 1 collectives.
#include "task2_util.h"

namespace {

using pa3::GridCoord;
using pa3::GridShape;
using pa3test::grid_table;
using pa3test::throws_error_with;

std::string coord_str(const GridCoord& c) {
  return "(" + std::to_string(c.dp) + "," + std::to_string(c.tp) + "," + std::to_string(c.pp) + ")";
}

// grid_coord alone, 12 ranks as DP 3 x TP 2 x PP 2, every rank, as (dp,tp,pp).
TEST(Task2_Coordinates, World12_3x2x2) {
  const GridShape shape{3, 2, 2};
  const std::vector<std::string> expected = {
      "(0,0,0)", "(0,1,0)", "(1,0,0)", "(1,1,0)", "(2,0,0)", "(2,1,0)",
      "(0,0,1)", "(0,1,1)", "(1,0,1)", "(1,1,1)", "(2,0,1)", "(2,1,1)"};
  std::vector<std::string> got;
  std::string all;
  for (int r = 0; r < 12; ++r) {
    got.push_back(coord_str(pa3::grid_coord(shape, r)));
    all += got.back() + " ";
  }
  EXPECT_EQ(got, expected);
  mlsys::test::record_exact("coords 3x2x2", all);
}

// grid_rank inverts grid_coord on several shapes (checked against the formula, written here).
TEST(Task2_Coordinates, RankInvertsCoord) {
  std::vector<int64_t> ranks;
  for (GridShape s : {GridShape{2, 2, 2}, GridShape{1, 8, 1}, GridShape{4, 1, 2},
                      GridShape{3, 2, 2}, GridShape{2, 3, 1}}) {
    for (int pp = 0; pp < s.pp; ++pp)
      for (int dp = 0; dp < s.dp; ++dp)
        for (int tp = 0; tp < s.tp; ++tp) {
          const int r = pa3::grid_rank(s, {dp, tp, pp});
          EXPECT_EQ(r, tp + s.tp * (dp + s.dp * pp));
          EXPECT_TRUE(pa3::grid_coord(s, r) == (GridCoord{dp, tp, pp}));
          ranks.push_back(r);
        }
  }
  mlsys::test::record_exact("grid_rank of every coordinate", ranks);
}

TEST(Task2_Grid, World8_2x2x2) {
  EXPECT_EQ(grid_table(8, {2, 2, 2}), (std::vector<std::string>{
      "r 0: dp 0 tp 0 pp 0 | tp {0,1} dp {0,2} pp {0,4} | prev - next 4",
      "r 1: dp 0 tp 1 pp 0 | tp {0,1} dp {1,3} pp {1,5} | prev - next 5",
      "r 2: dp 1 tp 0 pp 0 | tp {2,3} dp {0,2} pp {2,6} | prev - next 6",
      "r 3: dp 1 tp 1 pp 0 | tp {2,3} dp {1,3} pp {3,7} | prev - next 7",
      "r 4: dp 0 tp 0 pp 1 | tp {4,5} dp {4,6} pp {0,4} | prev 0 next -",
      "r 5: dp 0 tp 1 pp 1 | tp {4,5} dp {5,7} pp {1,5} | prev 1 next -",
      "r 6: dp 1 tp 0 pp 1 | tp {6,7} dp {4,6} pp {2,6} | prev 2 next -",
      "r 7: dp 1 tp 1 pp 1 | tp {6,7} dp {5,7} pp {3,7} | prev 3 next -"}));
}

TEST(Task2_Grid, World8_TensorOnly_1x8x1) {
  EXPECT_EQ(grid_table(8, {1, 8, 1}), (std::vector<std::string>{
      "r 0: dp 0 tp 0 pp 0 | tp {0,1,2,3,4,5,6,7} dp {0} pp {0} | prev - next -",
      "r 1: dp 0 tp 1 pp 0 | tp {0,1,2,3,4,5,6,7} dp {1} pp {1} | prev - next -",
      "r 2: dp 0 tp 2 pp 0 | tp {0,1,2,3,4,5,6,7} dp {2} pp {2} | prev - next -",
      "r 3: dp 0 tp 3 pp 0 | tp {0,1,2,3,4,5,6,7} dp {3} pp {3} | prev - next -",
      "r 4: dp 0 tp 4 pp 0 | tp {0,1,2,3,4,5,6,7} dp {4} pp {4} | prev - next -",
      "r 5: dp 0 tp 5 pp 0 | tp {0,1,2,3,4,5,6,7} dp {5} pp {5} | prev - next -",
      "r 6: dp 0 tp 6 pp 0 | tp {0,1,2,3,4,5,6,7} dp {6} pp {6} | prev - next -",
      "r 7: dp 0 tp 7 pp 0 | tp {0,1,2,3,4,5,6,7} dp {7} pp {7} | prev - next -"}));
}

TEST(Task2_Grid, World8_4x1x2) {
  EXPECT_EQ(grid_table(8, {4, 1, 2}), (std::vector<std::string>{
      "r 0: dp 0 tp 0 pp 0 | tp {0} dp {0,1,2,3} pp {0,4} | prev - next 4",
      "r 1: dp 1 tp 0 pp 0 | tp {1} dp {0,1,2,3} pp {1,5} | prev - next 5",
      "r 2: dp 2 tp 0 pp 0 | tp {2} dp {0,1,2,3} pp {2,6} | prev - next 6",
      "r 3: dp 3 tp 0 pp 0 | tp {3} dp {0,1,2,3} pp {3,7} | prev - next 7",
      "r 4: dp 0 tp 0 pp 1 | tp {4} dp {4,5,6,7} pp {0,4} | prev 0 next -",
      "r 5: dp 1 tp 0 pp 1 | tp {5} dp {4,5,6,7} pp {1,5} | prev 1 next -",
      "r 6: dp 2 tp 0 pp 1 | tp {6} dp {4,5,6,7} pp {2,6} | prev 2 next -",
      "r 7: dp 3 tp 0 pp 1 | tp {7} dp {4,5,6,7} pp {3,7} | prev 3 next -"}));
}

TEST(Task2_Grid, World4_PipelineOnly_1x1x4) {
  EXPECT_EQ(grid_table(4, {1, 1, 4}), (std::vector<std::string>{
      "r 0: dp 0 tp 0 pp 0 | tp {0} dp {0} pp {0,1,2,3} | prev - next 1",
      "r 1: dp 0 tp 0 pp 1 | tp {1} dp {1} pp {0,1,2,3} | prev 0 next 2",
      "r 2: dp 0 tp 0 pp 2 | tp {2} dp {2} pp {0,1,2,3} | prev 1 next 3",
      "r 3: dp 0 tp 0 pp 3 | tp {3} dp {3} pp {0,1,2,3} | prev 2 next -"}));
}

TEST(Task2_Grid, World1) {
  EXPECT_EQ(grid_table(1, {1, 1, 1}), (std::vector<std::string>{
      "r 0: dp 0 tp 0 pp 0 | tp {0} dp {0} pp {0} | prev - next -"}));
}

// The groups are real communicators: a sum over the DP group adds exactly its members.
TEST(Task2_Grid, GroupsCommunicate) {
  pa3::ScopedDeadline deadline(2.0);
  std::vector<float> dp_sum(8), tp_sum(8), pp_sum(8);
  pa3::run_ranks(8, [&](pa3::Communicator& comm) {
    pa3::ProcessGrid g(comm, {2, 2, 2});
    const int r = comm.rank();
    float v[3] = {float(1 << r), float(1 << r), float(1 << r)};
    g.dp().native_all_reduce(v, 1);
    g.tp().native_all_reduce(v + 1, 1);
    g.pp().native_all_reduce(v + 2, 1);
    dp_sum[r] = v[0], tp_sum[r] = v[1], pp_sum[r] = v[2];
  });
  // Bit masks of the members (from the 2x2x2 table): dp {0,2} = 5, {1,3} = 10, {4,6} = 80,
  // {5,7} = 160; tp {0,1} = 3, {2,3} = 12, {4,5} = 48, {6,7} = 192; pp {r, r+4} = 17 << r%4.
  EXPECT_EQ(dp_sum, (std::vector<float>{5, 10, 5, 10, 80, 160, 80, 160}));
  EXPECT_EQ(tp_sum, (std::vector<float>{3, 3, 12, 12, 48, 48, 192, 192}));
  EXPECT_EQ(pp_sum, (std::vector<float>{17, 34, 68, 136, 17, 34, 68, 136}));
  std::vector<int64_t> all;
  for (auto* v : {&dp_sum, &tp_sum, &pp_sum})
    for (float x : *v) all.push_back(static_cast<int64_t>(x));
  mlsys::test::record_exact("group sums", all);
}

TEST(Task2_Errors, BadRankOrShape) {
  EXPECT_TRUE(throws_error_with([] { pa3::grid_coord({2, 2, 2}, 8); }, {"grid_coord", "8"}));
  EXPECT_TRUE(throws_error_with([] { pa3::grid_coord({2, 2, 2}, -1); }, {"grid_coord", "-1"}));
  EXPECT_TRUE(throws_error_with([] { pa3::grid_coord({0, 2, 2}, 0); }, {"grid_coord", "0"}));
  EXPECT_TRUE(throws_error_with([] { pa3::grid_rank({2, 2, 2}, {0, 2, 0}); }, {"grid_rank", "2"}));
  EXPECT_TRUE(throws_error_with([] { pa3::grid_rank({2, 2, 2}, {0, 0, -1}); }, {"grid_rank", "-1"}));
}

// A grid whose product is not the world size: every rank throws before any split.
TEST(Task2_Errors, ProductIsNotTheWorldSize) {
  pa3::ScopedDeadline deadline(2.0);
  EXPECT_TRUE(throws_error_with(
      [] { pa3::run_ranks(8, [](pa3::Communicator& c) { pa3::ProcessGrid g(c, {2, 2, 1}); }); },
      {"ProcessGrid", "4", "8"}));
  EXPECT_TRUE(throws_error_with(
      [] { pa3::run_ranks(4, [](pa3::Communicator& c) { pa3::ProcessGrid g(c, {2, 2, 2}); }); },
      {"ProcessGrid", "8", "4"}));
  EXPECT_TRUE(throws_error_with(
      [] { pa3::run_ranks(2, [](pa3::Communicator& c) { pa3::ProcessGrid g(c, {2, 1, 0}); }); },
      {"ProcessGrid", "0"}));
}

}  // namespace
