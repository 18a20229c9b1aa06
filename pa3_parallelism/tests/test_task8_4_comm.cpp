// PA3 Task 8.4 — bytes each GPU sends per optimizer step (pa3_parallelism/src/cost_model.cpp:
// dp_comm_bytes, tp_comm_bytes, pp_comm_bytes). Against the ring costs of handouts/pa3.md §3.3,
// the ZeRO paper's 2 Psi / 3 Psi (Rajbhandari et al. 2020, §7), Megatron's 8 b s h (t-1)/t per
// layer and micro-batch (Narayanan et al. 2021, §3.3) and PA3's own measured traffic (Tasks
// 3-4: 2 (N-1)/N * 4 Psi bytes per step), each derived by hand below.
#include "cost_test_util.h"

namespace {

namespace rec = mlsys::test;
using costtest::expect_rel;
using costtest::expect_zero;
using costtest::throws_error_with;

// Psi = 7.5e9, N_d = 64, 2-byte gradients and weights:
//   stage 0:    all-reduce 2 * 63/64 * 7.5e9 * 2 bytes = 29,531,250,000 (2 Psi values)
//   stages 1-2: reduce-scatter + all-gather 63/64 * 7.5e9 * (2 + 2) = the same
//   stage 3:    63/64 * 7.5e9 * (2 * 2 + 2) = 44,296,875,000 (3 Psi values: 1.5x)
// Gradients reduced in fp32 (4 bytes) with 2-byte weights: stages 1-2 send 63/64 * 7.5e9 * 6,
//   also 44,296,875,000.
// and with 4 micro-batches stage 3 gathers 4 times as often: 63/64 * 7.5e9 * (8 * 2 + 2)
//   = 132,890,625,000, while stages 0-2 still communicate once.
TEST(Task8_4_Comm, DataParallelRingAndZero) {
  const pa3::GridShape layout{64, 1, 1};
  const pa3::StateBytes b = pa3::kMixedPrecisionAdam;
  pa3::StepShape one, four;
  four.micro_batches = 4;
  expect_rel("stage 0", pa3::dp_comm_bytes(7500000000, layout, 0, b, one), 29531250000.0);
  expect_rel("stage 1", pa3::dp_comm_bytes(7500000000, layout, 1, b, one), 29531250000.0);
  expect_rel("stage 2", pa3::dp_comm_bytes(7500000000, layout, 2, b, four), 29531250000.0);
  expect_rel("stage 3", pa3::dp_comm_bytes(7500000000, layout, 3, b, one), 44296875000.0);
  expect_rel("stage 3, m 4", pa3::dp_comm_bytes(7500000000, layout, 3, b, four),
             132890625000.0);
  // fp32 gradients (4 bytes) with 2-byte gathered weights: 63/64 * 7.5e9 * (4 + 2) at stages 1-2
  expect_rel("stage 1, fp32 grads", pa3::dp_comm_bytes(7500000000, layout, 1, {2, 4, 12}, one),
             44296875000.0);
  // one data-parallel rank sends nothing
  expect_zero("dp 1", pa3::dp_comm_bytes(7500000000, {1, 1, 1}, 3, b, one));
}

// PA3's trainer: fp32 (4-byte) gradients and weights, Psi = 1936, N = 2: the Task 3-4 tests
// measure 2 * 1/2 * 4 * 1936 = 7744 bytes per rank per step for DP, ZeRO-1 and ZeRO-2.
// Split over tp 2 x pp 2 at dp 4 (P = 484): stage 0 sends 2 * 3/4 * 484 * 4 = 2904 bytes.
TEST(Task8_4_Comm, Pa3TrainerAndModelParallelShards) {
  const pa3::StepShape step;
  std::vector<double> bytes;
  for (int stage = 0; stage < 3; ++stage)
    bytes.push_back(pa3::dp_comm_bytes(1936, {2, 1, 1}, stage, pa3::kFp32AdamW, step));
  expect_rel("stage 0", bytes[0], 7744);
  expect_rel("stage 1", bytes[1], 7744);
  expect_rel("stage 2", bytes[2], 7744);
  expect_rel("tp 2 x pp 2, dp 4", pa3::dp_comm_bytes(1936, {4, 2, 2}, 0, pa3::kFp32AdamW, step),
             2904);
}

// Llama 2 7B (L 32, s 4096, d 4096) with b = 4, m = 8 micro-batches, 2-byte activations,
// tp 8 x pp 4 (8 blocks per rank): per block and micro-batch 4 all-reduces of b s d =
// 67,108,864 values, each sending 2 * 7/8 of them: 8 * 7/8 * 67,108,864 = 469,762,048 values;
// times 8 blocks * 8 micro-batches * 2 bytes = 60,129,542,144 bytes. tp 1 sends nothing;
// tp 2 x pp 1: 8 * 1/2 * 67,108,864 * 32 * 8 * 2 = 137,438,953,472.
TEST(Task8_4_Comm, TensorParallelMegatron) {
  pa3::StepShape step;
  step.micro_batch = 4;
  step.micro_batches = 8;
  step.activation_bytes = 2;
  const pa3::TransformerShape s = costtest::llama2_7b();
  expect_rel("tp 8 x pp 4", pa3::tp_comm_bytes(s, {1, 8, 4}, step), 60129542144.0);
  expect_rel("tp 2 x pp 1", pa3::tp_comm_bytes(s, {4, 2, 1}, step), 137438953472.0);
  expect_zero("tp 1", pa3::tp_comm_bytes(s, {8, 1, 4}, step));
  EXPECT_TRUE(throws_error_with([&] { pa3::tp_comm_bytes(s, {1, 2, 3}, step); },
                                {"tp_comm_bytes", "pp", "3", "32"}));
}

// Same step on pp 4: one activation [b, s, d] = 67,108,864 values of 2 bytes per micro-batch
// and direction: 8 * 134,217,728 = 1,073,741,824 bytes per direction. The first stage sends
// activations only, the last gradients only, the middle ones both.
TEST(Task8_4_Comm, PipelineStagesSendActivationsAndGradients) {
  pa3::StepShape step;
  step.micro_batch = 4;
  step.micro_batches = 8;
  const pa3::TransformerShape s = costtest::llama2_7b();
  std::vector<double> bytes;
  for (int stage = 0; stage < 4; ++stage) bytes.push_back(pa3::pp_comm_bytes(s, {1, 8, 4}, step, stage));
  expect_rel("stage 0", bytes[0], 1073741824.0);
  expect_rel("stage 1", bytes[1], 2147483648.0);
  expect_rel("stage 2", bytes[2], 2147483648.0);
  expect_rel("stage 3", bytes[3], 1073741824.0);
  expect_zero("pp 1", pa3::pp_comm_bytes(s, {8, 1, 1}, step, 0));
  EXPECT_TRUE(throws_error_with([&] { pa3::pp_comm_bytes(s, {1, 1, 4}, step, 4); },
                                {"pp_comm_bytes", "stage", "4"}));
}

}  // namespace
