// Tests of the whole GPT (pa3/gpt.h), AdamW (pa3/adamw.h) and the single-process trainer
// (pa3/train.h): parameter list and initialization, the full backward against finite
// differences, micro-batch accumulation == full batch bit for bit, AdamW against its formula in
// double, and a short training run that lowers the loss.
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "mlsys/ops.h"
#include "mlsys/testing.h"
#include "pa3/adamw.h"
#include "pa3/data.h"
#include "pa3/gpt.h"
#include "pa3/train.h"

namespace {

using mlsys::Tensor;

pa3::GPTConfig tiny_config(bool tied) {
  pa3::GPTConfig c;
  c.vocab_size = 7;
  c.padded_vocab_size = 8;
  c.block_size = 6;
  c.n_layer = 2;
  c.n_head = 2;
  c.n_embd = 8;
  c.tie_embeddings = tied;
  return c;
}

Tensor random_tokens(int64_t B, int64_t T, int64_t V, uint64_t seed) {
  return mlsys::randint({B, T}, seed, 0, V).astype(mlsys::DType::Int32);
}

// ================================================================================================
// Parameters and initialization
// ================================================================================================

TEST(Pa3ModelGpt, ParameterListOrderNamesAndShapes) {
  for (bool tied : {false, true}) {
    const pa3::GPTConfig c = tiny_config(tied);
    const pa3::GPTParams p = pa3::gpt_init(c, 1);
    const std::vector<pa3::NamedTensor> list = p.list();
    const int64_t C = c.n_embd, L = c.n_layer;
    ASSERT_EQ(static_cast<int64_t>(list.size()), 2 + 12 * L + 2 + (tied ? 0 : 1));
    EXPECT_EQ(list[0].name, "wte");
    EXPECT_EQ(list[1].name, "wpe");
    EXPECT_EQ(list[2 + 12].name, "h.1.ln_1.weight");
    EXPECT_EQ(list[2 + 12 + 2].name, "h.1.attn.c_attn.weight");
    EXPECT_EQ(list[2 + 12 + 2].tensor.shape(), (mlsys::Shape{3 * C, C}));
    EXPECT_EQ(list[2 + 12 + 10].name, "h.1.mlp.c_proj.weight");
    EXPECT_EQ(list[2 + 12 + 10].tensor.shape(), (mlsys::Shape{C, 4 * C}));
    EXPECT_EQ(list[2 + 12 * L].name, "ln_f.weight");
    if (tied) {
      EXPECT_EQ(p.lm_head.storage(), p.wte.storage());
    } else {
      EXPECT_EQ(list.back().name, "lm_head.weight");
    }
    std::set<std::string> names;
    int64_t total = 0;
    for (const auto& e : list) {
      names.insert(e.name);
      total += e.tensor.numel();
      EXPECT_EQ(e.decay, e.tensor.dim() >= 2) << e.name;
    }
    EXPECT_EQ(names.size(), list.size());
    const int64_t per_block = 2 * C + 3 * C * C + 3 * C + C * C + C + 2 * C + 4 * C * C + 4 * C +
                              4 * C * C + C;
    EXPECT_EQ(total, c.padded_vocab_size * C * (tied ? 1 : 2) + c.block_size * C + L * per_block +
                         2 * C);
    EXPECT_EQ(p.num_params(), total);
  }
}

TEST(Pa3ModelGpt, InitIsTheFullMasterWeightFromPerParameterSeeds) {
  const pa3::GPTConfig c = tiny_config(false);
  const uint64_t seed = 1234;
  const pa3::GPTParams p = pa3::gpt_init(c, seed), q = pa3::gpt_init(c, seed);
  const auto lp = p.list(), lq = q.list();
  for (size_t i = 0; i < lp.size(); ++i) {
    EXPECT_EQ(lp[i].tensor.to_vector<float>(), lq[i].tensor.to_vector<float>()) << lp[i].name;
  }
  // Each normal tensor is randn(shape, param_seed(seed, index), 0, std): a layout that builds
  // only its slice can draw the full tensor and slice it.
  const float std_resid = 0.02f / std::sqrt(2.0f * c.n_layer);
  const Tensor qkv1 = mlsys::randn({3 * c.n_embd, c.n_embd}, pa3::param_seed(seed, 2 + 12 + 2),
                                   0.f, 0.02f);
  EXPECT_EQ(p.h[1].qkv_w.to_vector<float>(), qkv1.to_vector<float>());
  const Tensor proj0 = mlsys::randn({c.n_embd, 4 * c.n_embd}, pa3::param_seed(seed, 2 + 10), 0.f,
                                    std_resid);
  EXPECT_EQ(p.h[0].fcproj_w.to_vector<float>(), proj0.to_vector<float>());
  // wte: the draw for index 0 with the padded rows set to 0.
  Tensor wte = mlsys::randn({c.padded_vocab_size, c.n_embd}, pa3::param_seed(seed, 0), 0.f, 0.02f);
  wte.slice(0, c.vocab_size, c.padded_vocab_size).fill_(0.f);
  EXPECT_EQ(p.wte.to_vector<float>(), wte.to_vector<float>());
  EXPECT_EQ(p.h[0].ln1_w.to_vector<float>(), std::vector<float>(c.n_embd, 1.f));
  EXPECT_EQ(p.h[0].qkv_b.to_vector<float>(), std::vector<float>(3 * c.n_embd, 0.f));
  // Different indices and different seeds give different streams.
  std::set<uint64_t> seeds;
  for (int64_t i = 0; i < 100; ++i) seeds.insert(pa3::param_seed(seed, i));
  for (int64_t i = 0; i < 100; ++i) seeds.insert(pa3::param_seed(seed + 1, i));
  EXPECT_EQ(seeds.size(), 200u);
}

// ================================================================================================
// The full backward against finite differences
// ================================================================================================

// Gives every parameter a random value of order 1 (LayerNorm gains near 1) so that attention is
// far from uniform and every path carries gradient; the GPT-2 init (std 0.02) would leave most
// gradients near zero and the check weak.
void randomize(const pa3::GPTParams& p, uint64_t seed) {
  int64_t i = 0;
  for (auto& e : p.list()) {
    const bool gain = e.name.find("ln_") != std::string::npos && e.name.find("weight") != std::string::npos;
    e.tensor.copy_(mlsys::randn(e.tensor.shape(), seed + i++, gain ? 1.f : 0.f, gain ? 0.2f : 0.4f));
  }
}

void check_gpt_gradient(bool tied) {
  const pa3::GPTConfig c = tiny_config(tied);
  const int64_t B = 2, T = 5;
  const pa3::GPTParams p = pa3::gpt_init(c, 7);
  randomize(p, 100);
  const Tensor tokens = random_tokens(B, T, c.vocab_size, 8);
  const Tensor targets = random_tokens(B, T, c.vocab_size, 9);
  pa3::GPTActs acts;
  // Loss = sum of the B·T position losses (dloss = 1): gradients of order 0.1-1.
  auto loss_sum = [&]() {
    pa3::gpt_forward(acts, p, c, tokens, targets);
    double s = 0;
    for (float l : acts.head.losses.to_vector<float>()) s += l;
    return s;
  };
  const pa3::GPTParams g = pa3::gpt_zeros_like(p);
  loss_sum();
  pa3::gpt_backward(g, acts, p, c, tokens, targets, 1.0f);
  const auto lp = p.list(), lg = g.list();
  ASSERT_EQ(lp.size(), lg.size());
  // Up to 16 elements of every tensor (a seeded random subset): central differences with eps
  // 1e-2. The loss is a sum of 10 terms ~2 computed in float32 (rounding ~1e-6), so the
  // quotient's rounding error is ~1e-4; accept 5e-3 + 3e-2 |numeric|.
  const double eps = 1e-2;
  int64_t checked = 0;
  for (size_t i = 0; i < lp.size(); ++i) {
    float* w = lp[i].tensor.data<float>();
    const float* dw = lg[i].tensor.data<float>();
    const int64_t n = lp[i].tensor.numel();
    const Tensor picks = mlsys::randint({std::min<int64_t>(n, 16)}, 500 + i, 0, n);
    for (int64_t k = 0; k < picks.numel(); ++k) {
      const int64_t j = picks.to_vector<int64_t>()[k];
      const float orig = w[j];
      w[j] = static_cast<float>(orig + eps);
      const double up = w[j], fp = loss_sum();
      w[j] = static_cast<float>(orig - eps);
      const double down = w[j], fm = loss_sum();
      w[j] = orig;
      const double numeric = (fp - fm) / (up - down);
      EXPECT_NEAR(dw[j], numeric, 5e-3 + 3e-2 * std::abs(numeric))
          << lp[i].name << "[" << j << "] (tied=" << tied << ")";
      ++checked;
    }
  }
  EXPECT_GT(checked, 100);
}

// sum(out * r) in double: the scalar whose gradient with respect to `out` is r.
double weighted_sum(const Tensor& out, const Tensor& r) {
  const float* o = out.data<float>();
  const float* w = r.data<float>();
  double s = 0.0;
  for (int64_t i = 0; i < out.numel(); ++i) s += static_cast<double>(o[i]) * w[i];
  return s;
}

TEST(Pa3ModelGpt, BlockBackwardFiniteDifferences) {
  // One transformer block (attention + MLP + residuals) with loss sum(out * r). Tolerances as
  // in test_gpt_layers.cpp: eps 1e-2, |analytic - numeric| <= 2e-3 + 1e-2 |numeric|.
  const pa3::GPTConfig c = tiny_config(false);
  const int64_t B = 2, T = 4, C = c.n_embd;
  const pa3::GPTParams p = pa3::gpt_init(c, 11);
  randomize(p, 400);
  const pa3::BlockParams& bp = p.h[0];
  const Tensor x = mlsys::randn({B, T, C}, 12), r = mlsys::randn({B, T, C}, 13);
  pa3::BlockActs acts = pa3::block_acts_alloc(c, B, T);
  auto loss = [&](const Tensor& xx) {
    pa3::block_forward(acts, bp, xx, c.n_head);
    return weighted_sum(acts.out, r);
  };
  loss(x);
  const pa3::GPTParams g = pa3::gpt_zeros_like(p);
  Tensor dx = mlsys::zeros(x.shape());
  pa3::block_backward(dx, g.h[0], r, acts, bp, x, c.n_head);
  EXPECT_TRUE(mlsys::test::gradcheck(loss, x, dx, 1e-2, 1e-2, 2e-3)) << "dx";
  // Every parameter tensor of the block, all elements: perturb it in place through the lambda.
  const std::vector<std::pair<Tensor, Tensor>> pairs = {
      {bp.ln1_w, g.h[0].ln1_w},         {bp.ln1_b, g.h[0].ln1_b},
      {bp.qkv_w, g.h[0].qkv_w},         {bp.qkv_b, g.h[0].qkv_b},
      {bp.attproj_w, g.h[0].attproj_w}, {bp.attproj_b, g.h[0].attproj_b},
      {bp.ln2_w, g.h[0].ln2_w},         {bp.ln2_b, g.h[0].ln2_b},
      {bp.fc_w, g.h[0].fc_w},           {bp.fc_b, g.h[0].fc_b},
      {bp.fcproj_w, g.h[0].fcproj_w},   {bp.fcproj_b, g.h[0].fcproj_b}};
  for (size_t i = 0; i < pairs.size(); ++i) {
    Tensor w = pairs[i].first;
    const Tensor original = w.clone();
    auto loss_w = [&](const Tensor& ww) {
      w.copy_(ww);
      const double l = loss(x);
      w.copy_(original);
      return l;
    };
    EXPECT_TRUE(mlsys::test::gradcheck(loss_w, original, pairs[i].second, 1e-2, 1e-2, 2e-3))
        << "block parameter " << i << " (order of BlockParams)";
  }
}

TEST(Pa3ModelGpt, BackwardFiniteDifferencesUntied) { check_gpt_gradient(false); }
TEST(Pa3ModelGpt, BackwardFiniteDifferencesTied) { check_gpt_gradient(true); }

TEST(Pa3ModelGpt, MicroBatchAccumulationEqualsFullBatchBitForBit) {
  const pa3::GPTConfig c = tiny_config(false);
  const int64_t B = 4, T = 6;
  const pa3::GPTParams p = pa3::gpt_init(c, 3);
  randomize(p, 200);
  const Tensor tokens = random_tokens(B, T, c.vocab_size, 10);
  const Tensor targets = random_tokens(B, T, c.vocab_size, 11);
  const float dloss = 1.0f / static_cast<float>(B * T);
  pa3::GPTActs acts;
  const pa3::GPTParams full = pa3::gpt_zeros_like(p);
  pa3::gpt_forward(acts, p, c, tokens, targets);
  const Tensor full_logits = acts.head.logits.clone();
  pa3::gpt_backward(full, acts, p, c, tokens, targets, dloss);
  const pa3::GPTParams accum = pa3::gpt_zeros_like(p);
  for (int64_t k = 0; k < 4; ++k) {
    const Tensor x = tokens.slice(0, k, k + 1).contiguous(), y = targets.slice(0, k, k + 1).contiguous();
    pa3::gpt_forward(acts, p, c, x, y);
    // Each row's activations are those of the full batch, bit for bit.
    EXPECT_EQ(acts.head.logits.to_vector<float>(),
              full_logits.slice(0, k, k + 1).contiguous().to_vector<float>());
    pa3::gpt_backward(accum, acts, p, c, x, y, dloss);
  }
  const auto lf = full.list(), la = accum.list();
  for (size_t i = 0; i < lf.size(); ++i) {
    EXPECT_EQ(la[i].tensor.to_vector<float>(), lf[i].tensor.to_vector<float>()) << lf[i].name;
  }
}

// ================================================================================================
// AdamW
// ================================================================================================

TEST(Pa3ModelAdamW, MatchesTheFormulaInDouble) {
  pa3::AdamWConfig cfg;
  cfg.lr = 0.1f;
  cfg.beta1 = 0.9f;
  cfg.beta2 = 0.999f;
  cfg.eps = 1e-8f;
  cfg.weight_decay = 0.01f;
  std::vector<float> p = {1.0f, -2.0f, 0.5f}, m(3, 0.f), v(3, 0.f);
  const std::vector<std::vector<float>> grads = {{0.5f, -1.0f, 0.0f}, {0.25f, 2.0f, -3.0f}};
  // Hand formula, in double.
  std::vector<double> pd = {1.0, -2.0, 0.5}, md(3, 0.0), vd(3, 0.0);
  for (int64_t t = 1; t <= 2; ++t) {
    pa3::adamw_update(p.data(), grads[t - 1].data(), m.data(), v.data(), 3, t, cfg, 0.01f);
    for (int i = 0; i < 3; ++i) {
      const double g = grads[t - 1][i];
      md[i] = 0.9 * md[i] + 0.1 * g;
      vd[i] = 0.999 * vd[i] + 0.001 * g * g;
      const double mhat = md[i] / (1 - std::pow(0.9, t)), vhat = vd[i] / (1 - std::pow(0.999, t));
      pd[i] -= 0.1 * (mhat / (std::sqrt(vhat) + 1e-8) + 0.01 * pd[i]);
    }
  }
  // float32 against double: 0.999f and 0.1f are not exact (1 - 0.999f is 1.3e-5 relative off
  // 0.001), so allow 1e-4 relative on m and v and 1e-5 absolute on p (updates are ~0.1).
  for (int i = 0; i < 3; ++i) {
    EXPECT_NEAR(p[i], pd[i], 1e-5) << i;
    EXPECT_NEAR(m[i], md[i], 1e-4 * std::abs(md[i]) + 1e-9) << i;
    EXPECT_NEAR(v[i], vd[i], 1e-4 * std::abs(vd[i]) + 1e-9) << i;
  }
  // Step 1 by hand: m_hat = g, v_hat = g^2, so p = 1 - 0.1 (0.5 / (0.5 + 1e-8) + 0.01) ~= 0.899.
  std::vector<float> q = {1.0f}, mq = {0.f}, vq = {0.f};
  const float g0 = 0.5f;
  pa3::adamw_update(q.data(), &g0, mq.data(), vq.data(), 1, 1, cfg, 0.01f);
  EXPECT_NEAR(q[0], 0.899, 1e-6);
  // Without decay (biases, LayerNorm): p = 1 - 0.1 = 0.9.
  std::vector<float> r = {1.0f}, mr = {0.f}, vr = {0.f};
  pa3::adamw_update(r.data(), &g0, mr.data(), vr.data(), 1, 1, cfg, 0.f);
  EXPECT_NEAR(r[0], 0.9, 1e-6);
}

TEST(Pa3ModelAdamW, ListWrapperDecaysOnlyMatricesAndShardsAreBitIdentical) {
  const pa3::GPTConfig c = tiny_config(false);
  const pa3::GPTParams p = pa3::gpt_init(c, 5), q = pa3::gpt_init(c, 5);
  const pa3::GPTParams g = pa3::gpt_zeros_like(p);
  randomize(g, 300);
  pa3::AdamWConfig cfg;
  pa3::AdamW opt(p.list(), cfg);
  opt.step(g.list());
  opt.step(g.list());
  EXPECT_EQ(opt.step_count(), 2);
  // The same two steps on each tensor split into two flat ranges.
  const auto lq = q.list(), lg = g.list(), lp = p.list();
  for (size_t i = 0; i < lq.size(); ++i) {
    const int64_t n = lq[i].tensor.numel(), half = n / 2;
    std::vector<float> m(n, 0.f), v(n, 0.f);
    float* w = lq[i].tensor.data<float>();
    const float* d = lg[i].tensor.data<float>();
    const float wd = lq[i].decay ? cfg.weight_decay : 0.f;
    for (int64_t t = 1; t <= 2; ++t) {
      pa3::adamw_update(w, d, m.data(), v.data(), half, t, cfg, wd);
      pa3::adamw_update(w + half, d + half, m.data() + half, v.data() + half, n - half, t, cfg, wd);
    }
    EXPECT_EQ(lq[i].tensor.to_vector<float>(), lp[i].tensor.to_vector<float>()) << lp[i].name;
  }
  // A zero gradient leaves an undecayed tensor unchanged and shrinks a decayed one.
  const pa3::GPTParams z = pa3::gpt_zeros_like(p), r = pa3::gpt_init(c, 5), r0 = pa3::gpt_init(c, 5);
  pa3::AdamW opt2(r.list(), cfg);
  opt2.step(z.list());
  EXPECT_EQ(r.h[0].ln1_w.to_vector<float>(), r0.h[0].ln1_w.to_vector<float>());
  EXPECT_FLOAT_EQ(r.h[0].qkv_w.at({0, 0}), r0.h[0].qkv_w.at({0, 0}) * (1.f - cfg.lr * cfg.weight_decay));
}

// ================================================================================================
// The single-process trainer
// ================================================================================================

std::vector<int32_t> shakespeare_train() {
  static const pa3::Dataset data = pa3::load_dataset();
  return data.train;
}

pa3::GPTConfig small_shakespeare_config() {
  pa3::GPTConfig c;
  c.vocab_size = 65;
  c.padded_vocab_size = 68;
  c.block_size = 16;
  c.n_layer = 1;
  c.n_head = 2;
  c.n_embd = 16;
  return c;
}

TEST(Pa3ModelTrain, ThirtyStepsLowerTheLoss) {
  pa3::TrainOptions o;
  o.steps = 30;
  o.batch_size = 8;
  o.adamw.lr = 1e-2f;
  const pa3::TrainResult r = pa3::train_single(small_shakespeare_config(), o, shakespeare_train());
  ASSERT_EQ(r.losses.size(), 30u);
  // A fresh model predicts ~uniformly over 65 symbols: loss ~ ln 65 = 4.17. Thirty steps of
  // AdamW learn at least the unigram statistics (entropy ~3.3 nats): require a drop of 0.5.
  EXPECT_NEAR(r.losses[0], std::log(65.0), 0.1);
  double last5 = 0;
  for (int i = 25; i < 30; ++i) last5 += r.losses[i] / 5;
  EXPECT_LT(last5, r.losses[0] - 0.5) << "mean loss of steps 26-30: " << last5;
}

TEST(Pa3ModelTrain, GradientAccumulationGivesTheSameWeightsBitForBit) {
  pa3::TrainOptions o;
  o.steps = 3;
  o.batch_size = 4;
  const pa3::GPTConfig c = small_shakespeare_config();
  const pa3::TrainResult one = pa3::train_single(c, o, shakespeare_train());
  o.num_micro = 4;
  const pa3::TrainResult four = pa3::train_single(c, o, shakespeare_train());
  const auto l1 = one.params.list(), l4 = four.params.list();
  for (size_t i = 0; i < l1.size(); ++i) {
    EXPECT_EQ(l4[i].tensor.to_vector<float>(), l1[i].tensor.to_vector<float>()) << l1[i].name;
  }
  for (size_t s = 0; s < one.losses.size(); ++s) EXPECT_NEAR(four.losses[s], one.losses[s], 1e-5);
  o.num_micro = 3;  // does not divide B = 4
  EXPECT_THROW(pa3::train_single(c, o, shakespeare_train()), mlsys::Error);
}

// num_shards = S: the global batch as S data-parallel ranks would split it, each shard's
// gradient in its own zeroed buffer, the S gradients added in shard order. The expected run is
// written out here with the layer API (gpt_forward, gpt_backward, AdamW), not with train_single.
TEST(Pa3ModelTrain, ShardsAreAccumulatedApartAndAddedInShardOrder) {
  const pa3::GPTConfig c = small_shakespeare_config();
  const int64_t S = 3, m = 2, B = 12, T = c.block_size, steps = 3;
  pa3::TrainOptions o;
  o.steps = steps;
  o.batch_size = B;
  o.num_shards = S;
  o.num_micro = m;
  const pa3::TrainResult got = pa3::train_single(c, o, shakespeare_train());

  pa3::GPTParams params = pa3::gpt_init(c, o.model_seed);
  pa3::AdamW opt(params.list(), o.adamw);
  pa3::GPTActs acts;
  const float dloss = 1.0f / static_cast<float>(B * T);
  std::vector<float> losses;
  for (int64_t step = 0; step < steps; ++step) {
    const pa3::Batch batch = pa3::global_batch(shakespeare_train(), step, o.data_seed, B, T);
    std::vector<pa3::GPTParams> g;
    double loss = 0.0;
    for (int64_t j = 0; j < S; ++j) {
      g.push_back(pa3::gpt_zeros_like(params));
      double shard_loss = 0.0;
      for (int64_t k = 0; k < m; ++k) {
        // rows [j B/S + k B/(S m), j B/S + (k+1) B/(S m)) of the global batch
        const pa3::Batch micro = pa3::batch_shard(batch, j * m + k, S * m);
        shard_loss += pa3::gpt_forward(acts, params, c, micro.inputs, micro.targets);
        pa3::gpt_backward(g[j], acts, params, c, micro.inputs, micro.targets, dloss);
      }
      loss += shard_loss;
    }
    const auto total = g[0].list();
    for (int64_t j = 1; j < S; ++j) {
      const auto other = g[j].list();
      for (size_t i = 0; i < total.size(); ++i) {
        float* a = total[i].tensor.data<float>();
        const float* b = other[i].tensor.data<float>();
        for (int64_t e = 0; e < total[i].tensor.numel(); ++e) a[e] = a[e] + b[e];
      }
    }
    opt.step(total);
    losses.push_back(static_cast<float>(loss / static_cast<double>(S * m)));
  }
  const auto want = params.list(), have = got.params.list();
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(have[i].tensor.to_vector<float>(), want[i].tensor.to_vector<float>()) << want[i].name;
  }
  EXPECT_EQ(got.losses, losses);

