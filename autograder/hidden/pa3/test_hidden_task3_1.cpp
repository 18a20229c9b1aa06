// Hidden tests of PA3 Task 3.1: broadcast from another root and world size, and the per-tensor
// all-reduce at N = 4 against a float64 sum (the ring's order differs per chunk, hence the
// tolerance of Higham's bound on N - 1 float32 additions).
#include <cmath>

#include "dp_test_util.h"

namespace {

using dptest::tiny_config;
namespace rec = mlsys::test;

TEST(Hidden_Task3_1, BroadcastFromRankTwoOfFour) {
  const pa3::GPTConfig c = tiny_config(true, 1);
  std::vector<int64_t> bad(4, -1);
  pa3::run_ranks(4, [&](pa3::Communicator& comm) {
    pa3::GPTParams p = pa3::gpt_init(c, 7 + comm.rank());
    pa3::broadcast_params(comm, p.list(), 2);
    bad[comm.rank()] = dptest::bit_mismatches(dptest::flatten(p), dptest::flatten(pa3::gpt_init(c, 9)));
  });
  rec::record_exact("mismatches", bad);
  EXPECT_EQ(bad, (std::vector<int64_t>{0, 0, 0, 0}));
}

TEST(Hidden_Task3_1, AllReduceOfRealGradientsAtFourRanks) {
  const pa3::GPTConfig c = tiny_config();
  const int N = 4;
  std::vector<std::vector<float>> local(N), reduced(N);
  pa3::run_ranks(N, [&](pa3::Communicator& comm) {
    pa3::GPTParams p = pa3::gpt_init(c, 3);
    pa3::GPTParams g = pa3::gpt_zeros_like(p);
    pa3::GPTActs acts;
    const pa3::Batch b = pa3::batch_shard(
        pa3::global_batch(dptest::token_stream(3000, 7, 5), 0, 1, 8, 6), comm.rank(), N);
    pa3::gpt_forward(acts, p, c, b.inputs, b.targets);
    pa3::gpt_backward(g, acts, p, c, b.inputs, b.targets, 1.0f / 48.0f);
    local[comm.rank()] = dptest::flatten(g);
    std::vector<bool> trainable(g.list().size(), true);
    trainable[1] = false;  // wpe is not communicated
    pa3::all_reduce_gradients(comm, g.list(), trainable);
    reduced[comm.rank()] = dptest::flatten(g);
  });
  const int64_t wpe_begin = 8 * 8, wpe_end = wpe_begin + 6 * 8;
  int64_t bad = 0;
  for (size_t i = 0; i < local[0].size(); ++i) {
    double sum = 0, mag = 0;
    for (int r = 0; r < N; ++r) sum += local[r][i], mag += std::fabs(local[r][i]);
    for (int r = 0; r < N; ++r) {
      const bool wpe = int64_t(i) >= wpe_begin && int64_t(i) < wpe_end;
      if (wpe) {
        bad += reduced[r][i] != local[r][i];
      } else {
        bad += std::fabs(reduced[r][i] - sum) > 1.01 * (N - 1) * std::ldexp(1.0, -24) * mag;
        bad += dptest::bit_mismatches({reduced[r][i]}, {reduced[0][i]});
      }
    }
  }
  rec::record_exact("bad_elements", bad);
  rec::record("reduced", dptest::as_tensor(reduced[1]), 1e-5, 1e-7);
  EXPECT_EQ(bad, 0);
}

}  // namespace
