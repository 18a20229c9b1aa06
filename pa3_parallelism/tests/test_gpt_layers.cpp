// Tests of the GPT's layers (pa3/gpt.h): each forward against an independent computation with
// the tensor library's ops (Eigen matmul, softmax, log_softmax) or a closed-form formula in
// double, each backward against central finite differences.
//
// Finite-difference tolerances: the layers compute in float32, so f(x ± eps) carries a rounding
// error of about 1e-7 relative per term; with eps = 1e-2 and a loss L = sum(out * R) over at
// most a few hundred terms of size ~1, the difference quotient is accurate to ~1e-4 and its
// truncation error (eps^2 · f''') to ~1e-4 for these smooth functions. We therefore accept
// |analytic - numeric| <= 2e-3 + 1e-2 |numeric| (linear layers and embeddings are linear in
// each argument, so only rounding remains there).
#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "mlsys/ops.h"
#include "mlsys/testing.h"
#include "pa3/gpt.h"

namespace {

using mlsys::Shape;
using mlsys::Tensor;
using mlsys::test::allclose;
using mlsys::test::gradcheck;

constexpr double kEps = 1e-2, kRtol = 1e-2, kAtol = 2e-3;

Tensor randn(Shape shape, uint64_t seed, float std = 1.f) {
  return mlsys::randn(std::move(shape), seed, 0.f, std);
}

// sum(out * r) in double: the scalar whose gradient with respect to `out` is r.
double weighted_sum(const Tensor& out, const Tensor& r) {
  const float* o = out.data<float>();
  const float* w = r.data<float>();
  double s = 0.0;
  for (int64_t i = 0; i < out.numel(); ++i) s += static_cast<double>(o[i]) * w[i];
  return s;
}

// ================================================================================================
// Linear
// ================================================================================================

TEST(Pa3ModelLayers, LinearForwardMatchesLibraryMatmul) {
  const Tensor x = randn({2, 3, 5}, 1), w = randn({4, 5}, 2), b = randn({4}, 3);
  Tensor out = mlsys::empty({2, 3, 4});
  pa3::linear_forward(out, x, w, b);
  const Tensor expected = mlsys::matmul(x, w.t()) + b;
  MLSYS_EXPECT_ALLCLOSE(out, expected, 1e-5, 1e-5);
  pa3::linear_forward(out, x, w, Tensor());  // no bias
  MLSYS_EXPECT_ALLCLOSE(out, mlsys::matmul(x, w.t()), 1e-5, 1e-5);
}

TEST(Pa3ModelLayers, LinearBackwardFiniteDifferences) {
  const Tensor x = randn({2, 3, 5}, 4), w = randn({4, 5}, 5), b = randn({4}, 6);
  const Tensor r = randn({2, 3, 4}, 7);
  Tensor dx = mlsys::zeros(x.shape()), dw = mlsys::zeros(w.shape()), db = mlsys::zeros(b.shape());
  pa3::linear_backward(dx, dw, db, r, x, w);
  auto loss = [&](const Tensor& xx, const Tensor& ww, const Tensor& bb) {
    Tensor out = mlsys::empty({2, 3, 4});
    pa3::linear_forward(out, xx, ww, bb);
    return weighted_sum(out, r);
  };
  EXPECT_TRUE(gradcheck([&](const Tensor& t) { return loss(t, w, b); }, x, dx, kEps, kRtol, kAtol));
  EXPECT_TRUE(gradcheck([&](const Tensor& t) { return loss(x, t, b); }, w, dw, kEps, kRtol, kAtol));
  EXPECT_TRUE(gradcheck([&](const Tensor& t) { return loss(x, w, t); }, b, db, kEps, kRtol, kAtol));
}

TEST(Pa3ModelLayers, LinearBackwardAccumulates) {
  // Every backward adds into its gradients: two calls give twice the gradient of one.
  const Tensor x = randn({3, 5}, 8), w = randn({4, 5}, 9), r = randn({3, 4}, 10);
  Tensor dx1 = mlsys::zeros(x.shape()), dw1 = mlsys::zeros(w.shape()), db1 = mlsys::zeros({4});
  pa3::linear_backward(dx1, dw1, db1, r, x, w);
  Tensor dx2 = mlsys::zeros(x.shape()), dw2 = mlsys::zeros(w.shape()), db2 = mlsys::zeros({4});
  pa3::linear_backward(dx2, dw2, db2, r, x, w);
  pa3::linear_backward(dx2, dw2, db2, r, x, w);
  MLSYS_EXPECT_ALLCLOSE(dx2, dx1 * 2.f, 1e-6, 1e-6);
  MLSYS_EXPECT_ALLCLOSE(dw2, dw1 * 2.f, 1e-6, 1e-6);
  MLSYS_EXPECT_ALLCLOSE(db2, db1 * 2.f, 1e-6, 1e-6);
}

TEST(Pa3ModelLayers, LinearRowsAndColumnsAreBitIdenticalWhenSplit) {
  // The determinism contract of pa3/gpt.h: a row's (or column's) result does not depend on the
  // other rows (columns), and backward over two halves == backward over all rows, bit for bit.
  const int64_t M = 6, K = 37, N = 10;
  const Tensor x = randn({M, K}, 11), w = randn({N, K}, 12), b = randn({N}, 13);
  Tensor full = mlsys::empty({M, N});
  pa3::linear_forward(full, x, w, b);
  Tensor top = mlsys::empty({M / 2, N});
  pa3::linear_forward(top, x.slice(0, 0, M / 2).contiguous(), w, b);
  Tensor left = mlsys::empty({M, N / 2});
  pa3::linear_forward(left, x, w.slice(0, 0, N / 2).contiguous(), b.slice(0, 0, N / 2).contiguous());
  EXPECT_EQ(top.to_vector<float>(), full.slice(0, 0, M / 2).contiguous().to_vector<float>());
  EXPECT_EQ(left.to_vector<float>(), full.slice(1, 0, N / 2).contiguous().to_vector<float>());

  const Tensor r = randn({M, N}, 14);
  Tensor dw_all = mlsys::zeros({N, K}), db_all = mlsys::zeros({N});
  pa3::linear_backward(Tensor(), dw_all, db_all, r, x, w);
  Tensor dw_two = mlsys::zeros({N, K}), db_two = mlsys::zeros({N});
  for (int64_t h = 0; h < 2; ++h) {
    const int64_t begin = h * M / 2, end = (h + 1) * M / 2;
    pa3::linear_backward(Tensor(), dw_two, db_two, r.slice(0, begin, end).contiguous(),
                         x.slice(0, begin, end).contiguous(), w);
  }
  EXPECT_EQ(dw_two.to_vector<float>(), dw_all.to_vector<float>());
  EXPECT_EQ(db_two.to_vector<float>(), db_all.to_vector<float>());
}

TEST(Pa3ModelLayers, BadArgumentsThrowErrorsNamingTheArgument) {
  const Tensor x = randn({3, 5}, 15), w = randn({4, 6}, 16);
  Tensor out = mlsys::empty({3, 4});
  try {
    pa3::linear_forward(out, x, w, Tensor());
    FAIL() << "expected mlsys::Error";
  } catch (const mlsys::Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("pa3::linear_forward"), std::string::npos) << msg;
    EXPECT_NE(msg.find("'weight'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("[4, 5]"), std::string::npos) << msg;  // expected
    EXPECT_NE(msg.find("[4, 6]"), std::string::npos) << msg;  // given
  }
  EXPECT_THROW(pa3::linear_forward(out, x.t(), randn({4, 3}, 1), Tensor()), mlsys::Error);
  EXPECT_THROW(pa3::attention_forward(mlsys::empty({1, 2, 6}), mlsys::empty({1, 4, 2, 2}),
                                      mlsys::empty({1, 2, 18}), 4),
               mlsys::Error);  // 4 heads do not divide C = 6
}

// ================================================================================================
// LayerNorm, GELU, residual
// ================================================================================================

TEST(Pa3ModelLayers, LayerNormForwardMatchesFormula) {
  const Tensor x = randn({2, 3, 8}, 20, 2.f), w = randn({8}, 21), b = randn({8}, 22);
  Tensor out = mlsys::empty(x.shape()), mean = mlsys::empty({2, 3}), rstd = mlsys::empty({2, 3});
  pa3::layernorm_forward(out, mean, rstd, x, w, b);
  const Tensor mu = mlsys::mean(x, {-1}, true);
  const Tensor var = mlsys::mean((x - mu) * (x - mu), {-1}, true);
  const Tensor expected = (x - mu) / mlsys::sqrt(var + 1e-5f) * w + b;
  MLSYS_EXPECT_ALLCLOSE(out, expected, 1e-4, 1e-5);
  MLSYS_EXPECT_ALLCLOSE(mean, mu.reshape({2, 3}), 1e-5, 1e-6);
  MLSYS_EXPECT_ALLCLOSE(rstd, (1.f / mlsys::sqrt(var + 1e-5f)).reshape({2, 3}), 1e-4, 1e-6);
}

TEST(Pa3ModelLayers, LayerNormBackwardFiniteDifferences) {
  const Tensor x = randn({2, 3, 8}, 23), w = randn({8}, 24), b = randn({8}, 25);
  const Tensor r = randn({2, 3, 8}, 26);
  auto loss = [&](const Tensor& xx, const Tensor& ww, const Tensor& bb) {
    Tensor out = mlsys::empty(xx.shape()), mean = mlsys::empty({2, 3}), rstd = mlsys::empty({2, 3});
    pa3::layernorm_forward(out, mean, rstd, xx, ww, bb);
    return weighted_sum(out, r);
  };
  Tensor out = mlsys::empty(x.shape()), mean = mlsys::empty({2, 3}), rstd = mlsys::empty({2, 3});
  pa3::layernorm_forward(out, mean, rstd, x, w, b);
  Tensor dx = mlsys::zeros(x.shape()), dw = mlsys::zeros({8}), db = mlsys::zeros({8});
  pa3::layernorm_backward(dx, dw, db, r, x, w, mean, rstd);
  EXPECT_TRUE(gradcheck([&](const Tensor& t) { return loss(t, w, b); }, x, dx, kEps, kRtol, kAtol));
  EXPECT_TRUE(gradcheck([&](const Tensor& t) { return loss(x, t, b); }, w, dw, kEps, kRtol, kAtol));
  EXPECT_TRUE(gradcheck([&](const Tensor& t) { return loss(x, w, t); }, b, db, kEps, kRtol, kAtol));
}

TEST(Pa3ModelLayers, GeluForwardMatchesFormulaAndBackwardFiniteDifferences) {
  const Tensor x = randn({3, 7}, 30, 2.f);
  Tensor out = mlsys::empty(x.shape());
  pa3::gelu_forward(out, x);
  const float* px = x.data<float>();
  std::vector<float> expected;
  for (int64_t i = 0; i < x.numel(); ++i) {
    const double v = px[i];
    expected.push_back(static_cast<float>(
        0.5 * v * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (v + 0.044715 * v * v * v)))));
  }
  MLSYS_EXPECT_ALLCLOSE(out, mlsys::from_vector(expected, x.shape()), 1e-5, 1e-6);

