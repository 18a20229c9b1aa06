// The GPT model: configuration, parameters and their initialization, and the forward and
// backward passes composed from the layers in layers.cpp (contracts in pa3/gpt.h).
#include <cmath>
#include <limits>

#include "check.h"
#include "mlsys/random.h"
#include "pa3/gpt.h"

namespace pa3 {

using detail::check_tensor;
using detail::fail;
using mlsys::DType;
using mlsys::Shape;

// ================================================================================================
// Configuration and parameters
// ================================================================================================

int64_t pad_vocab(int64_t vocab_size, int64_t multiple) {
  if (vocab_size <= 0 || multiple <= 0) {
    fail("pad_vocab", "vocab_size", "expected positive vocab_size and multiple, got " +
                                        std::to_string(vocab_size) + " and " +
                                        std::to_string(multiple));
  }
  return (vocab_size + multiple - 1) / multiple * multiple;
}

void GPTConfig::validate() const {
  const char* op = "GPTConfig";
  auto positive = [&](const char* name, int64_t v) {
    if (v <= 0) fail(op, name, "expected a positive value, got " + std::to_string(v));
  };
  positive("vocab_size", vocab_size);
  positive("padded_vocab_size", padded_vocab_size);
  positive("block_size", block_size);
  positive("n_layer", n_layer);
  positive("n_head", n_head);
  positive("n_embd", n_embd);
  if (padded_vocab_size < vocab_size || padded_vocab_size % 4 != 0) {
    fail(op, "padded_vocab_size", "expected a multiple of 4 >= vocab_size = " +
                                      std::to_string(vocab_size) + ", got " +
                                      std::to_string(padded_vocab_size));
  }
  if (n_embd % n_head != 0) {
    fail(op, "n_head", "expected a divisor of n_embd = " + std::to_string(n_embd) + ", got " +
                           std::to_string(n_head));
  }
}

std::vector<Tensor*> GPTParams::fields() {
  std::vector<Tensor*> out = {&wte, &wpe};
  for (BlockParams& b : h) {
    for (Tensor* t : {&b.ln1_w, &b.ln1_b, &b.qkv_w, &b.qkv_b, &b.attproj_w, &b.attproj_b,
                      &b.ln2_w, &b.ln2_b, &b.fc_w, &b.fc_b, &b.fcproj_w, &b.fcproj_b})
      out.push_back(t);
  }
  out.push_back(&lnf_w);
  out.push_back(&lnf_b);
  if (!tied) out.push_back(&lm_head);
  return out;
}

std::vector<NamedTensor> GPTParams::list() const {
  std::vector<NamedTensor> out;
  out.push_back({"wte", wte, true});
  out.push_back({"wpe", wpe, true});
  for (size_t l = 0; l < h.size(); ++l) {
    const std::string p = "h." + std::to_string(l) + ".";
    const BlockParams& b = h[l];
    out.push_back({p + "ln_1.weight", b.ln1_w, false});
    out.push_back({p + "ln_1.bias", b.ln1_b, false});
    out.push_back({p + "attn.c_attn.weight", b.qkv_w, true});
    out.push_back({p + "attn.c_attn.bias", b.qkv_b, false});
    out.push_back({p + "attn.c_proj.weight", b.attproj_w, true});
    out.push_back({p + "attn.c_proj.bias", b.attproj_b, false});
    out.push_back({p + "ln_2.weight", b.ln2_w, false});
    out.push_back({p + "ln_2.bias", b.ln2_b, false});
    out.push_back({p + "mlp.c_fc.weight", b.fc_w, true});
    out.push_back({p + "mlp.c_fc.bias", b.fc_b, false});
    out.push_back({p + "mlp.c_proj.weight", b.fcproj_w, true});
    out.push_back({p + "mlp.c_proj.bias", b.fcproj_b, false});
  }
  out.push_back({"ln_f.weight", lnf_w, false});
  out.push_back({"ln_f.bias", lnf_b, false});
  if (!tied) out.push_back({"lm_head.weight", lm_head, true});
  return out;
}

int64_t GPTParams::num_params() const {
  int64_t n = 0;
  for (const NamedTensor& p : list()) n += p.tensor.numel();
  return n;
}

uint64_t param_seed(uint64_t seed, int64_t index) {
  const mlsys::Philox4x32 ctr{{static_cast<uint32_t>(index), 0u, 0x9A3u, 0u}};
  const mlsys::Philox4x32 r =
      mlsys::philox4x32(ctr, static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32));
  return static_cast<uint64_t>(r.v[0]) | (static_cast<uint64_t>(r.v[1]) << 32);
}

