// PA3 Task 8.2 — FLOPs per training token (Kaplan et al. 2020) and the compute-optimal model
// for a FLOP budget (Hoffmann et al. 2022) (pa3_parallelism/src/cost_model.cpp:
// flops_per_token, compute_optimal). Expected values derived by hand from the formulas of
// handouts/pa3.md#task-82 and the published parameter counts.
#include "cost_test_util.h"

namespace {

namespace rec = mlsys::test;
using costtest::expect_rel;
using costtest::throws_error_with;

void record_flops(const pa3::FlopsPerToken& f) {
  rec::record_exact("forward, backward, training",
                    std::vector<int64_t>{f.forward, f.backward, f.training});
}

// Llama 2 7B, s = 4096. N_mm = blocks 6,476,267,520 + final norm 4,096 + LM head
// 32000 * 4096 = 131,072,000 -> 6,607,343,616 (the token embedding does no arithmetic).
//   forward  = 2 N_mm + 2 L s d = 13,214,687,232 + 2 * 32 * 4096 * 4096 (1,073,741,824)
//            = 14,288,429,056
//   backward = 28,576,858,112;  training = 42,865,287,168 (about 6 * 7.14e9).
TEST(Task8_2_Flops, Llama2_7B) {
  const pa3::FlopsPerToken f = pa3::flops_per_token(costtest::llama2_7b());
  record_flops(f);
  EXPECT_EQ(f.forward, 14288429056);
  EXPECT_EQ(f.backward, 28576858112);
  EXPECT_EQ(f.training, 42865287168);
}

// GPT-2 small, tied, s = 1024: the tied LM head is still a [V, d] matmul per token.
//   N_mm = blocks 12 * 7,087,872 + ln_f 1,536 + 50257 * 768 = 85,054,464 + 1,536 + 38,597,376
//        = 123,653,376 (the position embedding, 1024 * 768, does no arithmetic)
//   forward = 247,306,752 + 2 * 12 * 1024 * 768 (18,874,368) = 266,181,120; training 3x.
TEST(Task8_2_Flops, Gpt2Small_TiedHeadStillMultiplies) {
  const pa3::FlopsPerToken f = pa3::flops_per_token(costtest::gpt2_small());
  record_flops(f);
  EXPECT_EQ(f.forward, 266181120);
  EXPECT_EQ(f.backward, 532362240);
  EXPECT_EQ(f.training, 798543360);
}

// The shape of Task 8.1's EveryOptionByHand (total 1352): N_mm = blocks 1136 + final norm 16 +
// head 80 = 1232; forward = 2464 + 2 * 2 * 5 * 8 = 2624; training 7872. Tying the head leaves
// the FLOPs unchanged; a longer context adds 6 L d = 96 training FLOPs per extra position.
TEST(Task8_2_Flops, SmallShapeByHand) {
  pa3::TransformerShape s = pa3::llama_shape(10, 8, 2, 4, 2, 12, 5, false);
  s.norm = pa3::NormKind::LayerNorm;
  s.linear_bias = true;
  s.learned_positions = true;
  const pa3::FlopsPerToken f = pa3::flops_per_token(s);
  record_flops(f);
  EXPECT_EQ(f.forward, 2624);
  EXPECT_EQ(f.training, 7872);
  pa3::TransformerShape tied = s;
  tied.tied_embeddings = true;
  pa3::TransformerShape longer = s;
  longer.seq_len = 6;  // the position table grows too, but it does no arithmetic
  const std::vector<int64_t> training{pa3::flops_per_token(tied).training,
                                      pa3::flops_per_token(longer).training};
  rec::record_exact("tied, longer", training);
  EXPECT_EQ(training, (std::vector<int64_t>{7872, 7968}));
  EXPECT_TRUE(throws_error_with([&] { s.d_model = 9; pa3::flops_per_token(s); },
                                {"flops_per_token", "d_model", "9"}));
}

// C = 6 N D with D = 20 N: N = sqrt(C / 120). C = 1.2e21: N = sqrt(1e19) = 3,162,277,660.17,
// D = 63,245,553,203.4. With 10 tokens per parameter: N = sqrt(2e19) = 4,472,135,955.0,
// D = 44,721,359,550.0. Either way 6 N D gives C back.
TEST(Task8_2_Flops, ComputeOptimalSolvesSixNDWithTwentyTokensPerParameter) {
  const pa3::ComputeOptimal a = pa3::compute_optimal(1.2e21);
  expect_rel("N at 1.2e21", a.params, 3162277660.1683793);
  expect_rel("D at 1.2e21", a.tokens, 63245553203.367584);
  expect_rel("6 N D at 1.2e21", 6.0 * a.params * a.tokens, 1.2e21);
  const pa3::ComputeOptimal b = pa3::compute_optimal(1.2e21, 10.0);
  expect_rel("N at 1.2e21, r = 10", b.params, 4472135954.9995794);
  expect_rel("D at 1.2e21, r = 10", b.tokens, 44721359549.995794);
  // four times the compute: twice the parameters and twice the tokens
  const pa3::ComputeOptimal c = pa3::compute_optimal(4.8e21);
  expect_rel("N at 4.8e21 / N at 1.2e21", c.params / a.params, 2.0);
  expect_rel("D at 4.8e21 / D at 1.2e21", c.tokens / a.tokens, 2.0);
  EXPECT_TRUE(throws_error_with([] { pa3::compute_optimal(0.0); },
                                {"compute_optimal", "flops"}));
  EXPECT_TRUE(throws_error_with([] { pa3::compute_optimal(1e20, -1.0); },
                                {"compute_optimal", "tokens_per_param"}));
}

}  // namespace
