// Helpers of the PA3 Task 2 tests (public and hidden): each rank's view of the grid as one
// line of text, collected in rank order, to compare with tables written out by hand.
// They use only the given runtime (split is called by your ProcessGrid; the group members are
// listed with native_all_gather), never Task 1's collectives.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "mlsys/error.h"
#include "mlsys/recording.h"
#include "mlsys/tensor.h"
#include "pa3/comm.h"
#include "pa3/grid.h"

namespace pa3test {

// The world ranks of a group, in the group's rank order.
inline std::string members(pa3::Communicator& group, int world_rank) {
  std::vector<int32_t> mine{world_rank};
  mlsys::Tensor in = mlsys::from_vector(mine, {1});
  mlsys::Tensor out = mlsys::zeros({group.size()}, mlsys::DType::Int32);
  group.native_all_gather(in, out);
  std::string s = "{";
  for (int32_t r : out.to_vector<int32_t>()) s += (s.size() > 1 ? "," : "") + std::to_string(r);
  return s + "}";
}

inline std::string neighbour(int rank) { return rank == pa3::kNoRank ? "-" : std::to_string(rank); }

// "r 5: dp 0 tp 1 pp 1 | tp {4,5} dp {5,7} pp {1,5} | prev 1 next -"
inline std::string describe(pa3::ProcessGrid& g, int rank) {
  const pa3::GridCoord& c = g.coord();
  std::string s = "r " + std::to_string(rank) + ": dp " + std::to_string(c.dp) + " tp " +
                  std::to_string(c.tp) + " pp " + std::to_string(c.pp);
  s += " | tp " + members(g.tp(), rank) + " dp " + members(g.dp(), rank) + " pp " +
       members(g.pp(), rank);
  s += " | prev " + neighbour(g.prev_stage_rank()) + " next " + neighbour(g.next_stage_rank());
  return s;
}

// Builds the grid on `world` threads and returns every rank's line, rank 0 first. Also checks
// the invariants every layout has: group sizes, ranks within groups equal to the coordinates,
// the world kept, grid_coord/grid_rank agreeing with the grid. Records the table.
inline std::vector<std::string> grid_table(int world, pa3::GridShape shape) {
  pa3::ScopedDeadline deadline(2.0);
  std::vector<std::string> lines(world);
  pa3::run_ranks(world, [&](pa3::Communicator& comm) {
    pa3::ProcessGrid g(comm, shape);
    const int r = comm.rank();
    EXPECT_EQ(g.world().size(), world);
    EXPECT_EQ(g.world().rank(), r);
    EXPECT_EQ(g.tp().size(), shape.tp);
    EXPECT_EQ(g.dp().size(), shape.dp);
    EXPECT_EQ(g.pp().size(), shape.pp);
    EXPECT_EQ(g.tp().rank(), g.coord().tp) << "rank " << r << ": tp().rank() must be its tp";
    EXPECT_EQ(g.dp().rank(), g.coord().dp) << "rank " << r << ": dp().rank() must be its dp";
    EXPECT_EQ(g.pp().rank(), g.coord().pp) << "rank " << r << ": pp().rank() must be its pp";
    EXPECT_TRUE(g.coord() == pa3::grid_coord(shape, r));
    lines[r] = describe(g, r);
  });
  std::string all;
  for (const std::string& l : lines) all += l + "\n";
  mlsys::test::record_exact("grid " + std::to_string(shape.dp) + "x" + std::to_string(shape.tp) +
                                "x" + std::to_string(shape.pp) + " table",
                            all);
  return lines;
}

// Asserts that `fn` throws an mlsys::Error (not NotImplemented) whose message contains every
// string of `parts`; records the error kind.
inline ::testing::AssertionResult throws_error_with(const std::function<void()>& fn,
                                                   const std::vector<std::string>& parts) {
  try {
    fn();
  } catch (const mlsys::NotImplemented&) {
    throw;
  } catch (const pa3::RankFailed& e) {
    try {
      std::rethrow_exception(e.original());
    } catch (const mlsys::NotImplemented&) {
      throw;
    } catch (...) {
    }
    mlsys::test::record_exact("error", std::string("mlsys::Error"));
    const std::string msg = e.what();
    for (const std::string& p : parts)
      if (msg.find(p) == std::string::npos)
        return ::testing::AssertionFailure() << "the message does not mention '" << p << "':\n  "
                                             << msg;
    return ::testing::AssertionSuccess();
  } catch (const mlsys::Error& e) {
    mlsys::test::record_exact("error", std::string("mlsys::Error"));
    const std::string msg = e.what();
    for (const std::string& p : parts)
      if (msg.find(p) == std::string::npos)
        return ::testing::AssertionFailure() << "the message does not mention '" << p << "':\n  "
                                             << msg;
    return ::testing::AssertionSuccess();
  }
  mlsys::test::record_exact("error", std::string("none"));
  return ::testing::AssertionFailure() << "no mlsys::Error was thrown";
}

}  // namespace pa3test
