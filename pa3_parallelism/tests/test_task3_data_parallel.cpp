// PA3 Task 3 — data parallelism: 3.1 broadcast and per-tensor gradient all-reduce, 3.2 buckets
// and their reduction during backward, 3.3 the DataParallel step (accumulation, overlap).
// Threads backend, a 2-layer GPT with C = 8. Expected values come from the single-process
// reference in dp_test_util.h (gpt_forward/gpt_backward + AdamW, per-rank gradients summed in
// rank order), from train_single, or from tables computed by hand from the parameter sizes.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <iostream>
#include <thread>

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
// Task 3.1
// ============================================================================================

TEST(Task3_1_Replicas, BroadcastMakesEveryRankRankZeros) {
  const pa3::GPTConfig c = tiny_config();
  std::vector<int64_t> mismatches(3, -1);
  pa3::run_ranks(3, [&](pa3::Communicator& comm) {
    pa3::GPTParams p = pa3::gpt_init(c, 100 + comm.rank());  // different on every rank
    pa3::broadcast_params(comm, p.list(), 0);
    mismatches[comm.rank()] = dptest::bit_mismatches(dptest::flatten(p),
                                                     dptest::flatten(pa3::gpt_init(c, 100)));
  });
  rec::record_exact("mismatches_vs_rank0", mismatches);
  EXPECT_EQ(mismatches, (std::vector<int64_t>{0, 0, 0}));
}

TEST(Task3_1_Replicas, AllReduceSumsEachTrainableTensorAndSkipsFrozen) {
  const int N = 3;
  std::vector<std::vector<float>> out(N);
  std::vector<int64_t> sent(N);
  pa3::run_ranks(N, [&](pa3::Communicator& comm) {
    std::vector<pa3::NamedTensor> g = {
        {"a", mlsys::full({5}, float(comm.rank() + 1)), false},
        {"frozen", mlsys::full({4}, float(10 * (comm.rank() + 1))), false},
        {"b", mlsys::full({2, 3}, float(0.5 * (comm.rank() + 1))), true}};
    comm.reset_stats();
    pa3::all_reduce_gradients(comm, g, {true, false, true});
    sent[comm.rank()] = static_cast<int64_t>(comm.stats().sent.bytes);
    out[comm.rank()] = dptest::flatten_list_for_test(g);
  });
  // sums 1+2+3 = 6 and 0.5(1+2+3) = 3; the frozen tensor keeps each rank's own value
  for (int r = 0; r < N; ++r) {
    std::vector<float> expect(5, 6.f);
    for (int i = 0; i < 4; ++i) expect.push_back(float(10 * (r + 1)));
    for (int i = 0; i < 6; ++i) expect.push_back(3.f);
    EXPECT_EQ(out[r], expect) << "rank " << r;
  }
  // ring all-reduce per tensor: 2n - |chunk r| - |chunk r+1| elements (n = 5 and 6, p = 3)
  const std::vector<int64_t> chunk5 = {2, 2, 1}, chunk6 = {2, 2, 2};
  for (int r = 0; r < N; ++r) {
    const int64_t e = (10 - chunk5[r] - chunk5[(r + 1) % 3]) + (12 - chunk6[r] - chunk6[(r + 1) % 3]);
    EXPECT_EQ(sent[r], 4 * e) << "rank " << r;
  }
  rec::record("rank0_grads", dptest::as_tensor(out[0]), 0, 0);
  rec::record_exact("bytes_sent", sent);
}

// A data-parallel loop written here with Task 3.1 only: N = 2, 10 steps, B = 8, T = 6.
TEST(Task3_1_Replicas, TenStepsMatchTheRankOrderedReferenceBitForBit) {
  const pa3::GPTConfig c = tiny_config();
  const int N = 2;
  const int64_t B = 8, T = 6, steps = 10;
  std::vector<std::vector<float>> final(N);
  pa3::run_ranks(N, [&](pa3::Communicator& comm) {
    pa3::GPTParams p = pa3::gpt_init(c, 1337 + comm.rank());
    pa3::broadcast_params(comm, p.list(), 0);
    pa3::GPTParams g = pa3::gpt_zeros_like(p);
    pa3::AdamW opt(p.list(), pa3::AdamWConfig{});
    pa3::GPTActs acts;
    const std::vector<bool> trainable(p.list().size(), true);
    for (int64_t s = 0; s < steps; ++s) {
      const pa3::Batch mine = pa3::batch_shard(pa3::global_batch(tokens(), s, 42, B, T), comm.rank(), N);
      pa3::zero_grads(g);
      pa3::gpt_forward(acts, p, c, mine.inputs, mine.targets);
      pa3::gpt_backward(g, acts, p, c, mine.inputs, mine.targets, 1.0f / float(B * T));
      pa3::all_reduce_gradients(comm, g.list(), trainable);
      opt.step(g.list());
    }
    final[comm.rank()] = dptest::flatten(p);
  });
  const dptest::RefResult ref = dptest::reference_train(c, N, 1, steps, B, T, tokens());
  const int64_t bad0 = dptest::bit_mismatches(final[0], ref.params);
  const int64_t bad1 = dptest::bit_mismatches(final[1], ref.params);
  rec::record_exact("bit_mismatches", std::vector<int64_t>{bad0, bad1});
  rec::record("params", dptest::as_tensor(final[0]), 1e-5, 1e-6);
  EXPECT_EQ(bad0, 0);
  EXPECT_EQ(bad1, 0);
}

