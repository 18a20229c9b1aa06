// PA3 Task 8.3 — model-state memory per GPU for a dp x tp x pp layout and ZeRO stages 0-3
// (pa3_parallelism/src/cost_model.cpp: memory_per_gpu). Against the ZeRO paper's example
// (Rajbhandari et al. 2020, §1 and Figure 1: 7.5B parameters, N_d = 64, K = 12), PA3's own
// ZeRO formulas of Task 4 (handouts/pa3.md#task-4) and values derived by hand below.
#include "cost_test_util.h"

namespace {

namespace rec = mlsys::test;
using costtest::expect_rel;
using costtest::throws_error_with;

void expect_memory(const std::string& label, const pa3::ModelStateMemory& m, double weights,
                   double grads, double optimizer, double total) {
  expect_rel(label + " weights", m.weights, weights);
  expect_rel(label + " grads", m.grads, grads);
  expect_rel(label + " optimizer", m.optimizer, optimizer);
  expect_rel(label + " total", m.total, total);
}

// The ZeRO paper: Psi = 7.5e9, mixed-precision Adam (2 + 2 + 12 bytes), N_d = 64:
//   baseline   (2 + 2 + 12) Psi           = 120 GB
//   P_os       2 Psi + 2 Psi + 12 Psi / 64 = 15 + 15 + 1.40625     = 31.40625 GB  ("31.4 GB")
//   P_os+g     2 Psi + (2 + 12) Psi / 64   = 15 + 0.234375 + 1.40625 = 16.640625 GB ("16.6 GB")
//   P_os+g+p   16 Psi / 64                 = 1.875 GB                              ("1.9 GB")
TEST(Task8_3_Memory, ZeroPaperExample) {
  const pa3::GridShape layout{64, 1, 1};
  const int64_t psi = 7500000000;
  const pa3::StateBytes b = pa3::kMixedPrecisionAdam;
  expect_memory("stage 0", pa3::memory_per_gpu(psi, layout, 0, b), 15e9, 15e9, 90e9, 120e9);
  expect_memory("stage 1", pa3::memory_per_gpu(psi, layout, 1, b), 15e9, 15e9, 1.40625e9,
                31.40625e9);
  expect_memory("stage 2", pa3::memory_per_gpu(psi, layout, 2, b), 15e9, 0.234375e9,
                1.40625e9, 16.640625e9);
  expect_memory("stage 3", pa3::memory_per_gpu(psi, layout, 3, b), 0.234375e9, 0.234375e9,
                1.40625e9, 1.875e9);
  // and the paper's rounded figures, in GB
  const std::vector<double> published{120, 31.4, 16.6, 1.9};
  for (int stage = 0; stage < 4; ++stage)
    EXPECT_NEAR(pa3::memory_per_gpu(psi, layout, stage, b).total / 1e9, published[stage], 0.05);
}

// PA3's trainer (fp32 AdamW: 4 + 4 + 8 bytes) on the Task 4 model, Psi = 1936, N = 2: the
// handout's 16 Psi, 8 Psi + 8 Psi / N, 4 Psi + 12 Psi / N and 16 Psi / N bytes
// (30976, 23232, 19360, 15488), the amounts the Task 4 tests measure.
TEST(Task8_3_Memory, Pa3TrainerAtTwoRanks) {
  const pa3::GridShape layout{2, 1, 1};
  std::vector<double> totals;
  for (int stage = 0; stage < 4; ++stage)
    totals.push_back(pa3::memory_per_gpu(1936, layout, stage, pa3::kFp32AdamW).total);
  expect_rel("stage 0", totals[0], 30976);
  expect_rel("stage 1", totals[1], 23232);
  expect_rel("stage 2", totals[2], 19360);
  expect_rel("stage 3", totals[3], 15488);
}

// What each stage shards, Psi = 1000, dp = 4, 2 + 2 + 12 bytes:
//   stage 0 (2000, 2000, 12000)   1 (2000, 2000, 3000)   2 (2000, 500, 3000)   3 (500, 500, 3000)
// and with one data-parallel rank every stage holds the same 16000 bytes.
TEST(Task8_3_Memory, EachStageShardsOneMoreKindOfState) {
  const pa3::StateBytes b = pa3::kMixedPrecisionAdam;
  expect_memory("stage 0", pa3::memory_per_gpu(1000, {4, 1, 1}, 0, b), 2000, 2000, 12000, 16000);
  expect_memory("stage 1", pa3::memory_per_gpu(1000, {4, 1, 1}, 1, b), 2000, 2000, 3000, 7000);
  expect_memory("stage 2", pa3::memory_per_gpu(1000, {4, 1, 1}, 2, b), 2000, 500, 3000, 5500);
  expect_memory("stage 3", pa3::memory_per_gpu(1000, {4, 1, 1}, 3, b), 500, 500, 3000, 4000);
  for (int stage = 0; stage < 4; ++stage)
    expect_rel("dp 1, stage " + std::to_string(stage),
               pa3::memory_per_gpu(1000, {1, 1, 1}, stage, b).total, 16000);
}

// Model parallelism divides first: Psi = 7.5e9 on tp 8 x pp 4 -> P = 234,375,000 per GPU; then
// ZeRO-1 over dp 16: weights 2P = 468,750,000, grads 468,750,000, optimizer 12P / 16 =
// 175,781,250, total 1,113,281,250 bytes. Only tp * pp matters for the split: tp 4 x pp 8
// gives the same. fp32 AdamW, stage 3, dp 16, tp 2 x pp 1 on 1001 parameters (P = 500.5):
// 16 * 500.5 / 16 = 500.5 bytes (the model does not round).
TEST(Task8_3_Memory, ModelParallelismSplitsBeforeZeroShards) {
  const pa3::StateBytes b = pa3::kMixedPrecisionAdam;
  expect_memory("tp 8 x pp 4, dp 16, stage 1", pa3::memory_per_gpu(7500000000, {16, 8, 4}, 1, b),
                468750000, 468750000, 175781250, 1113281250);
  expect_rel("tp 4 x pp 8", pa3::memory_per_gpu(7500000000, {16, 4, 8}, 1, b).total, 1113281250);
  expect_rel("fp32, 1001 params", pa3::memory_per_gpu(1001, {16, 2, 1}, 3, pa3::kFp32AdamW).total,
             500.5);
  EXPECT_TRUE(throws_error_with([] { pa3::memory_per_gpu(10, {1, 1, 1}, 4, pa3::kFp32AdamW); },
                                {"memory_per_gpu", "zero_stage", "4"}));
  EXPECT_TRUE(throws_error_with([] { pa3::memory_per_gpu(10, {2, 0, 1}, 0, pa3::kFp32AdamW); },
                                {"memory_per_gpu", "layout", "2 x 0 x 1"}));
}

}  // namespace
