// The GPT's layers, forward and backward, as plain loops over float pointers (see pa3/gpt.h for
// the contracts). Every backward adds into its gradients; loops run in a fixed order.
#include <cmath>
#include <vector>

#include "check.h"
#include "pa3/gpt.h"

namespace pa3 {

using detail::check_rank;
using detail::check_tensor;
using detail::drop_last;
using detail::fail;
using detail::with_last;
using mlsys::DType;
using mlsys::Shape;

// ================================================================================================
// Embedding
// ================================================================================================

void embedding_forward(const Tensor& out, const Tensor& tokens, const Tensor& wte,
                       const Tensor& wpe) {
  const char* op = "embedding_forward";
  check_rank(op, "tokens", tokens, 2);
  check_rank(op, "wte", wte, 2);
  check_rank(op, "wpe", wpe, 2);
  const int64_t B = tokens.size(0), T = tokens.size(1), Vp = wte.size(0), C = wte.size(1);
  check_tensor(op, "tokens", tokens, {B, T}, DType::Int32);
  check_tensor(op, "wte", wte, {Vp, C});
  if (wpe.size(0) < T) {
    fail(op, "wpe", "expected at least T = " + std::to_string(T) + " rows (block_size >= T), got " +
                        wpe.describe());
  }
  check_tensor(op, "wpe", wpe, {wpe.size(0), C});
  check_tensor(op, "out", out, {B, T, C});
  const int32_t* tok = tokens.data<int32_t>();
  const float* te = wte.data<float>();
  const float* pe = wpe.data<float>();
  float* o = out.data<float>();
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t t = 0; t < T; ++t) {
      const int32_t ix = tok[b * T + t];
      if (ix < 0 || ix >= Vp) {
        fail(op, "tokens", "expected ids in [0, " + std::to_string(Vp) + "), got " +
                               std::to_string(ix) + " at [" + std::to_string(b) + ", " +
                               std::to_string(t) + "]");
      }
      float* o_bt = o + (b * T + t) * C;
      for (int64_t i = 0; i < C; ++i) o_bt[i] = te[ix * C + i] + pe[t * C + i];
    }
  }
}

void embedding_backward(const Tensor& dwte, const Tensor& dwpe, const Tensor& dout,
                        const Tensor& tokens) {
  const char* op = "embedding_backward";
  check_rank(op, "tokens", tokens, 2);
  check_rank(op, "dwte", dwte, 2);
  check_rank(op, "dwpe", dwpe, 2);
  const int64_t B = tokens.size(0), T = tokens.size(1), Vp = dwte.size(0), C = dwte.size(1);
  check_tensor(op, "tokens", tokens, {B, T}, DType::Int32);
  check_tensor(op, "dwte", dwte, {Vp, C});
  if (dwpe.size(0) < T) fail(op, "dwpe", "expected at least T rows, got " + dwpe.describe());
  check_tensor(op, "dwpe", dwpe, {dwpe.size(0), C});
  check_tensor(op, "dout", dout, {B, T, C});
  const int32_t* tok = tokens.data<int32_t>();
  const float* d = dout.data<float>();
  float* dte = dwte.data<float>();
  float* dpe = dwpe.data<float>();
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t t = 0; t < T; ++t) {
      const int32_t ix = tok[b * T + t];
      if (ix < 0 || ix >= Vp) fail(op, "tokens", "expected ids in [0, Vp), got " + std::to_string(ix));
      const float* d_bt = d + (b * T + t) * C;
      for (int64_t i = 0; i < C; ++i) {
        dte[ix * C + i] += d_bt[i];
        dpe[t * C + i] += d_bt[i];
      }
    }
  }
}

// ================================================================================================
// LayerNorm
// ================================================================================================

namespace {
constexpr float kLayerNormEps = 1e-5f;
}