  const Tensor r = randn({3, 7}, 31);
  Tensor dx = mlsys::zeros(x.shape());
  pa3::gelu_backward(dx, r, x);
  auto loss = [&](const Tensor& t) {
    Tensor o = mlsys::empty(t.shape());
    pa3::gelu_forward(o, t);
    return weighted_sum(o, r);
  };
  EXPECT_TRUE(gradcheck(loss, x, dx, 1e-3, kRtol, kAtol));
}

TEST(Pa3ModelLayers, ResidualForwardAndBackward) {
  const Tensor a = randn({2, 5}, 32), b = randn({2, 5}, 33), d = randn({2, 5}, 34);
  Tensor out = mlsys::empty({2, 5});
  pa3::residual_forward(out, a, b);
  MLSYS_EXPECT_ALLCLOSE(out, a + b, 0, 0);
  Tensor da = mlsys::ones({2, 5}), db = mlsys::zeros({2, 5});
  pa3::residual_backward(da, db, d);
  MLSYS_EXPECT_ALLCLOSE(da, d + 1.f, 0, 0);
  MLSYS_EXPECT_ALLCLOSE(db, d, 0, 0);
}

// ================================================================================================
// Embedding
// ================================================================================================

TEST(Pa3ModelLayers, EmbeddingForwardAndBackward) {
  const int64_t B = 2, T = 3, Vp = 8, C = 4, block = 5;
  const Tensor tokens = mlsys::from_vector(std::vector<int32_t>{1, 7, 1, 0, 3, 1}, {B, T});
  const Tensor wte = randn({Vp, C}, 40), wpe = randn({block, C}, 41), r = randn({B, T, C}, 42);
  Tensor out = mlsys::empty({B, T, C});
  pa3::embedding_forward(out, tokens, wte, wpe);
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t t = 0; t < T; ++t) {
      for (int64_t i = 0; i < C; ++i) {
        const auto ix = static_cast<int64_t>(tokens.at({b, t}));
        EXPECT_EQ(out.at({b, t, i}), wte.at({ix, i}) + wpe.at({t, i}));
      }
    }
  }
  Tensor dwte = mlsys::zeros({Vp, C}), dwpe = mlsys::zeros({block, C});
  pa3::embedding_backward(dwte, dwpe, r, tokens);
  auto loss = [&](const Tensor& te, const Tensor& pe) {
    Tensor o = mlsys::empty({B, T, C});
    pa3::embedding_forward(o, tokens, te, pe);
    return weighted_sum(o, r);
  };
  EXPECT_TRUE(gradcheck([&](const Tensor& t) { return loss(t, wpe); }, wte, dwte, kEps, kRtol, kAtol));
  EXPECT_TRUE(gradcheck([&](const Tensor& t) { return loss(wte, t); }, wpe, dwpe, kEps, kRtol, kAtol));
  EXPECT_THROW(pa3::embedding_forward(out, mlsys::from_vector(std::vector<int32_t>{0, 1, 2, 3, 8, 0},
                                                               {B, T}), wte, wpe),
               mlsys::Error);  // token 8 >= Vp
}