// ============================================================================================
// Task 3.2
// ============================================================================================

// One layer, untied (17 parameters). Sizes in reverse canonical order, by hand:
//   lm_head 64, ln_f.bias 8, ln_f.weight 8, c_proj.bias 8, c_proj.weight 256, c_fc.bias 32,
//   c_fc.weight 256, ln_2.bias 8, ln_2.weight 8, attn.c_proj.bias 8, attn.c_proj.weight 64,
//   c_attn.bias 24, c_attn.weight 192, ln_1.bias 8, ln_1.weight 8, wpe 48, wte 64  (sum 1064)
std::vector<int64_t> numels(const std::vector<pa3::Bucket>& b) {
  std::vector<int64_t> out;
  for (const auto& x : b) out.push_back(x.numel);
  return out;
}
std::vector<int64_t> begins(const std::vector<pa3::Bucket>& b) {
  std::vector<int64_t> out;
  for (const auto& x : b) out.push_back(x.begin);
  return out;
}

TEST(Task3_2_Buckets, CapsGiveOneTwoAndThreeBuckets) {
  const pa3::GPTParams p = pa3::gpt_init(tiny_config(false, 1), 1);
  const auto list = p.list();
  const std::vector<bool> all(list.size(), true);
  const auto one = pa3::make_buckets(list, all, 4 * 1064, 1);
  const auto two = pa3::make_buckets(list, all, 4 * 1000, 1);
  const auto three = pa3::make_buckets(list, all, 4 * 600, 1);
  rec::record_exact("one", numels(one));
  rec::record_exact("two", numels(two));
  rec::record_exact("three", numels(three));
  EXPECT_EQ(numels(one), (std::vector<int64_t>{1064}));
  EXPECT_EQ(numels(two), (std::vector<int64_t>{1000, 64}));    // wte alone
  EXPECT_EQ(numels(three), (std::vector<int64_t>{376, 576, 112}));
  ASSERT_EQ(three.size(), 3u);
  // first bucket: lm_head (16), ln_f.bias (15), ln_f.weight (14), c_proj.bias (13),
  // c_proj.weight (12), c_fc.bias (11)
  EXPECT_EQ(three[0].params, (std::vector<int>{16, 15, 14, 13, 12, 11}));
  EXPECT_EQ(three[2].params, (std::vector<int>{1, 0}));
  EXPECT_EQ(begins(three), (std::vector<int64_t>{0, 376, 952}));
}

TEST(Task3_2_Buckets, PaddingToTheWorldSizeTinyCapAndFrozen) {
  const pa3::GPTParams p = pa3::gpt_init(tiny_config(false, 1), 1);
  const auto list = p.list();
  std::vector<bool> trainable(list.size(), true);
  const auto two = pa3::make_buckets(list, trainable, 4 * 1000, 3);
  EXPECT_EQ(numels(two), (std::vector<int64_t>{1000, 64}));
  EXPECT_EQ(two[0].padded, 1002);  // 1000 rounded up to a multiple of 3
  EXPECT_EQ(two[1].padded, 66);
  EXPECT_EQ(begins(two), (std::vector<int64_t>{0, 1002}));
  trainable[1] = false;  // wpe frozen
  const auto tiny = pa3::make_buckets(list, trainable, 1, 1);
  std::vector<int64_t> expect = {64, 8, 8, 8, 256, 32, 256, 8, 8, 8, 64, 24, 192, 8, 8, 64};
  EXPECT_EQ(numels(tiny), expect);
  rec::record_exact("padded", std::vector<int64_t>{two[0].padded, two[1].padded});
  rec::record_exact("tiny_cap_frozen_wpe", numels(tiny));
}

TEST(Task3_2_Buckets, ReducerLaunchesInBucketOrderAsSoonAsReady) {
  // 3 buckets over parameters {5,4}, {3}, {2,1,0}; a reduce that only logs.
  std::vector<pa3::Bucket> b = {{{5, 4}, 0, 2, 2}, {{3}, 2, 1, 1}, {{2, 1, 0}, 3, 3, 3}};
  std::vector<size_t> log;
  pa3::BucketReducer r(b, 6, [&](size_t i) { log.push_back(i); }, nullptr);
  std::vector<int64_t> launched;
  r.grad_ready(3);  // bucket 1 complete, but bucket 0 is not launched yet
  launched.push_back(r.launched());
  r.grad_ready(5);
  launched.push_back(r.launched());
  r.grad_ready(4);  // bucket 0 complete: launches 0, then 1
  launched.push_back(r.launched());
  for (int i : {2, 1, 0}) r.grad_ready(i);
  launched.push_back(r.launched());
  r.wait();
  rec::record_exact("launched_after_each", launched);
  rec::record_exact("order", std::vector<int64_t>(log.begin(), log.end()));
  EXPECT_EQ(launched, (std::vector<int64_t>{0, 0, 2, 3}));
  EXPECT_EQ(log, (std::vector<size_t>{0, 1, 2}));
  // a second backward after reset
  r.reset();
  for (int i : {5, 4, 3, 2, 1}) r.grad_ready(i);
  EXPECT_THROW(r.wait(), mlsys::Error);  // bucket 2 never launched
}

