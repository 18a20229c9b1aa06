// PA3 Task 3.3 — the DataParallel step: accumulation, overlap, bit-exactness, traffic.
// Threads backend, a 2-layer GPT with C = 8. Expected values come from the single-process
// reference in dp_test_util.h (gpt_forward/gpt_backward + AdamW, per-rank gradients summed in
// rank order), from train_single, or from tables computed by hand from the parameter sizes.

#include "dp_test_util.h"

namespace {

using dptest::tiny_config;
using mlsys::Tensor;
namespace rec = mlsys::test;

const std::vector<int32_t>& tokens() {
  static const std::vector<int32_t> t = dptest::token_stream(4000, 7);
  return t;
}

// ============================================================================================
// Task 3.3
// ============================================================================================

pa3::DPOptions dp_options(int64_t cap = 4 * 600, int64_t m = 1) {
  pa3::DPOptions o;
  o.bucket_cap_bytes = cap;
  o.num_micro = m;
  return o;
}

TEST(Task3_3_Step, OneRankEqualsTrainSingleBitForBit) {
  const pa3::GPTConfig c = tiny_config();
  const dptest::DPRun run = dptest::run_dp(1, c, dp_options(4 * 600, 2), 10, 8, 6, tokens());
  pa3::TrainOptions o;
  o.steps = 10;
  o.batch_size = 8;
  o.seq_len = 6;
  o.num_micro = 2;
  const pa3::TrainResult single = pa3::train_single(c, o, tokens());
  const int64_t bad = dptest::bit_mismatches(run.params.back()[0], dptest::flatten(single.params));
  rec::record_exact("bit_mismatches_vs_train_single", bad);
  rec::record("params", dptest::as_tensor(run.params.back()[0]), 1e-5, 1e-6);
  EXPECT_EQ(bad, 0);
  for (int64_t s = 0; s < 10; ++s) EXPECT_FLOAT_EQ(run.losses[s][0], single.losses[s]) << s;
}

// Two ranks equal single-process training bit for bit: train_single with num_shards = 2 takes
// the same global batch as two shards, gives each its own zeroed gradient (dloss = 1/(B T) with
// the global B) and adds the two, which is what the all-reduce does (a + b == b + a).
TEST(Task3_3_Step, TwoRanksTenStepsEqualTrainSingleBitForBit) {
  const pa3::GPTConfig c = tiny_config();
  const int64_t B = 8, T = 6, steps = 10;
  const dptest::DPRun run = dptest::run_dp(2, c, dp_options(), steps, B, T, tokens());
  pa3::TrainOptions o;
  o.steps = steps;
  o.batch_size = B;
  o.seq_len = T;
  o.num_shards = 2;
  const pa3::TrainResult single = pa3::train_single(c, o, tokens());
  const int64_t bad = dptest::bit_mismatches(run.params.back()[0], dptest::flatten(single.params));
  const int64_t replicas = dptest::replica_mismatches(run);
  rec::record_exact("bit_mismatches_vs_train_single", bad);
  rec::record_exact("replica_mismatches", replicas);
  EXPECT_EQ(bad, 0) << "elements whose bits differ from train_single after " << steps << " steps";
  EXPECT_EQ(replicas, 0) << "ranks hold different parameters after some step";
  // The test's own two-buffer reference (gpt_forward/gpt_backward + AdamW only) agrees too.
  const dptest::RefResult ref = dptest::reference_train(c, 2, 1, steps, B, T, tokens());
  EXPECT_EQ(dptest::bit_mismatches(run.params.back()[0], ref.params), 0);
  for (int64_t s = 0; s < steps; ++s) {
    rec::record_value("loss" + std::to_string(s), run.losses[s][0], 1e-6, 1e-6);
    EXPECT_EQ(run.losses[s][0], single.losses[s]) << "step " << s;
    EXPECT_EQ(run.losses[s][0], run.losses[s][1]) << "step " << s;
  }
}

TEST(Task3_3_Step, MicroBatchesAccumulateWithoutCommunicating) {
  const pa3::GPTConfig c = tiny_config();
  for (int64_t m : {2, 3}) {
    const int64_t B = 12, T = 6, steps = 3;
    const dptest::DPRun run = dptest::run_dp(2, c, dp_options(4 * 600, m), steps, B, T, tokens());
    const dptest::RefResult ref = dptest::reference_train(c, 2, m, steps, B, T, tokens());
    const int64_t bad = dptest::bit_mismatches(run.params.back()[1], ref.params);
    rec::record_exact("bit_mismatches_m" + std::to_string(m), bad);
    EXPECT_EQ(bad, 0) << "m = " << m;
  }
  // traffic does not grow with m: one reduction per bucket per step
  std::vector<uint64_t> sent(2);
  for (int64_t m : {1, 3}) {
    pa3::run_ranks(2, [&](pa3::Communicator& comm) {
      pa3::DataParallel dp(comm, c, dp_options(4 * 600, m));
      comm.reset_stats();
      dp.step(pa3::global_batch(tokens(), 0, 42, 12, 6));
      if (comm.rank() == 0) sent[m == 1 ? 0 : 1] = comm.stats().sent.bytes;
    });
  }
  rec::record_exact("bytes_m1_m3", std::vector<int64_t>{int64_t(sent[0]), int64_t(sent[1])});
  EXPECT_EQ(sent[0], sent[1]);
}

TEST(Task3_3_Step, BucketCapsDoNotChangeTheBitsAndTrafficIsTheAllReduceFormula) {
  const pa3::GPTConfig c = tiny_config();
  const int64_t B = 8, T = 6, steps = 3;
  const dptest::RefResult ref = dptest::reference_train(c, 2, 1, steps, B, T, tokens());
  // Psi = 1936 (2 layers): caps for 1 bucket, 2 buckets (lm_head ... wpe | wte) and 3
  // (744 | 872 | 320 elements, by hand from the sizes listed in test_task3_2_buckets.cpp).
  std::vector<int64_t> counts;
  for (int64_t cap : {int64_t(4 * 1936), int64_t(4 * 1872), int64_t(4 * 900)}) {
    const dptest::DPRun run = dptest::run_dp(2, c, dp_options(cap), steps, B, T, tokens());
    counts.push_back(static_cast<int64_t>(run.buckets.size()));
    EXPECT_EQ(dptest::bit_mismatches(run.params.back()[0], ref.params), 0) << "cap " << cap;
  }
  rec::record_exact("bucket_counts", counts);
  EXPECT_EQ(counts, (std::vector<int64_t>{1, 2, 3}));
  // bytes per step: a ring all-reduce of every bucket = 2 (N-1)/N * 4 bytes * Psi (no padding
  // at N = 2: every parameter of this model has an even size), plus nothing else outside the
  // "loss" scope.
  std::vector<int64_t> grad_bytes(2);
  pa3::run_ranks(2, [&](pa3::Communicator& comm) {
    pa3::DataParallel dp(comm, c, dp_options());
    comm.reset_stats();
    dp.step(pa3::global_batch(tokens(), 0, 42, B, T));
    const pa3::CommStats st = comm.stats();
    grad_bytes[comm.rank()] = int64_t(st.sent.bytes - st.sent_in_scope("loss").bytes);
  });
  rec::record_exact("grad_bytes", grad_bytes);
  EXPECT_EQ(grad_bytes, (std::vector<int64_t>{4 * 1936, 4 * 1936}));
}

TEST(Task3_3_Step, TiedEmbeddingsAndAFrozenParameter) {
  const pa3::GPTConfig c = tiny_config(true);
  pa3::DPOptions o = dp_options(4 * 300);
  o.frozen = {"wpe", "h.0.ln_1.bias"};
  const dptest::DPRun run = dptest::run_dp(2, c, o, 4, 8, 6, tokens());
  const dptest::RefResult ref = dptest::reference_train(c, 2, 1, 4, 8, 6, tokens(), o.frozen);
  const int64_t bad = dptest::bit_mismatches(run.params.back()[0], ref.params);
  rec::record_exact("bit_mismatches", bad);
  rec::record_exact("replica_mismatches", dptest::replica_mismatches(run));
  EXPECT_EQ(bad, 0);
  EXPECT_EQ(dptest::replica_mismatches(run), 0);
  // the frozen wpe is still the initial one
  const pa3::GPTParams init = pa3::gpt_init(c, 1337);
  const std::vector<float> wpe0 = dptest::flatten_tensor_for_test(init.wpe);
  const int64_t C = c.n_embd, Vp = c.padded_vocab_size;
  std::vector<float> wpe(run.params.back()[0].begin() + Vp * C,
                         run.params.back()[0].begin() + Vp * C + c.block_size * C);
  EXPECT_EQ(dptest::bit_mismatches(wpe, wpe0), 0);
}

TEST(Task3_3_Step, BadBatchIsAClearError) {
  const pa3::GPTConfig c = tiny_config();
  std::string message;
  try {
    pa3::run_ranks(2, [&](pa3::Communicator& comm) {
      pa3::DataParallel dp(comm, c, dp_options(4 * 600, 2));
      dp.step(pa3::global_batch(tokens(), 0, 42, 6, 6));  // 6 rows, N m = 4
    });
  } catch (const mlsys::Error& e) {
    message = e.what();
  }
  rec::record_exact("error_mentions_batch", int64_t(message.find("global_batch") != std::string::npos));
  EXPECT_NE(message.find("multiple of N * num_micro"), std::string::npos) << message;
}

}  // namespace