// ================================================================================================
// Attention
// ================================================================================================

// Independent reference: per-head q k^T / sqrt(hs), a -inf upper triangle, softmax, @ v, with
// the tensor library's (Eigen) matmul and softmax.
void attention_reference(const Tensor& qkv, int64_t NH, Tensor& att, Tensor& out) {
  const int64_t B = qkv.size(0), T = qkv.size(1), C = qkv.size(2) / 3, hs = C / NH;
  auto heads = [&](int64_t part) {  // [B, NH, T, hs]
    return qkv.slice(2, part * C, (part + 1) * C).reshape({B, T, NH, hs}).permute({0, 2, 1, 3});
  };
  Tensor scores = mlsys::matmul(heads(0), heads(1).transpose(-1, -2)) *
                  (1.0f / std::sqrt(static_cast<float>(hs)));
  Tensor mask = mlsys::zeros({T, T});
  for (int64_t t = 0; t < T; ++t) {
    for (int64_t t2 = t + 1; t2 < T; ++t2) mask.set({t, t2}, -INFINITY);
  }
  att = mlsys::softmax(scores + mask, -1);
  out = mlsys::matmul(att, heads(2)).permute({0, 2, 1, 3}).contiguous().reshape({B, T, C});
}

TEST(Pa3ModelLayers, AttentionForwardMatchesLibraryOps) {
  const int64_t B = 2, T = 5, C = 8, NH = 2;
  const Tensor qkv = randn({B, T, 3 * C}, 50);
  Tensor out = mlsys::empty({B, T, C}), att = mlsys::empty({B, NH, T, T});
  pa3::attention_forward(out, att, qkv, NH);
  Tensor att_ref, out_ref;
  attention_reference(qkv, NH, att_ref, out_ref);
  MLSYS_EXPECT_ALLCLOSE(att, att_ref, 1e-5, 1e-6);
  MLSYS_EXPECT_ALLCLOSE(out, out_ref, 1e-5, 1e-6);
}

