// pa3_parallelism/src/tensor_parallel.cpp — PA3 Task 5 (tensor parallelism, Megatron-LM):
// 5.1 the conjugate operators f and g and the column- and row-parallel linear layers, 5.2 the
// tensor-parallel transformer block, 5.3 the vocabulary-parallel embedding and cross-entropy.
// Edit only the marked regions; the rest is given.
//
// Read pa3/tensor_parallel.h first: it fixes which slice of every weight a rank holds, and what
// must equal the single-process model bit for bit. Build on the layers of pa3/gpt.h
// (linear_forward, attention_forward, ...) and use the reference collectives of the
// Communicator (tp.native_all_reduce, tp.native_all_gather): this task is graded with them.
// Every rank of the TP group calls every function here with the same shapes, in the same order.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "mlsys/error.h"
#include "pa3/tensor_parallel.h"
#include "tp/tp_check.h"

namespace pa3 {

using tp_detail::check_dense;
using tp_detail::check_shape;
using tp_detail::fail;

namespace {
// The last dim of `t` (its feature size).
int64_t last_dim(const Tensor& t) { return t.size(-1); }

// A linear layer's arguments: inp [M, K] (any leading dims), weight [N, K], out (named
// out_name: "out" or "dout") [M, N] with the same leading dims, bias [N] when defined.
void check_linear(const char* op, const char* out_name, const Tensor& out, const Tensor& inp,
                  const Tensor& weight, const Tensor& bias, const char* bias_name = "bias") {
  check_dense(op, "inp", inp);
  check_dense(op, "weight", weight);
  check_dense(op, out_name, out);
  if (weight.dim() != 2 || inp.dim() < 1 || weight.size(1) != last_dim(inp)) {
    fail(op, "weight", "expected [N, K] with K = " + std::to_string(last_dim(inp)) +
                           " (the last dim of inp " + mlsys::to_string(inp.shape()) + "), got " +
                           weight.describe());
  }
  mlsys::Shape expect = inp.shape();
  expect.back() = weight.size(0);
  if (out.shape() != expect) {
    fail(op, out_name, "expected " + mlsys::to_string(expect) + " (inp's rows, weight's N), got " +
                           out.describe());
  }
  if (bias.defined()) check_shape(op, bias_name, bias, {weight.size(0)});
}
}  // namespace

// ============================================================================================
// Task 5.1 — the conjugate operators f and g
// ============================================================================================
//
// Megatron's two operators. In a tensor-parallel layer every rank holds the same replicated
// activation x, computes with its slice of the weights, and the pieces meet in exactly one
// all-reduce per direction:
//   f  forward: identity (each rank uses its own copy of x)  backward: all-reduce of dL/dx
//   g  forward: all-reduce of the partial outputs             backward: identity
// Only the non-identity halves are functions. Both: the tensor (float32, contiguous, the same
// shape on every rank) becomes, in place, its elementwise sum over the TP group, with the same
// bits on every rank. One native_all_reduce.

void tp_f_backward(const Communicator& tp, const Tensor& dx) {
  check_dense("tp_f_backward", "dx", dx);
  // BEGIN SOLUTION PA3 Task 5.1
  tp.native_all_reduce(dx);
  // END SOLUTION
}

void tp_g_forward(const Communicator& tp, const Tensor& y) {
  check_dense("tp_g_forward", "y", y);
  // BEGIN SOLUTION PA3 Task 5.1
  tp.native_all_reduce(y);
  // END SOLUTION
}

// ============================================================================================
// Task 5.1 — column-parallel linear layer (weight split by OUTPUT rows)
// ============================================================================================
//
// The full layer is out = inp W^T + b with W [N, K]. Rank r holds rows W_r [N', K] (N' = N/tp)
// and b_r [N']: its output columns [..., N'] need only the replicated input, so the forward
// sends nothing (f's forward is the identity):
//   out [..., N'] = inp [..., K] W_r^T + b_r        (linear_forward; bit-identical to those
//                                                    columns of the full layer)
// bias may be undefined (the LM head has none).

void column_parallel_forward(const Communicator& tp, const Tensor& out, const Tensor& inp,
                             const Tensor& weight, const Tensor& bias) {
  check_linear("column_parallel_forward", "out", out, inp, weight, bias);
  // BEGIN SOLUTION PA3 Task 5.1
  linear_forward(out, inp, weight, bias);
  // END SOLUTION
}

// Backward of the column-parallel layer. Accumulates (+=), like linear_backward:
//   dweight [N', K] += dout^T inp;  dbias [N'] += column sums of dout (when defined);
//   dinp [..., K]   += SUM over ranks of (dout W_r)      (f's backward)
// Each rank's dout W_r is only the part of dL/dinp that flows through its N' columns; the full
// gradient is the sum of all ranks' parts. Plan: compute this rank's part into a zeroed
// buffer (linear_backward), all-reduce it with tp_f_backward, then add it into dinp.
// dinp may be undefined: then no input gradient and no all-reduce.

void column_parallel_backward(const Communicator& tp, const Tensor& dinp, const Tensor& dweight,
                              const Tensor& dbias, const Tensor& dout, const Tensor& inp,
                              const Tensor& weight) {
  const char* op = "column_parallel_backward";
  check_linear(op, "dout", dout, inp, weight, dbias, "dbias");
  check_shape(op, "dweight", dweight, weight.shape());
  if (dinp.defined()) check_shape(op, "dinp", dinp, inp.shape());
  // BEGIN SOLUTION PA3 Task 5.1
  Tensor part = dinp.defined() ? mlsys::zeros(inp.shape()) : Tensor();
  linear_backward(part, dweight, dbias, dout, inp, weight);
  if (!dinp.defined()) return;
  tp_f_backward(tp, part);
  float* d = dinp.data<float>();
  const float* s = part.data<float>();
  for (int64_t i = 0; i < dinp.numel(); ++i) d[i] += s[i];
  // END SOLUTION
}

// ============================================================================================
// Task 5.1 — row-parallel linear layer (weight split by INPUT columns)
// ============================================================================================
//
// Rank r holds the columns W_r [N, K'] (K' = K/tp) that multiply ITS slice of the input
// inp_r [..., K'] (the output of the column-parallel layer before it). Each rank computes a
// partial product; g sums them:
//   out [..., N] = sum over ranks of (inp_r W_r^T)  + bias          (bias [N] replicated)
// Add the bias exactly once: rank 0 starts its partial sum from the bias (linear_forward with
// the bias on rank 0, without it elsewhere), then one all-reduce of M·N floats (tp_g_forward).
// With tp = 1 this is linear_forward itself, bit for bit. Every rank ends with the same bits.

void row_parallel_forward(const Communicator& tp, const Tensor& out, const Tensor& inp,
                          const Tensor& weight, const Tensor& bias) {
  check_linear("row_parallel_forward", "out", out, inp, weight, bias);
  // BEGIN SOLUTION PA3 Task 5.1
  linear_forward(out, inp, weight, tp.rank() == 0 ? bias : Tensor());
  tp_g_forward(tp, out);
  // END SOLUTION
}

// Backward of the row-parallel layer (g's backward is the identity: every rank already holds
// the full dout). Accumulates (+=), no communication:
//   dinp [..., K'] += dout W_r;  dweight [N, K'] += dout^T inp_r;
//   dbias [N] += column sums of dout on EVERY rank (the bias is replicated: every rank computes
//   the same bits, so the replicas never drift apart). dinp and dbias may be undefined.

void row_parallel_backward(const Communicator& tp, const Tensor& dinp, const Tensor& dweight,
                           const Tensor& dbias, const Tensor& dout, const Tensor& inp,
                           const Tensor& weight) {
  const char* op = "row_parallel_backward";
  check_linear(op, "dout", dout, inp, weight, dbias, "dbias");
  check_shape(op, "dweight", dweight, weight.shape());
  if (dinp.defined()) check_shape(op, "dinp", dinp, inp.shape());
  // BEGIN SOLUTION PA3 Task 5.1
  (void)tp;
  linear_backward(dinp, dweight, dbias, dout, inp, weight);
  // END SOLUTION
}

// ============================================================================================
// Task 5.2 — the tensor-parallel transformer block
// ============================================================================================
//
// block_forward of pa3/gpt.h with the weights of p sliced as in pa3/tensor_parallel.h:
//   attention: c_attn column-parallel (this rank's NH' = NH/tp heads: q | k | v of its heads),
//              attention_forward on those heads only (heads are independent), c_proj
//              row-parallel (its input is this rank's C' attention channels);
//   MLP:       c_fc column-parallel (F' = 4C/tp hidden units), GELU on them (elementwise),
//              c_proj row-parallel.
// LayerNorms and residuals are computed on every rank on replicated [B,T,C] tensors.
// acts comes from tp_block_acts_alloc (its qkv, att, atty, fch, fch_gelu have the rank's
// sizes). Exactly two all-reduces (the two row-parallel layers); x is not modified.

void tp_block_forward(BlockActs& acts, const BlockParams& p, const Tensor& x, int64_t n_head,
                      const Communicator& tp) {
  const char* op = "tp_block_forward";
  check_dense(op, "x", x);
  if (x.dim() != 3) fail(op, "x", "expected [B, T, C], got " + x.describe());
  tp_detail::check_block_shard(op, p, x.size(2), n_head, tp.size());
  // BEGIN SOLUTION PA3 Task 5.2
  const int64_t local_heads = n_head / tp.size();
  layernorm_forward(acts.ln1, acts.ln1_mean, acts.ln1_rstd, x, p.ln1_w, p.ln1_b);
  column_parallel_forward(tp, acts.qkv, acts.ln1, p.qkv_w, p.qkv_b);
  attention_forward(acts.atty, acts.att, acts.qkv, local_heads);
  row_parallel_forward(tp, acts.attproj, acts.atty, p.attproj_w, p.attproj_b);
  residual_forward(acts.res2, x, acts.attproj);
  layernorm_forward(acts.ln2, acts.ln2_mean, acts.ln2_rstd, acts.res2, p.ln2_w, p.ln2_b);
  column_parallel_forward(tp, acts.fch, acts.ln2, p.fc_w, p.fc_b);
  gelu_forward(acts.fch_gelu, acts.fch);
  row_parallel_forward(tp, acts.fcproj, acts.fch_gelu, p.fcproj_w, p.fcproj_b);
  residual_forward(acts.out, acts.res2, acts.fcproj);
  // END SOLUTION
}

// block_backward of pa3/gpt.h on the shard: dx [B,T,C] and every gradient of `grads` (shard
// shapes) accumulated (+=). Walk the forward in reverse; the row-parallel layers need no
// communication, the column-parallel layers all-reduce their input gradient (f) right before
// the LayerNorm backward that consumes it: exactly two all-reduces. Intermediate gradients go
// into fresh zeroed tensors of the activations' shapes (mlsys::zeros(acts.<name>.shape())).

void tp_block_backward(const Tensor& dx, const BlockParams& grads, const Tensor& dout,
                       const BlockActs& acts, const BlockParams& p, const Tensor& x,
                       int64_t n_head, const Communicator& tp) {
  const char* op = "tp_block_backward";
  check_dense(op, "x", x);
  if (x.dim() != 3) fail(op, "x", "expected [B, T, C], got " + x.describe());
  check_shape(op, "dx", dx, x.shape());
  check_shape(op, "dout", dout, x.shape());
  tp_detail::check_block_shard(op, p, x.size(2), n_head, tp.size());
  tp_detail::check_block_shard(op, grads, x.size(2), n_head, tp.size(), "grads.");
  // BEGIN SOLUTION PA3 Task 5.2
  const int64_t local_heads = n_head / tp.size();
  auto zeros_as = [](const Tensor& t) { return mlsys::zeros(t.shape()); };
  // out = res2 + fcproj
  Tensor dresid = zeros_as(acts.res2), dmlp = zeros_as(acts.fcproj);
  residual_backward(dresid, dmlp, dout);
  // MLP: fcproj = row(gelu(column(ln2))), ln2 = LN(res2)
  Tensor dfch_gelu = zeros_as(acts.fch_gelu), dfch = zeros_as(acts.fch);
  Tensor dln2 = zeros_as(acts.ln2);
  row_parallel_backward(tp, dfch_gelu, grads.fcproj_w, grads.fcproj_b, dmlp, acts.fch_gelu,
                        p.fcproj_w);
  gelu_backward(dfch, dfch_gelu, acts.fch);
  column_parallel_backward(tp, dln2, grads.fc_w, grads.fc_b, dfch, acts.ln2, p.fc_w);
  layernorm_backward(dresid, grads.ln2_w, grads.ln2_b, dln2, acts.res2, p.ln2_w, acts.ln2_mean,
                     acts.ln2_rstd);
  // res2 = x + attproj
  Tensor dattn = zeros_as(acts.attproj);
  residual_backward(dx, dattn, dresid);
  // attention: attproj = row(attention(column(ln1))), ln1 = LN(x)
  Tensor datty = zeros_as(acts.atty), dqkv = zeros_as(acts.qkv), dln1 = zeros_as(acts.ln1);
  row_parallel_backward(tp, datty, grads.attproj_w, grads.attproj_b, dattn, acts.atty,
                        p.attproj_w);
  attention_backward(dqkv, datty, acts.qkv, acts.att, local_heads);
  column_parallel_backward(tp, dln1, grads.qkv_w, grads.qkv_b, dqkv, acts.ln1, p.qkv_w);
  layernorm_backward(dx, grads.ln1_w, grads.ln1_b, dln1, x, p.ln1_w, acts.ln1_mean,
                     acts.ln1_rstd);
  // END SOLUTION
}

// ============================================================================================
// Task 5.3 — vocabulary-parallel embedding
// ============================================================================================
//
// Rank r holds the rows [begin, begin + Vs) of the token embedding (wte [Vs, C], begin = r Vs).
// out [B,T,C] = wte_full[tokens[b,t]] + wpe[t]:
//   1. each rank writes the row of every token it owns and zeros for every other token;
//   2. one all-reduce of B·T·C floats (exactly one rank contributed each row: the sum is that
//      row, exactly);
//   3. every rank adds wpe[t] (replicated) to row (b, t).
// Bit-identical to embedding_forward of the full model. tokens int32 [B,T] in [0, tp·Vs)
// (checked before your code runs).

namespace {
void check_embedding(const char* op, const Communicator& tp, const Tensor& out,
                     const Tensor& tokens, const Tensor& wte, const Tensor& wpe) {
  check_dense(op, "tokens", tokens, mlsys::DType::Int32);
  if (tokens.dim() != 2) fail(op, "tokens", "expected int32[B, T], got " + tokens.describe());
  check_dense(op, "wte", wte);
  check_dense(op, "wpe", wpe);
  if (wte.dim() != 2 || wpe.dim() != 2 || wpe.size(1) != wte.size(1)) {
    fail(op, "wpe", "expected wte [Vs, C] and wpe [block_size, C] with the same C, got wte " +
                        wte.describe() + ", wpe " + wpe.describe());
  }
  const int64_t B = tokens.size(0), T = tokens.size(1), C = wte.size(1);
  const int64_t Vp = wte.size(0) * tp.size();
  if (T > wpe.size(0)) {
    fail(op, "tokens", "expected T <= block_size = " + std::to_string(wpe.size(0)) + ", got " +
                           tokens.describe());
  }
  check_shape(op, "out", out, {B, T, C});
  const int32_t* ids = tokens.data<int32_t>();
  for (int64_t i = 0; i < B * T; ++i) {
    if (ids[i] < 0 || ids[i] >= Vp) {
      fail(op, "tokens", "expected ids in [0, " + std::to_string(Vp) + ") (tp * Vs), got " +
                             std::to_string(ids[i]) + " at flat position " + std::to_string(i));
    }
  }
}
}  // namespace

void vocab_parallel_embedding_forward(const Communicator& tp, const Tensor& out,
                                      const Tensor& tokens, const Tensor& wte,
                                      const Tensor& wpe) {
  check_embedding("vocab_parallel_embedding_forward", tp, out, tokens, wte, wpe);
  // BEGIN SOLUTION PA3 Task 5.3
  const int64_t B = tokens.size(0), T = tokens.size(1), C = wte.size(1);
  const int64_t Vs = wte.size(0), begin = tp.rank() * Vs;
  const int32_t* ids = tokens.data<int32_t>();
  const float* table = wte.data<float>();
  const float* pos = wpe.data<float>();
  float* rows = out.data<float>();
  for (int64_t i = 0; i < B * T; ++i) {
    const int64_t local = ids[i] - begin;
    const bool mine = local >= 0 && local < Vs;
    for (int64_t c = 0; c < C; ++c) rows[i * C + c] = mine ? table[local * C + c] : 0.f;
  }
  tp_g_forward(tp, out);
  for (int64_t i = 0; i < B * T; ++i) {
    const int64_t t = i % T;
    for (int64_t c = 0; c < C; ++c) rows[i * C + c] += pos[t * C + c];
  }
  // END SOLUTION
}

// Backward: dwte [Vs, C] += dout[b,t] for every (b,t) whose token this rank owns; dwpe
// [block_size, C] += dout[b,t] at row t on every rank (replicated, the same bits everywhere).
// Rows in (b,t) order, as embedding_backward. No communication: dout is replicated.

void vocab_parallel_embedding_backward(const Communicator& tp, const Tensor& dwte,
                                       const Tensor& dwpe, const Tensor& dout,
                                       const Tensor& tokens) {
  check_embedding("vocab_parallel_embedding_backward", tp, dout, tokens, dwte, dwpe);
  // BEGIN SOLUTION PA3 Task 5.3
  const int64_t B = tokens.size(0), T = tokens.size(1), C = dwte.size(1);
  const int64_t Vs = dwte.size(0), begin = tp.rank() * Vs;
  const int32_t* ids = tokens.data<int32_t>();
  const float* g = dout.data<float>();
  float* dtable = dwte.data<float>();
  float* dpos = dwpe.data<float>();
  for (int64_t i = 0; i < B * T; ++i) {
    const int64_t local = ids[i] - begin, t = i % T;
    const bool mine = local >= 0 && local < Vs;
    for (int64_t c = 0; c < C; ++c) {
      if (mine) dtable[local * C + c] += g[i * C + c];
      dpos[t * C + c] += g[i * C + c];
    }
  }
  // END SOLUTION
}

// ============================================================================================
// Task 5.3 — vocabulary-parallel cross-entropy
// ============================================================================================
//
// The LM head is column-parallel over the vocabulary, so rank r holds logits [B,T,Vs]: the
// columns of the ids begin + j (begin = r Vs). Gathering the full [B,T,Vp] logits would cost
// B·T·Vp floats per rank; the softmax needs only three numbers per row (R = B·T rows):
//   1. max:    the largest logit over this rank's REAL columns (global id < vocab_size; -inf
//              when it has none), then the largest over the group: native_all_gather of the R
//              local maxima into [tp·R] (rank q's at [q R, (q+1) R)), max over q in rank order.
//   2. target: z[target - begin] when this rank owns the target, 0 otherwise; all-reduce (R).
//   3. sum:    sum of e_j = exp(z_j - max) over own real columns, in column order, starting at
//              0.f; all-reduce (R floats).
//   4. probs[j] = e_j * (1.0f / sum) on own real columns, 0 on padding columns;
//      losses[row] = log(sum) - (target - max).
// Returns the mean of losses summed in double in row order: the same value on every rank.
// With tp = 1 this is crossentropy_forward, bit for bit (same order of operations).
// Shapes are checked before your code runs: logits, probs [B,T,Vs], losses [B,T], targets
// int32 [B,T] with ids in [0, vocab_size), 0 < vocab_size <= tp·Vs.

namespace {
void check_crossentropy(const char* op, const Communicator& tp, const Tensor& probs,
                        const Tensor& targets, int64_t vocab_size) {
  check_dense(op, "probs", probs);
  if (probs.dim() != 3) fail(op, "probs", "expected [B, T, Vs], got " + probs.describe());
  const int64_t B = probs.size(0), T = probs.size(1), Vp = probs.size(2) * tp.size();
  if (vocab_size <= 0 || vocab_size > Vp) {
    fail(op, "vocab_size", "expected 0 < V <= tp * Vs = " + std::to_string(Vp) + ", got " +
                               std::to_string(vocab_size));
  }
  check_shape(op, "targets", targets, {B, T}, mlsys::DType::Int32);
  const int32_t* y = targets.data<int32_t>();
  for (int64_t i = 0; i < B * T; ++i) {
    if (y[i] < 0 || y[i] >= vocab_size) {
      fail(op, "targets", "expected ids in [0, " + std::to_string(vocab_size) + "), got " +
                              std::to_string(y[i]) + " at flat position " + std::to_string(i));
    }
  }
}
}  // namespace

float vocab_parallel_crossentropy_forward(const Communicator& tp, const Tensor& losses,
                                          const Tensor& probs, const Tensor& logits,
                                          const Tensor& targets, int64_t vocab_size) {
  const char* op = "vocab_parallel_crossentropy_forward";
  check_crossentropy(op, tp, probs, targets, vocab_size);
  check_shape(op, "logits", logits, probs.shape());
  check_shape(op, "losses", losses, {probs.size(0), probs.size(1)});
  // BEGIN SOLUTION PA3 Task 5.3
  const int64_t R = probs.size(0) * probs.size(1), Vs = probs.size(2);
  const int64_t begin = tp.rank() * Vs;
  // this rank's real columns: global ids begin .. min(begin + Vs, V) - 1
  const int64_t real = std::max<int64_t>(0, std::min<int64_t>(Vs, vocab_size - begin));
  const float* logit = logits.data<float>();
  const int32_t* y = targets.data<int32_t>();
  float* prob = probs.data<float>();
  float* loss = losses.data<float>();
  // 1. row maxima
  Tensor local_max = mlsys::empty({R}), all_max = mlsys::empty({tp.size() * R});
  float* lm = local_max.data<float>();
  for (int64_t r = 0; r < R; ++r) {
    float m = -INFINITY;
    for (int64_t j = 0; j < real; ++j) m = logit[r * Vs + j] > m ? logit[r * Vs + j] : m;
    lm[r] = m;
  }
  tp.native_all_gather(local_max, all_max);
  std::vector<float> maxval(static_cast<size_t>(R), -INFINITY);
  const float* am = all_max.data<float>();
  for (int q = 0; q < tp.size(); ++q) {
    for (int64_t r = 0; r < R; ++r) maxval[r] = am[q * R + r] > maxval[r] ? am[q * R + r] : maxval[r];
  }
  // 2. target logits, 3. sums of exponentials
  Tensor target = mlsys::zeros({R}), sum = mlsys::zeros({R});
  float* tg = target.data<float>();
  float* sm = sum.data<float>();
  for (int64_t r = 0; r < R; ++r) {
    const int64_t local = y[r] - begin;
    if (local >= 0 && local < Vs) tg[r] = logit[r * Vs + local];
    float s = 0.f;
    for (int64_t j = 0; j < real; ++j) {
      prob[r * Vs + j] = std::exp(logit[r * Vs + j] - maxval[r]);
      s += prob[r * Vs + j];
    }
    sm[r] = s;
  }
  tp.native_all_reduce(target);
  tp.native_all_reduce(sum);
  // 4. probabilities and losses
  double total = 0.0;
  for (int64_t r = 0; r < R; ++r) {
    const float inv = 1.0f / sm[r];
    for (int64_t j = 0; j < real; ++j) prob[r * Vs + j] *= inv;
    for (int64_t j = real; j < Vs; ++j) prob[r * Vs + j] = 0.f;
    loss[r] = std::log(sm[r]) - (tg[r] - maxval[r]);
    total += loss[r];
  }
  return static_cast<float>(total / static_cast<double>(R));
  // END SOLUTION
}

// Backward: dlogits [B,T,Vs] += (probs - [begin + j == target]) * dloss on own real columns
// (global id < vocab_size); padding columns get nothing. No communication: probs already hold
// the global softmax. dloss as in crossentropy_backward (1 / (B·T) for a mean).

void vocab_parallel_crossentropy_backward(const Communicator& tp, const Tensor& dlogits,
                                          const Tensor& probs, const Tensor& targets,
                                          int64_t vocab_size, float dloss) {
  const char* op = "vocab_parallel_crossentropy_backward";
  check_crossentropy(op, tp, probs, targets, vocab_size);
  check_shape(op, "dlogits", dlogits, probs.shape());
  // BEGIN SOLUTION PA3 Task 5.3
  const int64_t R = probs.size(0) * probs.size(1), Vs = probs.size(2);
  const int64_t begin = tp.rank() * Vs;
  const int64_t real = std::max<int64_t>(0, std::min<int64_t>(Vs, vocab_size - begin));
  const float* prob = probs.data<float>();
  const int32_t* y = targets.data<int32_t>();
  float* dlogit = dlogits.data<float>();
  for (int64_t r = 0; r < R; ++r) {
    for (int64_t j = 0; j < real; ++j) {
      const float indicator = begin + j == y[r] ? 1.0f : 0.0f;
      dlogit[r * Vs + j] += (prob[r * Vs + j] - indicator) * dloss;
    }
  }
  // END SOLUTION
}

}  // namespace pa3