GPTParams gpt_init(const GPTConfig& config, uint64_t seed) {
  config.validate();
  const int64_t C = config.n_embd, L = config.n_layer, V = config.vocab_size,
                Vp = config.padded_vocab_size;
  const float std_base = 0.02f;
  const float std_resid = 0.02f / std::sqrt(2.0f * static_cast<float>(L));
  int64_t index = 0;  // canonical parameter index (see pa3/gpt.h)
  auto normal = [&](Shape shape, float std) {
    return mlsys::randn(std::move(shape), param_seed(seed, index++), 0.f, std);
  };
  auto constant = [&](Shape shape, float value) {
    ++index;
    return mlsys::full(std::move(shape), value);
  };
  GPTParams p;
  p.tied = config.tie_embeddings;
  p.wte = normal({Vp, C}, std_base);
  p.wpe = normal({config.block_size, C}, std_base);
  for (int64_t l = 0; l < L; ++l) {
    BlockParams b;
    b.ln1_w = constant({C}, 1.f);
    b.ln1_b = constant({C}, 0.f);
    b.qkv_w = normal({3 * C, C}, std_base);
    b.qkv_b = constant({3 * C}, 0.f);
    b.attproj_w = normal({C, C}, std_resid);
    b.attproj_b = constant({C}, 0.f);
    b.ln2_w = constant({C}, 1.f);
    b.ln2_b = constant({C}, 0.f);
    b.fc_w = normal({4 * C, C}, std_base);
    b.fc_b = constant({4 * C}, 0.f);
    b.fcproj_w = normal({C, 4 * C}, std_resid);
    b.fcproj_b = constant({C}, 0.f);
    p.h.push_back(b);
  }
  p.lnf_w = constant({C}, 1.f);
  p.lnf_b = constant({C}, 0.f);
  p.lm_head = p.tied ? p.wte : normal({Vp, C}, std_base);
  // Padded vocabulary rows: never selected by a token, their logits are masked; keep them 0.
  for (const Tensor& w : {p.wte, p.lm_head}) {
    float* d = w.data<float>();
    for (int64_t i = V * C; i < Vp * C; ++i) d[i] = 0.f;
  }
  return p;
}

GPTParams gpt_zeros_like(const GPTParams& params) {
  auto z = [](const Tensor& t) { return mlsys::zeros(t.shape()); };
  GPTParams g;
  g.tied = params.tied;
  g.wte = z(params.wte);
  g.wpe = z(params.wpe);
  for (const BlockParams& b : params.h) {
    g.h.push_back({z(b.ln1_w), z(b.ln1_b), z(b.qkv_w), z(b.qkv_b), z(b.attproj_w),
                   z(b.attproj_b), z(b.ln2_w), z(b.ln2_b), z(b.fc_w), z(b.fc_b), z(b.fcproj_w),
                   z(b.fcproj_b)});
  }
  g.lnf_w = z(params.lnf_w);
  g.lnf_b = z(params.lnf_b);
  g.lm_head = g.tied ? g.wte : z(params.lm_head);
  return g;
}

void zero_grads(const GPTParams& grads) {
  for (NamedTensor& g : grads.list()) g.tensor.fill_(0.f);
}

// ================================================================================================
// Transformer block
// ================================================================================================

BlockActs block_acts_alloc(const GPTConfig& config, int64_t B, int64_t T) {
  const int64_t C = config.n_embd, NH = config.n_head;
  auto e = [](Shape s) { return mlsys::empty(std::move(s)); };
  BlockActs a;
  a.ln1 = e({B, T, C});
  a.ln1_mean = e({B, T});
  a.ln1_rstd = e({B, T});
  a.qkv = e({B, T, 3 * C});
  a.att = e({B, NH, T, T});
  a.atty = e({B, T, C});
  a.attproj = e({B, T, C});
  a.res2 = e({B, T, C});
  a.ln2 = e({B, T, C});
  a.ln2_mean = e({B, T});
  a.ln2_rstd = e({B, T});
  a.fch = e({B, T, 4 * C});
  a.fch_gelu = e({B, T, 4 * C});
  a.fcproj = e({B, T, C});
  a.out = e({B, T, C});
  return a;
}

void block_forward(BlockActs& a, const BlockParams& p, const Tensor& x, int64_t n_head) {
  layernorm_forward(a.ln1, a.ln1_mean, a.ln1_rstd, x, p.ln1_w, p.ln1_b);
  linear_forward(a.qkv, a.ln1, p.qkv_w, p.qkv_b);
  attention_forward(a.atty, a.att, a.qkv, n_head);
  linear_forward(a.attproj, a.atty, p.attproj_w, p.attproj_b);
  residual_forward(a.res2, x, a.attproj);
  layernorm_forward(a.ln2, a.ln2_mean, a.ln2_rstd, a.res2, p.ln2_w, p.ln2_b);
  linear_forward(a.fch, a.ln2, p.fc_w, p.fc_b);
  gelu_forward(a.fch_gelu, a.fch);
  linear_forward(a.fcproj, a.fch_gelu, p.fcproj_w, p.fcproj_b);
  residual_forward(a.out, a.res2, a.fcproj);
}

