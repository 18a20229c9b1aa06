// PA3 Task 8.4 hidden tests — communication on other layouts: a data-parallel group of 3,
// ZeRO-3 with 5 micro-batches, tp 3, pp 5.
#include "cost_test_util.h"

namespace {

using costtest::expect_rel;

// Psi = 1,000,000, dp 3, tp 1 x pp 1, fp32 (4 + 4 bytes), 5 micro-batches:
//   stage 0: 2 * 2/3 * 1e6 * 4 = 5,333,333.33;  stages 1-2: 2/3 * 1e6 * 8 = the same;
//   stage 3: 2/3 * 1e6 * (2 * 5 * 4 + 4) = 29,333,333.33.
// Mixed 2-byte weights and 4-byte gradients (fp32 gradient reduction), stage 1, dp 3:
//   2/3 * 1e6 * (4 + 2) = 4,000,000.
TEST(Task8_4_HiddenComm, DataParallelGroupOfThree) {
  pa3::StepShape step;
  step.micro_batches = 5;
  const std::vector<double> want{5333333.333333333, 5333333.333333333, 5333333.333333333,
                                 29333333.333333332};
  for (int stage = 0; stage < 4; ++stage)
    expect_rel("stage " + std::to_string(stage),
               pa3::dp_comm_bytes(1000000, {3, 1, 1}, stage, pa3::kFp32AdamW, step),
               want[stage]);
  expect_rel("grads 4, weights 2",
             pa3::dp_comm_bytes(1000000, {3, 1, 1}, 1, {2, 4, 12}, step), 4000000.0);
}

// A 10-layer GPT-2-style shape (d 96, s 64), b 3, m 2, fp32 activations, tp 3 x pp 5 (2
// blocks per rank): TP 8 * 2/3 * (3 * 64 * 96 = 18,432 values) * 2 blocks * 2 micro-batches
// * 4 bytes = 1,572,864 bytes; PP stages 0..4:
// one [3, 64, 96] tensor = 18,432 values * 4 bytes * 2 micro-batches = 147,456 per direction:
// 147,456, 294,912, 294,912, 294,912, 147,456.
TEST(Task8_4_HiddenComm, TensorThreeByPipelineFive) {
  const pa3::TransformerShape s = pa3::gpt_shape(100, 96, 10, 4, 384, 64, true);
  pa3::StepShape step;
  step.micro_batch = 3;
  step.micro_batches = 2;
  step.activation_bytes = 4;
  expect_rel("tp", pa3::tp_comm_bytes(s, {1, 3, 5}, step), 1572864.0);
  const std::vector<double> want{147456, 294912, 294912, 294912, 147456};
  for (int stage = 0; stage < 5; ++stage)
    expect_rel("pp stage " + std::to_string(stage), pa3::pp_comm_bytes(s, {1, 3, 5}, step, stage),
               want[stage]);
}

}  // namespace
