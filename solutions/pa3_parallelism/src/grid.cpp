// pa3_parallelism/src/grid.cpp — PA3 Task 2: the process grid.
// Edit only the marked regions; the rest is given.
//
// The layout is fixed (pa3/grid.h): tp varies fastest, then dp, then pp,
//
//   rank = tp + TP * (dp + DP * pp),
//
// and the tests compare every rank's coordinates, groups and pipeline neighbours with tables
// written out by hand. Bad input is an mlsys::Error (never NotImplemented, never a hang) whose
// message names the function ("grid_coord", "grid_rank" or "ProcessGrid"), the argument and the
// values expected and given, e.g.
//
//   pa3::grid_coord: argument 'rank' must be in [0, 8) for a grid of 2 x 2 x 2, got 8
//
// The tests check that the message contains the function's name and the offending numbers.
#include "pa3/grid.h"

#include <string>

#include "mlsys/error.h"

namespace pa3 {

// ============================================================================================
// Coordinates
// ============================================================================================
//
// grid_coord: rank -> (dp, tp, pp); grid_rank: (dp, tp, pp) -> rank. First check the input:
// every size of `shape` >= 1 (else mlsys::Error naming the function, 'shape' and the sizes),
// rank in [0, shape.world()) (naming 'rank', the range and the rank), each coordinate in
// [0, size) (naming 'coord', the axis, the range and the value). Then invert the layout
// formula with / and %.
GridCoord grid_coord(const GridShape& shape, int rank) {
  // BEGIN SOLUTION PA3 Task 2
  const std::string grid = std::to_string(shape.dp) + " x " + std::to_string(shape.tp) + " x " +
                           std::to_string(shape.pp);
  if (shape.dp < 1 || shape.tp < 1 || shape.pp < 1)
    throw mlsys::Error("pa3::grid_coord: argument 'shape' must have sizes >= 1, got dp x tp x pp = " +
                       grid);
  if (rank < 0 || rank >= shape.world())
    throw mlsys::Error("pa3::grid_coord: argument 'rank' must be in [0, " +
                       std::to_string(shape.world()) + ") for a grid of " + grid + ", got " +
                       std::to_string(rank));
  GridCoord c;
  c.tp = rank % shape.tp;
  c.dp = (rank / shape.tp) % shape.dp;
  c.pp = rank / (shape.tp * shape.dp);
  return c;
  // END SOLUTION
}

int grid_rank(const GridShape& shape, const GridCoord& coord) {
  // BEGIN SOLUTION PA3 Task 2
  const std::string grid = std::to_string(shape.dp) + " x " + std::to_string(shape.tp) + " x " +
                           std::to_string(shape.pp);
  if (shape.dp < 1 || shape.tp < 1 || shape.pp < 1)
    throw mlsys::Error("pa3::grid_rank: argument 'shape' must have sizes >= 1, got dp x tp x pp = " +
                       grid);
  auto check = [&](const char* axis, int value, int size) {
    if (value < 0 || value >= size)
      throw mlsys::Error(std::string("pa3::grid_rank: argument 'coord' has ") + axis + " = " +
                         std::to_string(value) + ", must be in [0, " + std::to_string(size) +
                         ") for a grid of " + grid);
  };
  check("dp", coord.dp, shape.dp);
  check("tp", coord.tp, shape.tp);
  check("pp", coord.pp, shape.pp);
  return coord.tp + shape.tp * (coord.dp + shape.dp * coord.pp);
  // END SOLUTION
}

// ============================================================================================
// The grid of one rank: groups and pipeline neighbours
// ============================================================================================
//
// Fill in every member of the class (grid.h): shape_, coord_, world_, dp_, tp_, pp_,
// prev_stage_rank_, next_stage_rank_.
//   1. Check that every size is >= 1 and that world.size() == shape.world(); otherwise throw
//      mlsys::Error naming "ProcessGrid", the grid's sizes, their product and world.size().
//      Every rank gets the same shape, so every rank throws: nobody is left waiting in split.
//   2. coord_ = grid_coord(shape, world.rank()).
//   3. Three calls of world.split(color, key), one per group, on every rank and in the same
//      order (split is collective): ranks with the same color form a group, ordered by key.
//      Color = a number that is the same exactly for the ranks that share the other two
//      coordinates; key = the coordinate along the group's own axis (so that dp_.rank() ==
//      coord_.dp, and so on).
//   4. prev/next stage: the world rank at (dp, tp, pp -/+ 1), or kNoRank past either end.
ProcessGrid::ProcessGrid(Communicator& world, const GridShape& shape) {
  // BEGIN SOLUTION PA3 Task 2
  if (shape.dp < 1 || shape.tp < 1 || shape.pp < 1 || world.size() != shape.world())
    throw mlsys::Error("pa3::ProcessGrid: a grid of dp x tp x pp = " + std::to_string(shape.dp) +
                       " x " + std::to_string(shape.tp) + " x " + std::to_string(shape.pp) +
                       " = " + std::to_string(shape.world()) +
                       " ranks (each size >= 1) must match the world's " +
                       std::to_string(world.size()) + " ranks");
  shape_ = shape;
  coord_ = grid_coord(shape, world.rank());
  world_ = world;
  const GridCoord c = coord_;
  tp_ = world.split(c.dp + shape.dp * c.pp, c.tp);  // same (dp, pp)
  dp_ = world.split(c.tp + shape.tp * c.pp, c.dp);  // same (tp, pp)
  pp_ = world.split(c.tp + shape.tp * c.dp, c.pp);  // same (dp, tp)
  if (c.pp > 0) prev_stage_rank_ = grid_rank(shape, {c.dp, c.tp, c.pp - 1});
  if (c.pp < shape.pp - 1) next_stage_rank_ = grid_rank(shape, {c.dp, c.tp, c.pp + 1});
  // END SOLUTION
}

}  // namespace pa3