void block_backward(const Tensor& dx, const BlockParams& g, const Tensor& dout,
                    const BlockActs& a, const BlockParams& p, const Tensor& x, int64_t n_head) {
  auto z = [](const Tensor& t) { return mlsys::zeros(t.shape()); };
  // out = res2 + fcproj
  Tensor dres2 = z(a.res2), dfcproj = z(a.fcproj);
  residual_backward(dres2, dfcproj, dout);
  // MLP: fcproj = linear(gelu(linear(ln2))), ln2 = LN(res2)
  Tensor dfch_gelu = z(a.fch_gelu), dfch = z(a.fch), dln2 = z(a.ln2);
  linear_backward(dfch_gelu, g.fcproj_w, g.fcproj_b, dfcproj, a.fch_gelu, p.fcproj_w);
  gelu_backward(dfch, dfch_gelu, a.fch);
  linear_backward(dln2, g.fc_w, g.fc_b, dfch, a.ln2, p.fc_w);
  layernorm_backward(dres2, g.ln2_w, g.ln2_b, dln2, a.res2, p.ln2_w, a.ln2_mean, a.ln2_rstd);
  // res2 = x + attproj
  Tensor dattproj = z(a.attproj);
  residual_backward(dx, dattproj, dres2);
  // attention: attproj = linear(attention(linear(ln1))), ln1 = LN(x)
  Tensor datty = z(a.atty), dqkv = z(a.qkv), dln1 = z(a.ln1);
  linear_backward(datty, g.attproj_w, g.attproj_b, dattproj, a.atty, p.attproj_w);
  attention_backward(dqkv, datty, a.qkv, a.att, n_head);
  linear_backward(dln1, g.qkv_w, g.qkv_b, dqkv, a.ln1, p.qkv_w);
  layernorm_backward(dx, g.ln1_w, g.ln1_b, dln1, x, p.ln1_w, a.ln1_mean, a.ln1_rstd);
}

// ================================================================================================
// The whole model
// ================================================================================================

GPTActs gpt_acts_alloc(const GPTConfig& config, int64_t B, int64_t T) {
  config.validate();
  if (B <= 0 || T <= 0 || T > config.block_size) {
    fail("gpt_acts_alloc", "T", "expected B > 0 and 0 < T <= block_size = " +
                                    std::to_string(config.block_size) + ", got B = " +
                                    std::to_string(B) + ", T = " + std::to_string(T));
  }
  GPTActs a;
  a.B = B;
  a.T = T;
  a.encoded = mlsys::empty({B, T, config.n_embd});
  for (int64_t l = 0; l < config.n_layer; ++l) a.blocks.push_back(block_acts_alloc(config, B, T));
  a.head = head_acts_alloc(config, B, T);
  return a;
}

HeadActs head_acts_alloc(const GPTConfig& config, int64_t B, int64_t T) {
  const int64_t C = config.n_embd, Vp = config.padded_vocab_size;
  HeadActs a;
  a.lnf = mlsys::empty({B, T, C});
  a.lnf_mean = mlsys::empty({B, T});
  a.lnf_rstd = mlsys::empty({B, T});
  a.logits = mlsys::empty({B, T, Vp});
  a.probs = mlsys::empty({B, T, Vp});
  a.losses = mlsys::empty({B, T});
  return a;
}

float head_forward(HeadActs& a, const GPTParams& p, const GPTConfig& config, const Tensor& x,
                   const Tensor& targets) {
  layernorm_forward(a.lnf, a.lnf_mean, a.lnf_rstd, x, p.lnf_w, p.lnf_b);
  linear_forward(a.logits, a.lnf, p.lm_head, Tensor());
  if (!targets.defined()) return std::numeric_limits<float>::quiet_NaN();
  return crossentropy_forward(a.losses, a.probs, a.logits, targets, config.vocab_size);
}

void head_backward(const Tensor& dx, const GPTParams& g, const HeadActs& a, const GPTParams& p,
                   const GPTConfig& config, const Tensor& x, const Tensor& targets, float dloss) {
  Tensor dlogits = mlsys::zeros(a.logits.shape()), dlnf = mlsys::zeros(a.lnf.shape());
  crossentropy_backward(dlogits, a.probs, targets, config.vocab_size, dloss);
  linear_backward(dlnf, g.lm_head, Tensor(), dlogits, a.lnf, p.lm_head);
  layernorm_backward(dx, g.lnf_w, g.lnf_b, dlnf, x, p.lnf_w, a.lnf_mean, a.lnf_rstd);
}