void layernorm_forward(const Tensor& out, const Tensor& mean, const Tensor& rstd,
                       const Tensor& inp, const Tensor& weight, const Tensor& bias) {
  const char* op = "layernorm_forward";
  check_rank(op, "inp", inp, 1);
  const int64_t C = inp.size(-1), rows = inp.numel() / C;
  check_tensor(op, "inp", inp, inp.shape());
  check_tensor(op, "weight", weight, {C});
  check_tensor(op, "bias", bias, {C});
  check_tensor(op, "out", out, inp.shape());
  check_tensor(op, "mean", mean, drop_last(inp.shape()));
  check_tensor(op, "rstd", rstd, drop_last(inp.shape()));
  const float* x = inp.data<float>();
  const float* w = weight.data<float>();
  const float* bb = bias.data<float>();
  float* o = out.data<float>();
  float* mu = mean.data<float>();
  float* rs = rstd.data<float>();
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * C;
    float m = 0.f;
    for (int64_t i = 0; i < C; ++i) m += xr[i];
    m = m / C;
    float var = 0.f;
    for (int64_t i = 0; i < C; ++i) {
      const float diff = xr[i] - m;
      var += diff * diff;
    }
    var = var / C;
    const float s = 1.0f / std::sqrt(var + kLayerNormEps);
    float* orow = o + r * C;
    for (int64_t i = 0; i < C; ++i) orow[i] = (xr[i] - m) * s * w[i] + bb[i];
    mu[r] = m;
    rs[r] = s;
  }
}

void layernorm_backward(const Tensor& dinp, const Tensor& dweight, const Tensor& dbias,
                        const Tensor& dout, const Tensor& inp, const Tensor& weight,
                        const Tensor& mean, const Tensor& rstd) {
  const char* op = "layernorm_backward";
  check_rank(op, "inp", inp, 1);
  const int64_t C = inp.size(-1), rows = inp.numel() / C;
  check_tensor(op, "inp", inp, inp.shape());
  check_tensor(op, "dinp", dinp, inp.shape());
  check_tensor(op, "dout", dout, inp.shape());
  check_tensor(op, "weight", weight, {C});
  check_tensor(op, "dweight", dweight, {C});
  check_tensor(op, "dbias", dbias, {C});
  check_tensor(op, "mean", mean, drop_last(inp.shape()));
  check_tensor(op, "rstd", rstd, drop_last(inp.shape()));
  const float* x = inp.data<float>();
  const float* w = weight.data<float>();
  const float* d = dout.data<float>();
  const float* mu = mean.data<float>();
  const float* rs = rstd.data<float>();
  float* dx = dinp.data<float>();
  float* dw = dweight.data<float>();
  float* db = dbias.data<float>();
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * C;
    const float* dr = d + r * C;
    // With n = normalized input and g = weight * dout:  dx = rstd (g - mean(g) - n mean(g n)).
    float g_mean = 0.f, gn_mean = 0.f;
    for (int64_t i = 0; i < C; ++i) {
      const float n = (xr[i] - mu[r]) * rs[r];
      const float g = w[i] * dr[i];
      g_mean += g;
      gn_mean += g * n;
    }
    g_mean = g_mean / C;
    gn_mean = gn_mean / C;
    float* dxr = dx + r * C;
    for (int64_t i = 0; i < C; ++i) {
      const float n = (xr[i] - mu[r]) * rs[r];
      const float g = w[i] * dr[i];
      db[i] += dr[i];
      dw[i] += n * dr[i];
      dxr[i] += (g - g_mean - n * gn_mean) * rs[r];
    }
  }
}

// ================================================================================================
// Linear layer: y = x W^T + b with W [N, K]
// ================================================================================================