TEST(Pa3ModelLayers, AttentionIsCausal) {
  // Changing the keys and values of positions > t must not change the output at t.
  const int64_t B = 1, T = 6, C = 8, NH = 4, t_cut = 2;
  const Tensor qkv = randn({B, T, 3 * C}, 51);
  Tensor changed = qkv.clone();
  changed.slice(1, t_cut + 1, T).copy_(randn({B, T - t_cut - 1, 3 * C}, 52));
  Tensor out1 = mlsys::empty({B, T, C}), out2 = mlsys::empty({B, T, C});
  Tensor att1 = mlsys::empty({B, NH, T, T}), att2 = mlsys::empty({B, NH, T, T});
  pa3::attention_forward(out1, att1, qkv, NH);
  pa3::attention_forward(out2, att2, changed, NH);
  EXPECT_EQ(out1.slice(1, 0, t_cut + 1).contiguous().to_vector<float>(),
            out2.slice(1, 0, t_cut + 1).contiguous().to_vector<float>());
  EXPECT_NE(out1.slice(1, t_cut + 1, T).contiguous().to_vector<float>(),
            out2.slice(1, t_cut + 1, T).contiguous().to_vector<float>());
  for (int64_t h = 0; h < NH; ++h) {
    for (int64_t t = 0; t < T; ++t) {
      for (int64_t t2 = t + 1; t2 < T; ++t2) EXPECT_EQ(att1.at({0, h, t, t2}), 0.f);
    }
  }
}

