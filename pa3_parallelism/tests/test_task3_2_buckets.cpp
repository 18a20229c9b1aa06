// PA3 Task 3.2 — gradient buckets and their reduction while backward runs.
// Threads backend, a 2-layer GPT with C = 8. Expected values come from the single-process
// reference in dp_test_util.h (gpt_forward/gpt_backward + AdamW, per-rank gradients summed in
// rank order), from train_single, or from tables computed by hand from the parameter sizes.
#include <chrono>
#include <condition_variable>
#include <thread>

#include "dp_test_util.h"

namespace {

using dptest::tiny_config;
using mlsys::Tensor;
namespace rec = mlsys::test;

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

}  // namespace
