// PA3 Task 4.1 — ZeRO-1 and ZeRO-2 on the DataParallel trainer: equal to plain data
// parallelism bit for bit, identical replicas, tied and frozen parameters, the memory each rank
// holds against the ZeRO paper's formulas (fp32 AdamW: 4 bytes each of parameter, gradient, m,
// v per parameter) and the bytes each rank sends. Threads backend, N = 2, the 2-layer GPT of
// dp_test_util.h (Psi = 1936, no padding at N = 2).
#include "dp_test_util.h"

namespace {

using dptest::tiny_config;
using mlsys::Tensor;
namespace rec = mlsys::test;

using dptest::kBlock;
using dptest::kEmbedding;
using dptest::kPsi;
using dptest::Measured;
using dptest::measure;
using dptest::zero_options;

const std::vector<int32_t>& tokens() { return dptest::zero_tokens(); }

// ============================================================================================
// Task 4.1 — ZeRO-1 and ZeRO-2
// ============================================================================================

class Task4_1_Zero12 : public ::testing::TestWithParam<int> {};

TEST_P(Task4_1_Zero12, EqualsPlainDataParallelBitForBitWithIdenticalReplicas) {
  const int stage = GetParam();
  const pa3::GPTConfig c = tiny_config();
  std::vector<int64_t> counts, bad;
  // caps giving 1, 2 and 3 buckets (see the Task 3 tests for the tables)
  for (int64_t cap : {int64_t(4 * 1936), int64_t(4 * 1872), int64_t(4 * 900)}) {
    const dptest::DPRun dp = dptest::run_dp(2, c, zero_options(0, cap), 4, 8, 6, tokens());
    const dptest::DPRun z = dptest::run_dp(2, c, zero_options(stage, cap), 4, 8, 6, tokens());
    counts.push_back(static_cast<int64_t>(z.buckets.size()));
    int64_t b = 0;
    for (size_t s = 0; s < 4; ++s) b += dptest::bit_mismatches(z.params[s][0], dp.params[s][0]);
    bad.push_back(b);
    EXPECT_EQ(b, 0) << "cap " << cap;
    EXPECT_EQ(dptest::replica_mismatches(z), 0) << "cap " << cap;
    for (size_t s = 0; s < 4; ++s) EXPECT_EQ(z.losses[s][0], dp.losses[s][0]);
  }
  rec::record_exact("bucket_counts", counts);
  rec::record_exact("bit_mismatches_vs_dp", bad);
  EXPECT_EQ(counts, (std::vector<int64_t>{1, 2, 3}));
}

TEST_P(Task4_1_Zero12, TiedFrozenAndMicroBatchesMatchTheReference) {
  const int stage = GetParam();
  const pa3::GPTConfig c = tiny_config(true);
  pa3::DPOptions o = zero_options(stage, 4 * 300, 2);
  o.frozen = {"wpe", "h.1.mlp.c_fc.bias"};
  const dptest::DPRun z = dptest::run_dp(2, c, o, 3, 8, 6, tokens());
  const dptest::RefResult ref = dptest::reference_train(c, 2, 2, 3, 8, 6, tokens(), o.frozen);
  const int64_t bad = dptest::bit_mismatches(z.params.back()[1], ref.params);
  rec::record_exact("bit_mismatches", bad);
  rec::record_exact("replica_mismatches", dptest::replica_mismatches(z));
  rec::record("params", dptest::as_tensor(z.params.back()[0]), 1e-5, 1e-6);
  EXPECT_EQ(bad, 0);
  EXPECT_EQ(dptest::replica_mismatches(z), 0);
}

INSTANTIATE_TEST_SUITE_P(Stages, Task4_1_Zero12, ::testing::Values(1, 2),
                         [](const ::testing::TestParamInfo<int>& i) {
                           return "Zero" + std::to_string(i.param);
                         });

TEST(Task4_1_Zero12, MemoryPerRankMatchesTheZeroFormulas) {
  const int64_t N = 2;
  const Measured dp = measure(0), z1 = measure(1), z2 = measure(2);
  rec::record_exact("state_bytes", std::vector<int64_t>{dp.state, z1.state, z2.state});
  EXPECT_EQ(dp.state, 16 * kPsi);                     // params, grads, m, v
  EXPECT_EQ(z1.state, 8 * kPsi + 8 * kPsi / N);       // optimizer state sharded
  EXPECT_EQ(z2.state, 4 * kPsi + 12 * kPsi / N);      // gradients sharded too
  // nothing accumulates across steps, and ZeRO-2 gives its full gradient buffer back: what a
  // step leaves behind besides the model state (the activations) is the same for all three
  for (const Measured* m : {&dp, &z1, &z2}) EXPECT_EQ(m->step_growth, 0);
  EXPECT_EQ(z1.after_step, dp.after_step);
  EXPECT_EQ(z2.after_step, dp.after_step);
}

TEST(Task4_1_Zero12, BytesSentEqualPlainDataParallel) {
  const Measured dp = measure(0), z1 = measure(1), z2 = measure(2);
  rec::record_exact("bytes_sent", std::vector<int64_t>{dp.sent, z1.sent, z2.sent});
  // ring all-reduce of every bucket: 2 (N-1)/N * 4 Psi at N = 2
  EXPECT_EQ(dp.sent, 4 * kPsi);
  // reduce-scatter + all-gather of every bucket: the same bytes (the ZeRO paper's 2 Psi)
  EXPECT_EQ(z1.sent, dp.sent);
  EXPECT_EQ(z2.sent, dp.sent);
}

}  // namespace