TEST(Pa3ModelLayers, AttentionBackwardFiniteDifferences) {
  const int64_t B = 2, T = 4, C = 6, NH = 2;
  const Tensor qkv = randn({B, T, 3 * C}, 53), r = randn({B, T, C}, 54);
  Tensor out = mlsys::empty({B, T, C}), att = mlsys::empty({B, NH, T, T});
  pa3::attention_forward(out, att, qkv, NH);
  Tensor dqkv = mlsys::zeros(qkv.shape());
  pa3::attention_backward(dqkv, r, qkv, att, NH);
  auto loss = [&](const Tensor& t) {
    Tensor o = mlsys::empty({B, T, C}), a = mlsys::empty({B, NH, T, T});
    pa3::attention_forward(o, a, t, NH);
    return weighted_sum(o, r);
  };
  EXPECT_TRUE(gradcheck(loss, qkv, dqkv, kEps, kRtol, kAtol));
}

// ================================================================================================
// Cross-entropy and the LM head
// ================================================================================================

TEST(Pa3ModelLayers, CrossEntropyMatchesLogSoftmaxAndIgnoresPadding) {
  const int64_t B = 2, T = 3, V = 5, Vp = 8;
  const Tensor logits = randn({B, T, Vp}, 60, 3.f);
  const Tensor targets = mlsys::from_vector(std::vector<int32_t>{0, 4, 2, 1, 3, 4}, {B, T});
  Tensor losses = mlsys::empty({B, T}), probs = mlsys::empty({B, T, Vp});
  const float mean = pa3::crossentropy_forward(losses, probs, logits, targets, V);
  const Tensor logp = mlsys::log_softmax(logits.slice(2, 0, V), -1);
  double total = 0;
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t t = 0; t < T; ++t) {
      const float expected = -logp.at({b, t, static_cast<int64_t>(targets.at({b, t}))});
      EXPECT_NEAR(losses.at({b, t}), expected, 1e-5);
      total += expected;
      for (int64_t i = V; i < Vp; ++i) EXPECT_EQ(probs.at({b, t, i}), 0.f);
    }
  }
  EXPECT_NEAR(mean, total / (B * T), 1e-5);
  MLSYS_EXPECT_ALLCLOSE(probs.slice(2, 0, V).contiguous(), mlsys::exp(logp), 1e-5, 1e-6);
  EXPECT_THROW(pa3::crossentropy_forward(losses, probs, logits,
                                         mlsys::from_vector(std::vector<int32_t>{0, 5, 2, 1, 3, 4},
                                                            {B, T}), V),
               mlsys::Error);  // target 5 >= V (a padded column)
}

TEST(Pa3ModelLayers, HeadAndCrossEntropyBackwardFiniteDifferences) {
  // logits = x W^T (the LM head, no bias), loss = dloss * sum of position losses.
  const int64_t B = 2, T = 3, C = 4, V = 6, Vp = 8;
  const Tensor x = randn({B, T, C}, 61), w = randn({Vp, C}, 62);
  const Tensor targets = mlsys::from_vector(std::vector<int32_t>{5, 0, 3, 3, 1, 2}, {B, T});
  const float dloss = 1.0f / (B * T);
  auto loss = [&](const Tensor& xx, const Tensor& ww) {
    Tensor logits = mlsys::empty({B, T, Vp}), probs = mlsys::empty({B, T, Vp});
    Tensor losses = mlsys::empty({B, T});
    pa3::linear_forward(logits, xx, ww, Tensor());
    pa3::crossentropy_forward(losses, probs, logits, targets, V);
    double s = 0;
    for (float l : losses.to_vector<float>()) s += l;
    return s * dloss;
  };
  Tensor logits = mlsys::empty({B, T, Vp}), probs = mlsys::empty({B, T, Vp});
  Tensor losses = mlsys::empty({B, T});
  pa3::linear_forward(logits, x, w, Tensor());
  pa3::crossentropy_forward(losses, probs, logits, targets, V);
  Tensor dlogits = mlsys::zeros(logits.shape()), dx = mlsys::zeros(x.shape());
  Tensor dw = mlsys::zeros(w.shape());
  pa3::crossentropy_backward(dlogits, probs, targets, V, dloss);
  pa3::linear_backward(dx, dw, Tensor(), dlogits, x, w);
  // The loss is ~1; its gradients ~0.1: use eps 1e-2 and atol 1e-4 (rounding ~1e-7 / 2e-2).
  EXPECT_TRUE(gradcheck([&](const Tensor& t) { return loss(t, w); }, x, dx, kEps, kRtol, 1e-4));
  EXPECT_TRUE(gradcheck([&](const Tensor& t) { return loss(x, t); }, w, dw, kEps, kRtol, 1e-4));
  // Padded rows of W (>= V) get exactly no gradient.
  for (int64_t i = V * C; i < Vp * C; ++i) EXPECT_EQ(dw.data<float>()[i], 0.f);
}

}  // namespace
