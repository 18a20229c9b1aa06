// PA3 Task 8.2 hidden tests — FLOPs of other models, GPT-3's training compute, Chinchilla.
#include "cost_test_util.h"

namespace {

namespace rec = mlsys::test;
using costtest::expect_rel;

// Llama 3 8B, s = 8192: N_mm = 6,979,584,000 + 4,096 + 525,336,576 = 7,504,924,672;
// forward = 15,009,849,344 + 2 * 32 * 8192 * 4096 (2,147,483,648) = 17,157,332,992;
// training = 51,471,998,976.
TEST(Task8_2_HiddenFlops, Llama3_8B) {
  const pa3::FlopsPerToken f = pa3::flops_per_token(costtest::llama3_8b());
  rec::record_exact("forward, training", std::vector<int64_t>{f.forward, f.training});
  EXPECT_EQ(f.forward, 17157332992);
  EXPECT_EQ(f.backward, 34314665984);
  EXPECT_EQ(f.training, 51471998976);
}

// GPT-3 175B (tied, s = 2048): N_mm = 173,961,510,912 + 24,576 + 617,558,016 = 174,579,093,504;
// forward = 349,158,187,008 + 2 * 96 * 2048 * 12288 (4,831,838,208) = 353,990,025,216;
// training = 1,061,970,075,648 per token. Brown et al. (Table D.1) report 3.14e23 training FLOPs
// for 300e9 tokens, counted as 6 N D without attention: 6 * 174.6e9 * 300e9 = 3.143e23 (within
// 0.2%); with attention the model says 3.186e23 (1.5% more).
TEST(Task8_2_HiddenFlops, Gpt3_175B_TrainingCompute) {
  const pa3::TransformerShape s = pa3::gpt_shape(50257, 12288, 96, 96, 49152, 2048, true);
  const pa3::FlopsPerToken f = pa3::flops_per_token(s);
  rec::record_exact("forward, training", std::vector<int64_t>{f.forward, f.training});
  EXPECT_EQ(f.forward, 353990025216);
  EXPECT_EQ(f.training, 1061970075648);
  const double total = static_cast<double>(f.training) * 300e9;
  expect_rel("training FLOPs for 300e9 tokens", total, 3.185910226944e23);
  EXPECT_NEAR(total / 3.14e23, 1.0, 0.02);
}

// Chinchilla (Hoffmann et al. 2022): Gopher's budget, 5.76e23 FLOPs, is best spent on
// N = sqrt(5.76e23 / 120) = 69,282,032,302.8 parameters and D = 1,385,640,646,055 tokens: the
// 70B model trained on 1.4T tokens (within 2%); and 6 N D gives the budget back.
TEST(Task8_2_HiddenFlops, ChinchillaFromGophersBudget) {
  const pa3::ComputeOptimal o = pa3::compute_optimal(5.76e23);
  expect_rel("N", o.params, 69282032302.7551);
  expect_rel("D", o.tokens, 1385640646055.102);
  expect_rel("C = 6 N D", 6.0 * o.params * o.tokens, 5.76e23);
  EXPECT_NEAR(o.params / 70e9, 1.0, 0.02);
  EXPECT_NEAR(o.tokens / 1.4e12, 1.0, 0.02);
  // the same budget at 40 tokens per parameter: N / sqrt(2), D * sqrt(2)
  const pa3::ComputeOptimal r = pa3::compute_optimal(5.76e23, 40.0);
  expect_rel("N at r = 40", r.params, 48989794855.66356);
  expect_rel("D at r = 40", r.tokens, 1959591794226.5425);
}

}  // namespace