void linear_forward(const Tensor& out, const Tensor& inp, const Tensor& weight,
                    const Tensor& bias) {
  const char* op = "linear_forward";
  check_rank(op, "inp", inp, 1);
  check_rank(op, "weight", weight, 2);
  const int64_t K = inp.size(-1), N = weight.size(0), M = inp.numel() / K;
  check_tensor(op, "inp", inp, inp.shape());
  check_tensor(op, "weight", weight, {N, K});
  if (bias.defined()) check_tensor(op, "bias", bias, {N});
  check_tensor(op, "out", out, with_last(inp.shape(), N));
  const float* x = inp.data<float>();
  const float* w = weight.data<float>();
  const float* bb = bias.defined() ? bias.data<float>() : nullptr;
  float* o = out.data<float>();
  // W^T [K, N], so that the inner loop runs over contiguous output columns (it vectorizes
  // across columns, which keeps each column's sum in the order k = 0, 1, ...).
  std::vector<float> wt(static_cast<size_t>(K * N));
  for (int64_t n = 0; n < N; ++n) {
    for (int64_t k = 0; k < K; ++k) wt[k * N + n] = w[n * K + k];
  }
  for (int64_t m = 0; m < M; ++m) {
    float* orow = o + m * N;
    for (int64_t n = 0; n < N; ++n) orow[n] = bb ? bb[n] : 0.f;
    const float* xrow = x + m * K;
    for (int64_t k = 0; k < K; ++k) {
      const float a = xrow[k];
      const float* wk = wt.data() + k * N;
      for (int64_t n = 0; n < N; ++n) orow[n] += a * wk[n];
    }
  }
}

void linear_backward(const Tensor& dinp, const Tensor& dweight, const Tensor& dbias,
                     const Tensor& dout, const Tensor& inp, const Tensor& weight) {
  const char* op = "linear_backward";
  check_rank(op, "inp", inp, 1);
  check_rank(op, "weight", weight, 2);
  const int64_t K = inp.size(-1), N = weight.size(0), M = inp.numel() / K;
  check_tensor(op, "inp", inp, inp.shape());
  check_tensor(op, "weight", weight, {N, K});
  check_tensor(op, "dweight", dweight, {N, K});
  check_tensor(op, "dout", dout, with_last(inp.shape(), N));
  if (dinp.defined()) check_tensor(op, "dinp", dinp, inp.shape());
  if (dbias.defined()) check_tensor(op, "dbias", dbias, {N});
  const float* x = inp.data<float>();
  const float* w = weight.data<float>();
  const float* d = dout.data<float>();
  float* dx = dinp.defined() ? dinp.data<float>() : nullptr;
  float* dw = dweight.data<float>();
  float* db = dbias.defined() ? dbias.data<float>() : nullptr;
  for (int64_t m = 0; m < M; ++m) {
    const float* drow = d + m * N;
    const float* xrow = x + m * K;
    if (dx) {  // dx[m, :] += sum_n d[m, n] W[n, :]
      float* dxrow = dx + m * K;
      for (int64_t n = 0; n < N; ++n) {
        const float dn = drow[n];
        const float* wn = w + n * K;
        for (int64_t k = 0; k < K; ++k) dxrow[k] += dn * wn[k];
      }
    }
    for (int64_t n = 0; n < N; ++n) {  // dW[n, :] += d[m, n] x[m, :]
      const float dn = drow[n];
      float* dwn = dw + n * K;
      for (int64_t k = 0; k < K; ++k) dwn[k] += dn * xrow[k];
    }
    if (db) {
      for (int64_t n = 0; n < N; ++n) db[n] += drow[n];
    }
  }
}

// ================================================================================================
// Causal multi-head self-attention
// ================================================================================================

namespace {
struct AttnDims {
  int64_t B, T, C, NH, hs;
};

AttnDims attention_dims(const char* op, const Tensor& qkv, int64_t n_head) {
  check_rank(op, "qkv", qkv, 3);
  const int64_t B = qkv.size(0), T = qkv.size(1), C3 = qkv.size(2);
  if (C3 % 3 != 0) fail(op, "qkv", "expected a last dim 3C, got " + qkv.describe());
  const int64_t C = C3 / 3;
  if (n_head <= 0 || C % n_head != 0) {
    fail(op, "n_head", "expected a positive divisor of C = " + std::to_string(C) + ", got " +
                           std::to_string(n_head));
  }
  check_tensor(op, "qkv", qkv, {B, T, C3});
  return {B, T, C, n_head, C / n_head};
}
}  // namespace

