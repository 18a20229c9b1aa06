// PA3 Task 8.3 hidden tests — the ZeRO paper's Table 1 (Rajbhandari et al. 2020: per-device
// model-state memory in GB of 7.5B, 128B and 1T models for N_d = 4 ... 1024, mixed-precision
// Adam, K = 12) and other layouts.
#include "cost_test_util.h"

namespace {

using costtest::expect_rel;

// Table 1, by the formulas (16 Psi; 4 Psi + 12 Psi / N_d; 2 Psi + 14 Psi / N_d; 16 Psi / N_d),
// each also within the published rounding:
//   7.5B, N_d 4:     52.5, 41.25 ("41.3"), 30
//   128B, N_d 1024:  2048; 513.5 ("513"); 257.75 ("258"); 2
//   1T,   N_d 1024:  16000; 4011.71875 ("4011"); 2013.671875 ("2013"); 15.625 ("15.6")
TEST(Task8_3_HiddenMemory, ZeroPaperTable1) {
  const pa3::StateBytes b = pa3::kMixedPrecisionAdam;
  struct Row { int64_t psi; int dp; std::vector<double> gb; std::vector<double> published; };
  const std::vector<Row> rows = {
      {7500000000, 4, {120, 52.5, 41.25, 30}, {120, 52.5, 41.3, 30}},
      {128000000000, 1024, {2048, 513.5, 257.75, 2}, {2048, 513, 258, 2}},
      {1000000000000, 1024, {16000, 4011.71875, 2013.671875, 15.625}, {16000, 4011, 2013, 15.6}}};
  for (const Row& r : rows)
    for (int stage = 0; stage < 4; ++stage) {
      const double gb = pa3::memory_per_gpu(r.psi, {r.dp, 1, 1}, stage, b).total / 1e9;
      expect_rel(std::to_string(r.psi) + " N_d " + std::to_string(r.dp) + " stage " +
                     std::to_string(stage), gb, r.gb[stage]);
      EXPECT_NEAR(gb, r.published[stage], 1.0);
    }
}

// Llama 2 7B's 6,738,415,616 parameters, fp32 AdamW, tp 2 x pp 2 x dp 3 (P = 1,684,603,904):
//   stage 0: 16 P = 26,953,662,464      stage 1: 8 P + 8 P / 3 = 17,969,108,309.33
//   stage 2: 4 P + 12 P / 3 = 13,476,831,232      stage 3: 16 P / 3 = 8,984,554,154.67
TEST(Task8_3_HiddenMemory, Fp32AdamWOnAThreeDimensionalLayout) {
  const std::vector<double> want{26953662464.0, 17969108309.333332, 13476831232.0,
                                 8984554154.666666};
  for (int stage = 0; stage < 4; ++stage)
    expect_rel("stage " + std::to_string(stage),
               pa3::memory_per_gpu(6738415616, {3, 2, 2}, stage, pa3::kFp32AdamW).total,
               want[stage]);
  // bf16 weights and gradients with fp32 master weights and moments, parts at stage 2
  const pa3::ModelStateMemory m = pa3::memory_per_gpu(6738415616, {3, 2, 2}, 2, {2, 2, 12});
  expect_rel("weights", m.weights, 3369207808.0);
  expect_rel("grads", m.grads, 1123069269.3333333);
  expect_rel("optimizer", m.optimizer, 6738415616.0);
}

}  // namespace