  // One shard (a single running sum over all rows) rounds differently: S changes the bits.
  o.num_shards = 1;
  const pa3::TrainResult one = pa3::train_single(c, o, shakespeare_train());
  bool differs = false;
  const auto l1 = one.params.list();
  for (size_t i = 0; i < l1.size(); ++i)
    differs = differs || l1[i].tensor.to_vector<float>() != have[i].tensor.to_vector<float>();
  EXPECT_TRUE(differs) << "S = 3 and S = 1 gave the same bits: the test cannot tell them apart";

  // Bad shard counts name the option and the numbers.
  auto message = [&](int64_t shards, int64_t micro) {
    pa3::TrainOptions bad = o;
    bad.num_shards = shards;
    bad.num_micro = micro;
    try {
      pa3::train_single(c, bad, shakespeare_train());
    } catch (const mlsys::Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message(0, 1).find("num_shards"), std::string::npos) << message(0, 1);
  EXPECT_NE(message(5, 1).find("divisor of batch_size = 12, got 5"), std::string::npos) << message(5, 1);
  EXPECT_NE(message(3, 3).find("num_micro"), std::string::npos) << message(3, 3);
  EXPECT_NE(message(3, 3).find("= 4, got 3"), std::string::npos) << message(3, 3);
}

TEST(Pa3ModelTrain, ConfigValidationNamesTheField) {
  pa3::GPTConfig c = small_shakespeare_config();
  c.n_head = 3;  // does not divide 16
  try {
    c.validate();
    FAIL() << "expected mlsys::Error";
  } catch (const mlsys::Error& e) {
    EXPECT_NE(std::string(e.what()).find("n_head"), std::string::npos) << e.what();
  }
  c = small_shakespeare_config();
  c.padded_vocab_size = 66;  // not a multiple of 4
  EXPECT_THROW(c.validate(), mlsys::Error);
  EXPECT_EQ(pa3::pad_vocab(65), 68);
  EXPECT_EQ(pa3::pad_vocab(64), 64);
}

}  // namespace
