// Hidden tests of PA3 Task 3.3: other world sizes (3 and 4), odd micro-batch counts, other
// bucket caps. The reference is train_single (pa3/train.h, given code) with num_shards = N and
// num_micro = m: bit for bit at N = 2. For N > 2 the ring adds the N partial gradients of each
// element in an order that depends on the element's chunk, so the result is compared with
// train_single's rank-ordered sums within a tolerance (see below); replicas must still agree
// bit for bit.
#include <algorithm>
#include <cmath>

#include "dp_test_util.h"

namespace {

using dptest::tiny_config;
namespace rec = mlsys::test;

const std::vector<int32_t>& tokens() {
  static const std::vector<int32_t> t = dptest::token_stream(5000, 7, 11);
  return t;
}

pa3::DPOptions options(int64_t cap, int64_t m) {
  pa3::DPOptions o;
  o.bucket_cap_bytes = cap;
  o.num_micro = m;
  return o;
}

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  double d = 0;
  for (size_t i = 0; i < a.size(); ++i) d = std::max(d, std::fabs(double(a[i]) - double(b[i])));
  return d;
}

// Tolerance for N > 2 (handouts/pa3.md §5): the gradients differ from the rank-ordered sum by
// a few float32 roundings, which AdamW turns into parameter differences of the order of lr * u
// per step; on these configurations the largest difference after 4-6 steps is 1.4e-7 (the
// losses are equal on the reference). The tolerance is 1e-5, for parameters and losses,
// while a lost rank, a dropped micro-batch or a bucket reduced twice changes the first step's
// update by ~lr = 1e-3. (AdamW being nearly scale-invariant, gradients scaled by N instead of
// 1/N move the parameters by only 2e-4 to 3e-4 here, still 20 times the tolerance; the N = 2
// test, which is bit-exact, catches any wrong scale.)
constexpr double kTolerance = 1e-5;

TEST(Hidden_Task3_3, FourRanksWithinTheStatedToleranceAndIdenticalReplicas) {
  const pa3::GPTConfig c = tiny_config();
  const int64_t steps = 6;
  const dptest::DPRun run = dptest::run_dp(4, c, options(4 * 900, 1), steps, 8, 6, tokens());
  const pa3::TrainResult ref = dptest::train_single_shards(c, 4, 1, steps, 8, 6, tokens());
  const double d = max_abs_diff(run.params.back()[0], dptest::flatten(ref.params));
  rec::record_exact("replica_mismatches", dptest::replica_mismatches(run));
  rec::record("params", dptest::as_tensor(run.params.back()[2]), 0, kTolerance);
  EXPECT_EQ(dptest::replica_mismatches(run), 0);
  EXPECT_LE(d, kTolerance);
  for (int64_t s = 0; s < steps; ++s) EXPECT_NEAR(run.losses[s][3], ref.losses[s], kTolerance);
}

TEST(Hidden_Task3_3, ThreeRanksOddMicroBatchesTinyCap) {
  const pa3::GPTConfig c = tiny_config(true);
  const int64_t steps = 4;
  const dptest::DPRun run = dptest::run_dp(3, c, options(1, 3), steps, 9, 6, tokens());
  const pa3::TrainResult ref = dptest::train_single_shards(c, 3, 3, steps, 9, 6, tokens());
  rec::record_exact("buckets", static_cast<int64_t>(run.buckets.size()));
  rec::record_exact("replica_mismatches", dptest::replica_mismatches(run));
  rec::record("params", dptest::as_tensor(run.params.back()[1]), 0, kTolerance);
  EXPECT_EQ(run.buckets.size(), 2u + 12u * 2u + 2u);  // one per parameter (tied: no lm_head)
  EXPECT_EQ(dptest::replica_mismatches(run), 0);
  EXPECT_LE(max_abs_diff(run.params.back()[1], dptest::flatten(ref.params)), kTolerance);
  for (int64_t s = 0; s < steps; ++s) EXPECT_NEAR(run.losses[s][0], ref.losses[s], kTolerance);
}

TEST(Hidden_Task3_3, TwoRanksFiveMicroBatchesBitForBitAnyCap) {
  const pa3::GPTConfig c = tiny_config(false, 3);
  const pa3::TrainResult ref = dptest::train_single_shards(c, 2, 5, 3, 10, 5, tokens());
  std::vector<int64_t> bad, bad_losses;
  for (int64_t cap : {int64_t(1), int64_t(4 * 500), int64_t(1) << 30}) {
    const dptest::DPRun run = dptest::run_dp(2, c, options(cap, 5), 3, 10, 5, tokens());
    bad.push_back(dptest::bit_mismatches(run.params.back()[0], dptest::flatten(ref.params)));
    std::vector<float> losses;  // rank 1's, one per step
    for (const std::vector<float>& step : run.losses) losses.push_back(step[1]);
    bad_losses.push_back(dptest::bit_mismatches(losses, ref.losses));
  }
  rec::record_exact("bit_mismatches", bad);
  rec::record_exact("loss_bit_mismatches", bad_losses);
  EXPECT_EQ(bad, (std::vector<int64_t>{0, 0, 0})) << "parameters vs train_single (num_shards = 2)";
  EXPECT_EQ(bad_losses, (std::vector<int64_t>{0, 0, 0})) << "losses vs train_single (num_shards = 2)";
}

TEST(Hidden_Task3_3, TrafficAtThreeRanksIsTheRingFormulaPerBucket) {
  const pa3::GPTConfig c = tiny_config();
  // one bucket of 1936 elements, padded to 1938 = 3 * 646: 2 (N-1)/N * 1938 elements per rank
  std::vector<int64_t> sent(3);
  pa3::run_ranks(3, [&](pa3::Communicator& comm) {
    pa3::DataParallel dp(comm, c, options(int64_t(1) << 30, 1));
    comm.reset_stats();
    dp.step(pa3::global_batch(tokens(), 0, 42, 6, 6));
    const pa3::CommStats st = comm.stats();
    sent[comm.rank()] = int64_t(st.sent.bytes - st.sent_in_scope("loss").bytes);
  });
  rec::record_exact("sent", sent);
  EXPECT_EQ(sent, (std::vector<int64_t>{4 * 2584, 4 * 2584, 4 * 2584}));
}

}  // namespace