TEST(Task3_2_Buckets, ReductionRunsOnTheWorkerWhileTheRankComputes) {
  std::vector<pa3::Bucket> b = {{{1}, 0, 1, 1}, {{0}, 1, 1, 1}};
  pa3::CommWorker worker;
  std::mutex mu;
  std::condition_variable cv;
  bool go = false, saw_go = false;
  pa3::BucketReducer r(b, 2, [&](size_t i) {
    if (i != 0) return;
    std::unique_lock<std::mutex> lock(mu);
    saw_go = cv.wait_for(lock, std::chrono::seconds(20), [&] { return go; });
  }, &worker);
  r.grad_ready(1);  // must return while bucket 0's reduction is still waiting for `go`
  {
    std::lock_guard<std::mutex> lock(mu);
    go = true;
  }
  cv.notify_all();
  r.grad_ready(0);
  r.wait();
  rec::record_exact("reduction_overlapped", int64_t{saw_go});
  EXPECT_TRUE(saw_go) << "grad_ready ran the reduction on the rank's thread instead of the worker";
}

TEST(Task3_2_Buckets, ReducerAllReducesRealGradients) {
  const int N = 2;
  std::vector<std::vector<float>> out(N);
  pa3::run_ranks(N, [&](pa3::Communicator& comm) {
    std::vector<pa3::Bucket> b = {{{1}, 0, 3, 4}, {{0}, 4, 2, 2}};
    Tensor flat = mlsys::zeros({6});
    float* f = flat.data<float>();
    for (int i : {0, 1, 2, 4, 5}) f[i] = float((comm.rank() + 1) * (i + 1));
    pa3::CommWorker worker;
    pa3::BucketReducer r(b, 2, [&](size_t i) {
      comm.native_all_reduce(f + b[i].begin, b[i].padded);
    }, &worker);
    r.grad_ready(1);
    r.grad_ready(0);
    r.wait();
    out[comm.rank()] = std::vector<float>(f, f + 6);
  });
  const std::vector<float> expect = {3, 6, 9, 0, 15, 18};  // (1 + 2)(i + 1), padding stays 0
  rec::record("reduced", dptest::as_tensor(out[0]), 0, 0);
  EXPECT_EQ(out[0], expect);
  EXPECT_EQ(out[1], expect);
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

TEST(Task3_3_Step, TwoRanksTenStepsMatchTheReferenceBitForBit) {
  const pa3::GPTConfig c = tiny_config();
  const int64_t B = 8, T = 6, steps = 10;
  const dptest::DPRun run = dptest::run_dp(2, c, dp_options(), steps, B, T, tokens());
  const dptest::RefResult ref = dptest::reference_train(c, 2, 1, steps, B, T, tokens());
  const int64_t bad = dptest::bit_mismatches(run.params.back()[0], ref.params);
  const int64_t replicas = dptest::replica_mismatches(run);
  rec::record_exact("bit_mismatches_vs_reference", bad);
  rec::record_exact("replica_mismatches", replicas);
  EXPECT_EQ(bad, 0);
  EXPECT_EQ(replicas, 0) << "ranks hold different parameters after some step";
  for (int64_t s = 0; s < steps; ++s) {
    rec::record_value("loss" + std::to_string(s), run.losses[s][0], 1e-6, 1e-6);
    EXPECT_NEAR(run.losses[s][0], ref.losses[s], 1e-6) << s;
    EXPECT_EQ(run.losses[s][0], run.losses[s][1]) << s;
  }
  // train_single adds all B rows into one running sum; two ranks add two partial sums. Same
  // math, different rounding: close, not identical (float32 gradients, 10 AdamW steps).
  pa3::TrainOptions o;
  o.steps = steps;
  o.batch_size = B;
  o.seq_len = T;
  const pa3::TrainResult single = pa3::train_single(c, o, tokens());
  std::cout << "elements whose bits differ from train_single after " << steps << " steps: "
            << dptest::bit_mismatches(run.params.back()[0], dptest::flatten(single.params))
            << " of " << run.params.back()[0].size() << "\n";
  MLSYS_EXPECT_ALLCLOSE(dptest::as_tensor(run.params.back()[0]),
                        dptest::as_tensor(dptest::flatten(single.params)), 1e-3, 1e-4);
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
  // (744 | 872 | 320 elements, by hand from the sizes listed above Task3_2).
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
