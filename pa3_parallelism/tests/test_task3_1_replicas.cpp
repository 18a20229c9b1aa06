// PA3 Task 3.1 — replicas: broadcast of the parameters and the per-tensor gradient all-reduce.
// Threads backend, a 2-layer GPT with C = 8. Expected values come from the single-process
// reference in dp_test_util.h (gpt_forward/gpt_backward + AdamW, per-rank gradients summed in
// rank order), from train_single, or from tables computed by hand from the parameter sizes.

#include "dp_test_util.h"

namespace {

using dptest::tiny_config;
using mlsys::Tensor;
namespace rec = mlsys::test;

const std::vector<int32_t>& tokens() {
  static const std::vector<int32_t> t = dptest::token_stream(4000, 7);
  return t;
}

// ============================================================================================
// Task 3.1
// ============================================================================================

TEST(Task3_1_Replicas, BroadcastMakesEveryRankRankZeros) {
  const pa3::GPTConfig c = tiny_config();
  std::vector<int64_t> mismatches(3, -1);
  pa3::run_ranks(3, [&](pa3::Communicator& comm) {
    pa3::GPTParams p = pa3::gpt_init(c, 100 + comm.rank());  // different on every rank
    pa3::broadcast_params(comm, p.list(), 0);
    mismatches[comm.rank()] = dptest::bit_mismatches(dptest::flatten(p),
                                                     dptest::flatten(pa3::gpt_init(c, 100)));
  });
  rec::record_exact("mismatches_vs_rank0", mismatches);
  EXPECT_EQ(mismatches, (std::vector<int64_t>{0, 0, 0}))
      << "per rank: parameters that differ from rank 0's initialization after "
         "broadcast_params(root 0); every tensor of the list must be broadcast";
}

TEST(Task3_1_Replicas, AllReduceSumsEachTrainableTensorAndSkipsFrozen) {
  const int N = 3;
  std::vector<std::vector<float>> out(N);
  std::vector<int64_t> sent(N);
  pa3::run_ranks(N, [&](pa3::Communicator& comm) {
    std::vector<pa3::NamedTensor> g = {
        {"a", mlsys::full({5}, float(comm.rank() + 1)), false},
        {"frozen", mlsys::full({4}, float(10 * (comm.rank() + 1))), false},
        {"b", mlsys::full({2, 3}, float(0.5 * (comm.rank() + 1))), true}};
    comm.reset_stats();
    pa3::all_reduce_gradients(comm, g, {true, false, true});
    sent[comm.rank()] = static_cast<int64_t>(comm.stats().sent.bytes);
    out[comm.rank()] = dptest::flatten_list_for_test(g);
  });
  // sums 1+2+3 = 6 and 0.5(1+2+3) = 3; the frozen tensor keeps each rank's own value
  for (int r = 0; r < N; ++r) {
    std::vector<float> expect(5, 6.f);
    for (int i = 0; i < 4; ++i) expect.push_back(float(10 * (r + 1)));
    for (int i = 0; i < 6; ++i) expect.push_back(3.f);
    EXPECT_EQ(out[r], expect) << "rank " << r << ": a and b must become the SUM over the 3 "
                              << "ranks (1+2+3 = 6 and 0.5(1+2+3) = 3, no division by N); the "
                              << "frozen tensor keeps the rank's own value (not communicated)";
  }
  // ring all-reduce per tensor: 2n - |chunk r| - |chunk r+1| elements (n = 5 and 6, p = 3)
  const std::vector<int64_t> chunk5 = {2, 2, 1}, chunk6 = {2, 2, 2};
  for (int r = 0; r < N; ++r) {
    const int64_t e = (10 - chunk5[r] - chunk5[(r + 1) % 3]) + (12 - chunk6[r] - chunk6[(r + 1) % 3]);
    EXPECT_EQ(sent[r], 4 * e) << "rank " << r << ": bytes sent; expected one native_all_reduce "
                              << "of each trainable tensor (5 and 6 floats), none of the frozen one";
  }
  rec::record("rank0_grads", dptest::as_tensor(out[0]), 0, 0);
  rec::record_exact("bytes_sent", sent);
}

// A data-parallel loop written here with Task 3.1 only: N = 2, 10 steps, B = 8, T = 6.
TEST(Task3_1_Replicas, TenStepsMatchTheRankOrderedReferenceBitForBit) {
  const pa3::GPTConfig c = tiny_config();
  const int N = 2;
  const int64_t B = 8, T = 6, steps = 10;
  std::vector<std::vector<float>> final(N);
  pa3::run_ranks(N, [&](pa3::Communicator& comm) {
    pa3::GPTParams p = pa3::gpt_init(c, 1337 + comm.rank());
    pa3::broadcast_params(comm, p.list(), 0);
    pa3::GPTParams g = pa3::gpt_zeros_like(p);
    pa3::AdamW opt(p.list(), pa3::AdamWConfig{});
    pa3::GPTActs acts;
    const std::vector<bool> trainable(p.list().size(), true);
    for (int64_t s = 0; s < steps; ++s) {
      const pa3::Batch mine = pa3::batch_shard(pa3::global_batch(tokens(), s, 42, B, T), comm.rank(), N);
      pa3::zero_grads(g);
      pa3::gpt_forward(acts, p, c, mine.inputs, mine.targets);
      pa3::gpt_backward(g, acts, p, c, mine.inputs, mine.targets, 1.0f / float(B * T));
      pa3::all_reduce_gradients(comm, g.list(), trainable);
      opt.step(g.list());
    }
    final[comm.rank()] = dptest::flatten(p);
  });
  const dptest::RefResult ref = dptest::reference_train(c, N, 1, steps, B, T, tokens());
  const int64_t bad0 = dptest::bit_mismatches(final[0], ref.params);
  const int64_t bad1 = dptest::bit_mismatches(final[1], ref.params);
  rec::record_exact("bit_mismatches", std::vector<int64_t>{bad0, bad1});
  rec::record("params", dptest::as_tensor(final[0]), 1e-5, 1e-6);
  const std::string hint =
      " of " + std::to_string(ref.params.size()) + " parameters differ (bitwise) from the "
      "reference after 10 steps: every trainable gradient must be the SUM over ranks (dloss "
      "already holds 1/(B T) of the global batch: no division by N), each tensor reduced once";
  EXPECT_EQ(bad0, 0) << "rank 0: " << bad0 << hint;
  EXPECT_EQ(bad1, 0) << "rank 1: " << bad1 << hint;
}

}  // namespace
