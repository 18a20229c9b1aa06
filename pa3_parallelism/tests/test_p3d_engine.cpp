// The given engine of PA3 Task 7 (src/p3d/engine3d.cpp): bad options and batches are clear
// mlsys::Errors naming the argument, raised before any student code runs. Not graded.
#include "p3d_test_util.h"

namespace {

TEST(Parallel3DEngine, BadOptionsNameTheArgument) {
  const pa3::GPTConfig c = p3dtest::config();
  auto message = [&](pa3::Options3D o, int world, int64_t B) {
    std::string what;
    try {
      pa3::run_ranks(world, [&](pa3::Communicator& w) {
        pa3::Parallel3D model(w, c, o);
        model.step(pa3::global_batch(p3dtest::tokens(), 0, 42, B, 6));
      });
    } catch (const std::exception& e) {
      what = e.what();
    }
    return what;
  };
  const std::string grid = message(p3dtest::options(2, 2, 1), 2, 8);
  EXPECT_NE(grid.find("options.grid"), std::string::npos) << grid;
  const std::string rows = message(p3dtest::options(2, 1, 1, 3), 2, 8);
  EXPECT_NE(rows.find("dp * num_micro = 6"), std::string::npos) << rows;
  pa3::Options3D split = p3dtest::options(1, 1, 2);
  split.stage_layers = {3, 2};
  const std::string layers = message(split, 2, 8);
  EXPECT_NE(layers.find("stage_layers"), std::string::npos) << layers;
  const std::string sched = message(p3dtest::options(1, 1, 2, 1, "zigzag"), 2, 8);
  EXPECT_NE(sched.find("zigzag"), std::string::npos) << sched;
}

}  // namespace