namespace {
void check_params(const char* op, const GPTParams& p, const GPTConfig& c) {
  if (static_cast<int64_t>(p.h.size()) != c.n_layer) {
    fail(op, "params", "expected " + std::to_string(c.n_layer) + " blocks (config.n_layer), got " +
                           std::to_string(p.h.size()));
  }
  if (p.tied != c.tie_embeddings) {
    fail(op, "params", std::string("expected ") + (c.tie_embeddings ? "tied" : "untied") +
                           " embeddings (config.tie_embeddings), got the other");
  }
  check_tensor(op, "params.wte", p.wte, {c.padded_vocab_size, c.n_embd});
  check_tensor(op, "params.wpe", p.wpe, {c.block_size, c.n_embd});
  check_tensor(op, "params.lm_head", p.lm_head, {c.padded_vocab_size, c.n_embd});
}
}  // namespace

float gpt_forward(GPTActs& acts, const GPTParams& params, const GPTConfig& config,
                  const Tensor& tokens, const Tensor& targets) {
  const char* op = "gpt_forward";
  config.validate();
  check_params(op, params, config);
  detail::check_rank(op, "tokens", tokens, 2);
  const int64_t B = tokens.size(0), T = tokens.size(1);
  check_tensor(op, "tokens", tokens, {B, T}, DType::Int32);
  if (acts.B != B || acts.T != T || static_cast<int64_t>(acts.blocks.size()) != config.n_layer) {
    acts = gpt_acts_alloc(config, B, T);
  }
  embedding_forward(acts.encoded, tokens, params.wte, params.wpe);
  Tensor x = acts.encoded;
  for (int64_t l = 0; l < config.n_layer; ++l) {
    block_forward(acts.blocks[l], params.h[l], x, config.n_head);
    x = acts.blocks[l].out;
  }
  return head_forward(acts.head, params, config, x, targets);
}

void gpt_backward(const GPTParams& grads, const GPTActs& acts, const GPTParams& params,
                  const GPTConfig& config, const Tensor& tokens, const Tensor& targets,
                  float dloss) {
  const char* op = "gpt_backward";
  check_params(op, params, config);
  check_params(op, grads, config);
  const int64_t B = acts.B, T = acts.T;
  check_tensor(op, "tokens", tokens, {B, T}, DType::Int32);
  check_tensor(op, "targets", targets, {B, T}, DType::Int32);
  auto z = [](const Tensor& t) { return mlsys::zeros(t.shape()); };
  const int64_t L = config.n_layer;
  const Tensor& last = L > 0 ? acts.blocks[L - 1].out : acts.encoded;
  Tensor dx = z(last);
  head_backward(dx, grads, acts.head, params, config, last, targets, dloss);
  // blocks, last to first
  for (int64_t l = L - 1; l >= 0; --l) {
    const Tensor& x = l > 0 ? acts.blocks[l - 1].out : acts.encoded;
    Tensor dinp = z(x);
    block_backward(dinp, grads.h[l], dx, acts.blocks[l], params.h[l], x, config.n_head);
    dx = dinp;
  }
  embedding_backward(grads.wte, grads.wpe, dx, tokens);
}

// ================================================================================================
// Generation
// ================================================================================================

int32_t gpt_next_token(const GPTParams& params, const GPTConfig& config,
                       const std::vector<int32_t>& context, float temperature, uint64_t seed,
                       uint64_t index) {
  if (context.empty()) fail("gpt_next_token", "context", "expected at least one token, got none");
  const int64_t T = std::min<int64_t>(static_cast<int64_t>(context.size()), config.block_size);
  std::vector<int32_t> window(context.end() - T, context.end());
  GPTActs acts;
  gpt_forward(acts, params, config, mlsys::from_vector(window, {1, T}), Tensor());
  const float* z = acts.head.logits.data<float>() + (T - 1) * config.padded_vocab_size;
  const int64_t V = config.vocab_size;
  int32_t best = 0;
  for (int64_t i = 1; i < V; ++i) best = z[i] > z[best] ? static_cast<int32_t>(i) : best;
  if (temperature <= 0.f) return best;
  // softmax(z / temperature) over the real vocabulary, then invert the CDF at u.
  std::vector<double> w(static_cast<size_t>(V));
  double total = 0.0;
  for (int64_t i = 0; i < V; ++i) {
    w[i] = std::exp(static_cast<double>(z[i] - z[best]) / temperature);
    total += w[i];
  }
  const double u = mlsys::uniform_from_word(mlsys::philox_word(seed, index)) * total;
  double cdf = 0.0;
  for (int64_t i = 0; i < V; ++i) {
    cdf += w[i];
    if (u < cdf) return static_cast<int32_t>(i);
  }
  return static_cast<int32_t>(V - 1);
}

}  // namespace pa3
