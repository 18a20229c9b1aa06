// pa3/grid.h — PA3 Task 2: the 3D process grid (data x tensor x pipeline parallelism).
//
// A world of W = dp * tp * pp ranks is arranged as a grid. Every rank has coordinates
// (dp, tp, pp) and belongs to three groups, one along each axis:
//   TP group: the tp ranks with its (dp, pp)  — they hold the shards of one layer
//   DP group: the dp ranks with its (tp, pp)  — they hold replicas of the same shard
//   PP group: the pp ranks with its (dp, tp)  — stage 0, 1, ..., pp-1 of one pipeline
//
// Rank layout (Megatron-LM's order): tp varies fastest, then dp, then pp:
//
//   rank = tp + TP * (dp + DP * pp)          (TP, DP, PP: the grid's sizes)
//
// so the ranks of a TP group are consecutive (on one machine, on the fastest links). Example,
// W = 8 as DP = 2, TP = 2, PP = 2:
//
//   rank         0        1        2        3        4        5        6        7
//   (dp,tp,pp)   (0,0,0)  (0,1,0)  (1,0,0)  (1,1,0)  (0,0,1)  (0,1,1)  (1,0,1)  (1,1,1)
//   TP groups {0,1} {2,3} {4,5} {6,7};  DP groups {0,2} {1,3} {4,6} {5,7};
//   PP groups {0,4} {1,5} {2,6} {3,7}
#pragma once

#include "pa3/comm.h"

namespace pa3 {

// The grid's sizes along each axis; each >= 1.
struct GridShape {
  int dp = 1;
  int tp = 1;
  int pp = 1;
  int world() const { return dp * tp * pp; }
};

// A rank's coordinates: 0 <= dp < DP, 0 <= tp < TP, 0 <= pp < PP.
struct GridCoord {
  int dp = 0;
  int tp = 0;
  int pp = 0;
  bool operator==(const GridCoord& o) const { return dp == o.dp && tp == o.tp && pp == o.pp; }
  bool operator!=(const GridCoord& o) const { return !(*this == o); }
};

// "No such rank": the previous stage of stage 0 and the next stage of the last stage.
constexpr int kNoRank = -1;

// PA3 Task 2. The coordinates of `rank` in Megatron's order. Throws mlsys::Error when a size of
// `shape` is < 1 or rank is outside [0, shape.world()).
GridCoord grid_coord(const GridShape& shape, int rank);

// PA3 Task 2. The inverse: the rank at `coord`. Throws mlsys::Error when a size of `shape` is
// < 1 or a coordinate is out of its range.
int grid_rank(const GridShape& shape, const GridCoord& coord);

// One rank's view of the grid. Constructing it is collective over `world` (every rank must
// construct it with the same shape): it splits `world` into the three groups.
class ProcessGrid {
 public:
  // PA3 Task 2. Throws mlsys::Error when world.size() != shape.world() or a size is < 1.
  ProcessGrid(Communicator& world, const GridShape& shape);

  const GridShape& shape() const { return shape_; }
  const GridCoord& coord() const { return coord_; }

  // The groups. Within each, a rank's rank is its coordinate along that axis
  // (dp().rank() == coord().dp, and so on).
  Communicator& world() { return world_; }
  Communicator& dp() { return dp_; }
  Communicator& tp() { return tp_; }
  Communicator& pp() { return pp_; }

  // The world ranks of the previous and next pipeline stage of this rank (same dp and tp,
  // pp - 1 and pp + 1), or kNoRank at the ends of the pipeline.
  int prev_stage_rank() const { return prev_stage_rank_; }
  int next_stage_rank() const { return next_stage_rank_; }
  bool is_first_stage() const { return coord_.pp == 0; }
  bool is_last_stage() const { return coord_.pp == shape_.pp - 1; }

 private:
  GridShape shape_;
  GridCoord coord_;
  Communicator world_, dp_, tp_, pp_;
  int prev_stage_rank_ = kNoRank;
  int next_stage_rank_ = kNoRank;
};

}  // namespace pa3
