// Hidden tests of PA3 Task 4.1: ZeRO-1/2 at N = 3 and 4 (bit-exact with plain DP: the same
// buckets, reduce-scattered the way the all-reduce's first half does), memory with padding at
// N = 3, traffic at N = 3.
#include "dp_test_util.h"

namespace {

using dptest::tiny_config;
namespace rec = mlsys::test;

const std::vector<int32_t>& tokens() { return dptest::zero_tokens(); }

TEST(Hidden_Task4_1, FourRanksBitForBitWithDataParallel) {
  const pa3::GPTConfig c = tiny_config();
  const dptest::DPRun dp = dptest::run_dp(4, c, dptest::zero_options(0, 4 * 700), 3, 8, 6, tokens());
  std::vector<int64_t> bad;
  for (int stage : {1, 2}) {
    const dptest::DPRun z = dptest::run_dp(4, c, dptest::zero_options(stage, 4 * 700), 3, 8, 6, tokens());
    int64_t b = 0;
    for (size_t s = 0; s < 3; ++s) b += dptest::bit_mismatches(z.params[s][0], dp.params[s][0]);
    bad.push_back(b);
    EXPECT_EQ(dptest::replica_mismatches(z), 0);
  }
  rec::record_exact("bit_mismatches", bad);
  EXPECT_EQ(bad, (std::vector<int64_t>{0, 0}));
}

TEST(Hidden_Task4_1, ThreeRanksOddMicroBatchesTiedFrozen) {
  const pa3::GPTConfig c = tiny_config(true);
  for (int stage : {1, 2}) {
    pa3::DPOptions o = dptest::zero_options(stage, 4 * 250, 3);
    o.frozen = {"ln_f.bias"};
    pa3::DPOptions d = o;
    d.zero = 0;
    const dptest::DPRun z = dptest::run_dp(3, c, o, 3, 9, 6, tokens());
    const dptest::DPRun dp = dptest::run_dp(3, c, d, 3, 9, 6, tokens());
    const int64_t bad = dptest::bit_mismatches(z.params.back()[2], dp.params.back()[2]);
    rec::record_exact("stage" + std::to_string(stage), bad);
    EXPECT_EQ(bad, 0);
    EXPECT_EQ(dptest::replica_mismatches(z), 0);
  }
}

TEST(Hidden_Task4_1, MemoryAndTrafficWithPaddingAtThreeRanks) {
  // one bucket (cap 1 GiB): Psi = 1936 padded to 1938 = 3 * 646
  const int64_t cap = int64_t(1) << 30, P = 1938, S = 646;
  const dptest::Measured dp = dptest::measure(0, 3, cap), z1 = dptest::measure(1, 3, cap),
                         z2 = dptest::measure(2, 3, cap);
  rec::record_exact("state", std::vector<int64_t>{dp.state, z1.state, z2.state});
  rec::record_exact("sent", std::vector<int64_t>{dp.sent, z1.sent, z2.sent});
  EXPECT_EQ(dp.state, 16 * P);
  EXPECT_EQ(z1.state, 8 * P + 8 * S);
  EXPECT_EQ(z2.state, 4 * P + 12 * S);
  EXPECT_EQ(dp.sent, 4 * (2 * P - 2 * S));  // rank 0: 2n - |chunk 0| - |chunk 1|
  EXPECT_EQ(z1.sent, dp.sent);
  EXPECT_EQ(z2.sent, dp.sent);
}

}  // namespace