void attention_forward(const Tensor& out, const Tensor& att, const Tensor& qkv, int64_t n_head) {
  const char* op = "attention_forward";
  const auto [B, T, C, NH, hs] = attention_dims(op, qkv, n_head);
  check_tensor(op, "out", out, {B, T, C});
  check_tensor(op, "att", att, {B, NH, T, T});
  const float* in = qkv.data<float>();
  float* o = out.data<float>();
  float* a = att.data<float>();
  const float scale = 1.0f / std::sqrt(static_cast<float>(hs));
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t t = 0; t < T; ++t) {
      for (int64_t h = 0; h < NH; ++h) {
        const float* q = in + (b * T + t) * 3 * C + h * hs;
        float* arow = a + ((b * NH + h) * T + t) * T;
        // Scores q . k_t2 / sqrt(hs) for t2 <= t, and their max (for a stable softmax).
        float maxval = -INFINITY;
        for (int64_t t2 = 0; t2 <= t; ++t2) {
          const float* k = in + (b * T + t2) * 3 * C + C + h * hs;
          float dot = 0.f;
          for (int64_t i = 0; i < hs; ++i) dot += q[i] * k[i];
          arow[t2] = dot * scale;
          if (arow[t2] > maxval) maxval = arow[t2];
        }
        float expsum = 0.f;
        for (int64_t t2 = 0; t2 <= t; ++t2) {
          arow[t2] = std::exp(arow[t2] - maxval);
          expsum += arow[t2];
        }
        const float inv = 1.0f / expsum;
        for (int64_t t2 = 0; t2 < T; ++t2) arow[t2] = t2 <= t ? arow[t2] * inv : 0.f;
        // out = sum_t2 att[t2] v_t2
        float* orow = o + (b * T + t) * C + h * hs;
        for (int64_t i = 0; i < hs; ++i) orow[i] = 0.f;
        for (int64_t t2 = 0; t2 <= t; ++t2) {
          const float* v = in + (b * T + t2) * 3 * C + 2 * C + h * hs;
          for (int64_t i = 0; i < hs; ++i) orow[i] += arow[t2] * v[i];
        }
      }
    }
  }
}

void attention_backward(const Tensor& dqkv, const Tensor& dout, const Tensor& qkv,
                        const Tensor& att, int64_t n_head) {
  const char* op = "attention_backward";
  const auto [B, T, C, NH, hs] = attention_dims(op, qkv, n_head);
  check_tensor(op, "dqkv", dqkv, {B, T, 3 * C});
  check_tensor(op, "dout", dout, {B, T, C});
  check_tensor(op, "att", att, {B, NH, T, T});
  const float* in = qkv.data<float>();
  const float* d = dout.data<float>();
  const float* a = att.data<float>();
  float* din = dqkv.data<float>();
  const float scale = 1.0f / std::sqrt(static_cast<float>(hs));
  std::vector<float> datt(static_cast<size_t>(T)), dpre(static_cast<size_t>(T));
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t t = 0; t < T; ++t) {
      for (int64_t h = 0; h < NH; ++h) {
        const float* arow = a + ((b * NH + h) * T + t) * T;
        const float* drow = d + (b * T + t) * C + h * hs;
        // out = sum_t2 att[t2] v_t2:  datt[t2] = dout . v_t2;  dv_t2 += att[t2] dout
        for (int64_t t2 = 0; t2 <= t; ++t2) {
          const float* v = in + (b * T + t2) * 3 * C + 2 * C + h * hs;
          float* dv = din + (b * T + t2) * 3 * C + 2 * C + h * hs;
          float dot = 0.f;
          for (int64_t i = 0; i < hs; ++i) {
            dot += drow[i] * v[i];
            dv[i] += arow[t2] * drow[i];
          }
          datt[t2] = dot;
        }
        // softmax: dpre[t2] = att[t2] (datt[t2] - sum_t3 att[t3] datt[t3])
        float weighted = 0.f;
        for (int64_t t2 = 0; t2 <= t; ++t2) weighted += arow[t2] * datt[t2];
        for (int64_t t2 = 0; t2 <= t; ++t2) dpre[t2] = arow[t2] * (datt[t2] - weighted);
        // pre[t2] = scale q . k_t2:  dq += scale dpre[t2] k_t2;  dk_t2 += scale dpre[t2] q
        const float* q = in + (b * T + t) * 3 * C + h * hs;
        float* dq = din + (b * T + t) * 3 * C + h * hs;
        for (int64_t t2 = 0; t2 <= t; ++t2) {
          const float* k = in + (b * T + t2) * 3 * C + C + h * hs;
          float* dk = din + (b * T + t2) * 3 * C + C + h * hs;
          const float g = dpre[t2] * scale;
          for (int64_t i = 0; i < hs; ++i) {
            dq[i] += g * k[i];
            dk[i] += g * q[i];
          }
        }
      }
    }
  }
}

