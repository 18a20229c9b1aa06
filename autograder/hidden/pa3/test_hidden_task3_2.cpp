// Hidden tests of PA3 Task 3.2: bucket tables for other caps, world sizes and a tied model
// (sizes by hand, as in the public tests), and the reducer's order with buckets completed
// back to front.
#include "dp_test_util.h"

namespace {

using dptest::tiny_config;
namespace rec = mlsys::test;

std::vector<int64_t> numels(const std::vector<pa3::Bucket>& b) {
  std::vector<int64_t> out;
  for (const auto& x : b) out.push_back(x.numel);
  return out;
}

TEST(Hidden_Task3_2, TiedOneLayerWorldFive) {
  // tied, 1 layer (16 parameters), reverse order: ln_f.bias 8, ln_f.weight 8, block (872 as in
  // the public tests: 8, 256, 32, 256, 8, 8, 8, 64, 24, 192, 8, 8), wpe 48, wte 64
  const pa3::GPTParams p = pa3::gpt_init(tiny_config(true, 1), 1);
  const auto list = p.list();
  const std::vector<bool> all(list.size(), true);
  const auto b = pa3::make_buckets(list, all, 4 * 300, 5);
  // 16 + 8 + 256 = 280, + 32 = 312 > 300 -> close; 32 + 256 = 288, + 8 = 296, + 8 = 304 -> close;
  // 8 + 8 + 64 + 24 = 104, + 192 = 296, + 8 = 304 -> close; 8 + 8 + 48 = 64, + 64 = 128
  EXPECT_EQ(numels(b), (std::vector<int64_t>{280, 296, 296, 128}));
  std::vector<int64_t> padded, begin;
  for (const auto& x : b) padded.push_back(x.padded), begin.push_back(x.begin);
  EXPECT_EQ(padded, (std::vector<int64_t>{280, 300, 300, 130}));
  EXPECT_EQ(begin, (std::vector<int64_t>{0, 280, 580, 880}));
  rec::record_exact("numel", numels(b));
  rec::record_exact("padded", padded);
  rec::record_exact("begin", begin);
}

TEST(Hidden_Task3_2, CapExactlyAtAParameterBoundaryKeepsIt) {
  const pa3::GPTParams p = pa3::gpt_init(tiny_config(false, 1), 1);
  const auto list = p.list();
  const std::vector<bool> all(list.size(), true);
  // lm_head 64 + ln_f 16 = 80 bytes*4 = 320: a cap of 320 keeps all three, 319 does not
  const auto at = pa3::make_buckets(list, all, 320, 1);
  const auto below = pa3::make_buckets(list, all, 319, 1);
  EXPECT_EQ(at[0].numel, 80);
  EXPECT_EQ(below[0].numel, 72);
  rec::record_exact("first_bucket", std::vector<int64_t>{at[0].numel, below[0].numel});
}

TEST(Hidden_Task3_2, BackToFrontCompletionLaunchesEverythingAtTheEnd) {
  std::vector<pa3::Bucket> b = {{{3}, 0, 1, 1}, {{2}, 1, 1, 1}, {{1}, 2, 1, 1}, {{0}, 3, 1, 1}};
  std::vector<int64_t> log, launched;
  pa3::CommWorker worker;
  std::mutex mu;
  pa3::BucketReducer r(b, 4, [&](size_t i) {
    std::lock_guard<std::mutex> lock(mu);
    log.push_back(int64_t(i));
  }, &worker);
  for (int i : {0, 1, 2, 3}) {
    r.grad_ready(i);
    launched.push_back(r.launched());
  }
  r.wait();
  rec::record_exact("launched", launched);
  rec::record_exact("order", log);
  EXPECT_EQ(launched, (std::vector<int64_t>{0, 0, 0, 4}));
  EXPECT_EQ(log, (std::vector<int64_t>{0, 1, 2, 3}));
}

}  // namespace
