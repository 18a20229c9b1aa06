// PA3 Task 7.2 — the 3D step: every layout of 8 ranks trains like one process. Threads backend,
// a 4-layer GPT with C = 16 and 8 heads (p3d_test_util.h). The expected parameters come from
// the one-process reference in p3d_test_util.h (gpt.h's layer functions and AdamW only), or from
// train_single.
#include <iostream>

#include "p3d_test_util.h"

namespace {

using mlsys::Tensor;
namespace rec = mlsys::test;

// Every way of writing 8 = DP x TP x PP with PP <= 4 (the model has 4 layers), with both
// schedules among them.
TEST(Task7_2_Layouts, EveryLayoutOfEightTrainsTwentyStepsLikeOneProcess) {
  const std::vector<p3dtest::Layout> layouts = {
      {8, 1, 1, "1f1b"}, {1, 8, 1, "1f1b"}, {4, 1, 2, "1f1b"}, {2, 1, 4, "gpipe"},
      {2, 2, 2, "1f1b"}, {4, 2, 1, "gpipe"}, {2, 4, 1, "1f1b"},
      {1, 4, 2, "gpipe"}, {1, 2, 4, "1f1b"}};
  p3dtest::check_layouts(p3dtest::config(), layouts, 20, 16, 6);
}

TEST(Task7_2_Layouts, OneRankIsTrainSingle) {
  const pa3::GPTConfig c = p3dtest::config();
  const pa3::Options3D o = p3dtest::options(1, 1, 1, 3);
  const p3dtest::Run run = p3dtest::run_layout(c, o, 5, 12, 6);
  pa3::TrainOptions t;
  t.steps = 5;
  t.batch_size = 12;
  t.seq_len = 6;
  t.num_micro = 3;
  const pa3::TrainResult single = pa3::train_single(c, t, p3dtest::tokens());
  const int64_t bad = p3dtest::bit_mismatches(run.params[0], p3dtest::flatten(single.params));
  EXPECT_EQ(bad, 0);
  rec::record_exact("bit_mismatches_vs_train_single", bad);
  for (int64_t s = 0; s < 5; ++s) EXPECT_EQ(run.losses[s][0], single.losses[s]) << s;
  rec::record_value("loss4", run.losses[4][0], 1e-6, 1e-6);
}

TEST(Task7_2_Layouts, TiedEmbeddingCopiesStayIdentical) {
  const pa3::GPTConfig c = p3dtest::config(true);
  const pa3::Options3D o = p3dtest::options(2, 1, 2, 2, "gpipe");
  const p3dtest::Run run = p3dtest::run_layout(c, o, 5, 8, 6);
  const p3dtest::Reference ref = p3dtest::reference_3d(c, o, 5, 8, 6);
  const int64_t bad = p3dtest::bit_mismatches(run.params[0], ref.params);
  EXPECT_EQ(bad, 0) << "2x1x2 tied vs the one-process reference";
  // ranks 0..3 = (dp, pp): stage 0 holds wte, stage 1 its copy: all four the same bits
  int64_t copies = 0;
  for (int r = 1; r < 4; ++r) copies += p3dtest::bit_mismatches(run.tied_copies[0], run.tied_copies[r]);
  EXPECT_EQ(copies, 0) << "the tied copies drifted apart";
  EXPECT_EQ(run.tied_copies[0].size(), 8u * 16u);
  rec::record_exact("bit_mismatches", bad);
  rec::record_exact("copy_mismatches", copies);
}

TEST(Task7_2_Layouts, UnevenStagesAndOddMicroBatches) {
  const pa3::GPTConfig c = p3dtest::config();
  pa3::Options3D o = p3dtest::options(1, 1, 3, 3, "1f1b");
  o.stage_layers = {2, 1, 1};
  const p3dtest::Run run = p3dtest::run_layout(c, o, 4, 9, 6);
  const p3dtest::Reference ref = p3dtest::reference_3d(c, o, 4, 9, 6);
  const int64_t bad = p3dtest::bit_mismatches(run.params[0], ref.params);
  EXPECT_EQ(bad, 0);
  rec::record_exact("bit_mismatches", bad);
  for (int64_t s = 0; s < 4; ++s) EXPECT_NEAR(run.losses[s][2], ref.losses[s], 1e-6) << s;
}

// The DP sync happens once per step, after the flush: the bytes sent on grid.dp() do not depend
// on m, and equal one reduce-scatter + all-gather of every bucket (plus one double for the
// loss). The pipeline sends m activations and m gradients of [B/(DP m), T, C] per boundary.
TEST(Task7_2_Layouts, OneSyncPerStepAfterTheFlush) {
  const pa3::GPTConfig c = p3dtest::config();
  const int64_t B = 12, T = 6;
  for (int64_t m : {1, 3}) {
    const pa3::Options3D o = p3dtest::options(2, 1, 2, m, "1f1b");
    std::vector<int64_t> dp_bytes(4), dp_expected(4), pp_bytes(4), pp_expected(4);
    pa3::run_ranks(4, [&](pa3::Communicator& world) {
      pa3::Parallel3D model(world, c, o);
      model.grid().dp().reset_stats();
      model.grid().pp().reset_stats();
      model.step(pa3::global_batch(p3dtest::tokens(), 0, 42, B, T));
      const int r = world.rank();
      const pa3::CommStats dp = model.grid().dp().stats(), pp = model.grid().pp().stats();
      dp_bytes[r] = int64_t(dp.sent.bytes - dp.sent_in_scope("loss").bytes);
      pp_bytes[r] = int64_t(pp.sent.bytes - pp.sent_in_scope("loss").bytes);
      int64_t want = 0;
      for (const pa3::Bucket3D& b : model.buckets()) {
        const int d = model.grid().coord().dp;
        want += 4 * (2 * b.padded - pa3::chunk_of(b.padded, 2, d).size -
                     pa3::chunk_of(b.padded, 2, (d + 1) % 2).size);
      }
      dp_expected[r] = want;
      pp_expected[r] = m * 4 * (B / 2 / m) * T * c.n_embd;  // one direction per stage
    });
    for (int r = 0; r < 4; ++r) {
      EXPECT_EQ(dp_bytes[r], dp_expected[r]) << "m = " << m << ", rank " << r;
      EXPECT_EQ(pp_bytes[r], pp_expected[r]) << "m = " << m << ", rank " << r;
    }
    rec::record_exact("dp_bytes m" + std::to_string(m), dp_bytes);
    rec::record_exact("pp_bytes m" + std::to_string(m), pp_bytes);
  }
}

}  // namespace