// ================================================================================================
// GELU (tanh approximation) and the residual connection
// ================================================================================================

namespace {
const float kGeluScale = std::sqrt(2.0f / static_cast<float>(M_PI));
}

void gelu_forward(const Tensor& out, const Tensor& inp) {
  const char* op = "gelu_forward";
  check_rank(op, "inp", inp, 0);
  check_tensor(op, "inp", inp, inp.shape());
  check_tensor(op, "out", out, inp.shape());
  const float* x = inp.data<float>();
  float* o = out.data<float>();
  for (int64_t i = 0; i < inp.numel(); ++i) {
    const float cube = 0.044715f * x[i] * x[i] * x[i];
    o[i] = 0.5f * x[i] * (1.0f + std::tanh(kGeluScale * (x[i] + cube)));
  }
}

void gelu_backward(const Tensor& dinp, const Tensor& dout, const Tensor& inp) {
  const char* op = "gelu_backward";
  check_rank(op, "inp", inp, 0);
  check_tensor(op, "inp", inp, inp.shape());
  check_tensor(op, "dinp", dinp, inp.shape());
  check_tensor(op, "dout", dout, inp.shape());
  const float* x = inp.data<float>();
  const float* d = dout.data<float>();
  float* dx = dinp.data<float>();
  for (int64_t i = 0; i < inp.numel(); ++i) {
    const float cube = 0.044715f * x[i] * x[i] * x[i];
    const float th = std::tanh(kGeluScale * (x[i] + cube));
    const float sech2 = 1.0f - th * th;
    const float local =
        0.5f * (1.0f + th) + 0.5f * x[i] * sech2 * kGeluScale * (1.0f + 3.0f * 0.044715f * x[i] * x[i]);
    dx[i] += local * d[i];
  }
}

void residual_forward(const Tensor& out, const Tensor& a, const Tensor& b) {
  const char* op = "residual_forward";
  check_rank(op, "a", a, 0);
  check_tensor(op, "a", a, a.shape());
  check_tensor(op, "b", b, a.shape());
  check_tensor(op, "out", out, a.shape());
  const float* pa = a.data<float>();
  const float* pb = b.data<float>();
  float* o = out.data<float>();
  for (int64_t i = 0; i < a.numel(); ++i) o[i] = pa[i] + pb[i];
}

void residual_backward(const Tensor& da, const Tensor& db, const Tensor& dout) {
  const char* op = "residual_backward";
  check_rank(op, "dout", dout, 0);
  check_tensor(op, "dout", dout, dout.shape());
  check_tensor(op, "da", da, dout.shape());
  check_tensor(op, "db", db, dout.shape());
  const float* d = dout.data<float>();
  float* pa = da.data<float>();
  float* pb = db.data<float>();
  for (int64_t i = 0; i < dout.numel(); ++i) {
    pa[i] += d[i];
    pb[i] += d[i];
  }
}

// ================================================================================================
// Softmax cross-entropy
// ================================================================================================

float crossentropy_forward(const Tensor& losses, const Tensor& probs, const Tensor& logits,
                           const Tensor& targets, int64_t vocab_size) {
  const char* op = "crossentropy_forward";
  check_rank(op, "logits", logits, 3);
  const int64_t B = logits.size(0), T = logits.size(1), Vp = logits.size(2), V = vocab_size;
  if (V <= 0 || V > Vp) {
    fail(op, "vocab_size", "expected 0 < V <= Vp = " + std::to_string(Vp) + ", got " +
                               std::to_string(V));
  }
  check_tensor(op, "logits", logits, {B, T, Vp});
  check_tensor(op, "probs", probs, {B, T, Vp});
  check_tensor(op, "losses", losses, {B, T});
  check_tensor(op, "targets", targets, {B, T}, DType::Int32);
  const float* z = logits.data<float>();
  const int32_t* y = targets.data<int32_t>();
  float* p = probs.data<float>();
  float* l = losses.data<float>();
  double total = 0.0;
  for (int64_t r = 0; r < B * T; ++r) {
    if (y[r] < 0 || y[r] >= V) {
      fail(op, "targets", "expected ids in [0, " + std::to_string(V) + "), got " +
                              std::to_string(y[r]) + " at flat position " + std::to_string(r));
    }
    const float* zr = z + r * Vp;
    float* pr = p + r * Vp;
    float maxval = -INFINITY;
    for (int64_t i = 0; i < V; ++i) maxval = zr[i] > maxval ? zr[i] : maxval;
    float sum = 0.f;
    for (int64_t i = 0; i < V; ++i) {
      pr[i] = std::exp(zr[i] - maxval);
      sum += pr[i];
    }
    const float inv = 1.0f / sum;
    for (int64_t i = 0; i < V; ++i) pr[i] *= inv;
    for (int64_t i = V; i < Vp; ++i) pr[i] = 0.f;
    // -log softmax = log(sum) - (z_y - max): no log of an underflowed probability.
    l[r] = std::log(sum) - (zr[y[r]] - maxval);
    total += l[r];
  }
  return static_cast<float>(total / static_cast<double>(B * T));
}

void crossentropy_backward(const Tensor& dlogits, const Tensor& probs, const Tensor& targets,
                           int64_t vocab_size, float dloss) {
  const char* op = "crossentropy_backward";
  check_rank(op, "probs", probs, 3);
  const int64_t B = probs.size(0), T = probs.size(1), Vp = probs.size(2), V = vocab_size;
  if (V <= 0 || V > Vp) fail(op, "vocab_size", "expected 0 < V <= Vp, got " + std::to_string(V));
  check_tensor(op, "probs", probs, {B, T, Vp});
  check_tensor(op, "dlogits", dlogits, {B, T, Vp});
  check_tensor(op, "targets", targets, {B, T}, DType::Int32);
  const float* p = probs.data<float>();
  const int32_t* y = targets.data<int32_t>();
  float* dz = dlogits.data<float>();
  for (int64_t r = 0; r < B * T; ++r) {
    if (y[r] < 0 || y[r] >= V) fail(op, "targets", "expected ids in [0, V), got " + std::to_string(y[r]));
    const float* pr = p + r * Vp;
    float* dr = dz + r * Vp;
    for (int64_t i = 0; i < V; ++i) {
      const float indicator = i == y[r] ? 1.0f : 0.0f;
      dr[i] += (pr[i] - indicator) * dloss;
    }
  }
}

}  // namespace pa3
