// pa3/gpt.h — a small character-level GPT with an explicit backward pass (llm.c style).
//
// Every layer is a pair of plain functions, `<layer>_forward` and `<layer>_backward`, over
// float32 CPU tensors. The forward writes its outputs and the activations its backward needs
// (each contract lists them); the backward reads those and ADDS (+=) into every gradient it
// writes, so the caller zeroes gradients once and accumulation across micro-batches is free.
// The model is a GPT-2: token + position embedding, n_layer pre-LayerNorm blocks (causal
// multi-head attention, GELU MLP with 4C hidden units, residual connections), a final
// LayerNorm, the LM head and the softmax cross-entropy averaged over B·T positions.
//
// Fixed vocabulary:  B batch rows, T sequence length (<= block_size), C channels (n_embd),
//                    NH heads, hs = C / NH head size, V real vocabulary, Vp padded vocabulary,
//                    L layers. M = B·T rows of a linear layer, K its inputs, N its outputs.
// Gradients:         d<name> is the gradient of the loss with respect to <name> (dout, dinp,
//                    dweight), as in llm.c and PA2.
// Layouts:           activations are row-major [B, T, ...]; a linear layer's weight is
//                    [N, K] (out, in; PyTorch's nn.Linear), so y = x W^T + b, and a tied LM
//                    head uses the token embedding [Vp, C] as it is.
// Tensors:           Tensor is a handle to storage (like a pointer). Outputs are passed as
//                    `const Tensor&` and their elements are written; they must be allocated
//                    by the caller with the stated shape. All tensors must be contiguous,
//                    float32 (tokens and targets int32) and on the CPU; anything else throws
//                    mlsys::Error naming the function, the argument, expected and given.
//
// Determinism: every function is single-threaded with a fixed order of operations, and the
// linear layers do not use mlsys::matmul (Eigen picks its blocking, hence its summation order,
// from the matrix sizes). Each output element of a linear layer is bias + x[0]w[0] + x[1]w[1] +
// ... in this order, and a weight gradient accumulates row after row in row order. Hence
//   - one row's forward result does not depend on the other rows in the batch (any data
//     parallel split of the rows computes bit-identical activations), nor on which other
//     output columns are computed (a column-parallel shard is bit-identical), and attention
//     computes every head on its own (a rank holding some of the heads gets their exact bits);
//   - backward over rows [0, M) in one call == backward over [0, M/2) then [M/2, M) into the
//     same gradients, bit for bit (gradient accumulation == the full batch).
// What is NOT bit-identical: anything that splits a sum (a row-parallel linear layer's partial
// products added across ranks, gradients summed across data-parallel ranks in another order).
// Compare those with a tolerance.
// The library is compiled with -ffp-contract=off so that a*b+c is never fused differently in
// different call sites.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mlsys/tensor.h"

namespace pa3 {

using mlsys::Tensor;

// ================================================================================================
// Layers
// ================================================================================================

// ---- embedding (token + position) -------------------------------------------------------------
// out[b,t,:] = wte[tokens[b,t],:] + wpe[t,:]
//   out [B,T,C] written; tokens int32 [B,T], each in [0, Vp); wte [Vp,C]; wpe [block_size,C]
//   with T <= block_size. Saves nothing (the backward needs only tokens).
void embedding_forward(const Tensor& out, const Tensor& tokens, const Tensor& wte,
                       const Tensor& wpe);
// dwte[tokens[b,t],:] += dout[b,t,:];  dwpe[t,:] += dout[b,t,:]   (rows in (b,t) order)
void embedding_backward(const Tensor& dwte, const Tensor& dwpe, const Tensor& dout,
                        const Tensor& tokens);

// ---- layernorm over the last dim (eps = 1e-5) ------------------------------------------------
// out = (inp - mean) * rstd * weight + bias, rstd = 1/sqrt(var + eps), var the biased variance.
//   out, inp [..., C]; weight, bias [C]; mean, rstd [...] (one per row) written and saved.
void layernorm_forward(const Tensor& out, const Tensor& mean, const Tensor& rstd,
                       const Tensor& inp, const Tensor& weight, const Tensor& bias);
// dinp, dweight, dbias accumulated (+=). Needs the forward's inp, mean and rstd.
void layernorm_backward(const Tensor& dinp, const Tensor& dweight, const Tensor& dbias,
                        const Tensor& dout, const Tensor& inp, const Tensor& weight,
                        const Tensor& mean, const Tensor& rstd);

// ---- linear layer ---------------------------------------------------------------------------
// out = inp W^T + bias:  out [..., N] written; inp [..., K]; weight [N, K]; bias [N] or an
// undefined Tensor for no bias. Saves nothing (the backward needs inp).
void linear_forward(const Tensor& out, const Tensor& inp, const Tensor& weight,
                    const Tensor& bias);
// dinp += dout W;  dweight += dout^T inp;  dbias += sum over rows of dout. dinp and dbias may
// be undefined Tensors: that gradient is not computed (no input gradient wanted, no bias).
void linear_backward(const Tensor& dinp, const Tensor& dweight, const Tensor& dbias,
                     const Tensor& dout, const Tensor& inp, const Tensor& weight);

// ---- causal multi-head self-attention (the part between the two linear layers) ------------
// qkv [B,T,3C] holds q | k | v, each [C] = NH heads of hs channels (head h at h*hs).
// For each b, head h, query t:  att[b,h,t,t2] = softmax_{t2<=t}(q_t . k_t2 / sqrt(hs)), zero for
// t2 > t (the causal mask);  out[b,t,h*hs:(h+1)*hs] = sum_{t2<=t} att[b,h,t,t2] v_t2.
//   out [B,T,C] written; att [B,NH,T,T] written and saved. NH must divide C. A tensor-parallel
//   rank calls it with its own heads only: qkv [B,T,3C'] with C' = NH' * hs.
void attention_forward(const Tensor& out, const Tensor& att, const Tensor& qkv, int64_t n_head);
// dqkv [B,T,3C] accumulated (+=). Needs the forward's qkv and att.
void attention_backward(const Tensor& dqkv, const Tensor& dout, const Tensor& qkv,
                        const Tensor& att, int64_t n_head);

// ---- GELU, tanh approximation (GPT-2) -------------------------------------------------------
// out = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), elementwise, any shape.
void gelu_forward(const Tensor& out, const Tensor& inp);
// dinp += gelu'(inp) * dout. Needs the forward's inp.
void gelu_backward(const Tensor& dinp, const Tensor& dout, const Tensor& inp);

// ---- residual connection --------------------------------------------------------------------
// out = a + b (same shapes).  Backward: da += dout; db += dout.
void residual_forward(const Tensor& out, const Tensor& a, const Tensor& b);
void residual_backward(const Tensor& da, const Tensor& db, const Tensor& dout);

// ---- softmax cross-entropy over the first V of Vp logits --------------------------------------
// probs[b,t,:V] = softmax(logits[b,t,:V]); probs[b,t,V:] = 0 (padding never takes part);
// losses[b,t] = -log probs[b,t,targets[b,t]].
//   logits, probs [B,T,Vp]; losses [B,T] written; targets int32 [B,T], each in [0, V).
//   Returns the mean of losses (summed in double, in row order). Saves probs.
float crossentropy_forward(const Tensor& losses, const Tensor& probs, const Tensor& logits,
                           const Tensor& targets, int64_t vocab_size);
// dlogits[b,t,i] += (probs[b,t,i] - [i == target]) * dloss for i < V, where dloss is the
// gradient of the training loss with respect to each position's loss: 1/(B·T) for the mean over
// one batch, 1/(num_micro·B·T) under gradient accumulation (pass it as one float division of
// the global count). Padded columns get no gradient.
void crossentropy_backward(const Tensor& dlogits, const Tensor& probs, const Tensor& targets,
                           int64_t vocab_size, float dloss);

// ================================================================================================
// Model
// ================================================================================================

struct GPTConfig {
  int64_t vocab_size = 65;         // V: real symbols (targets are < V)
  int64_t padded_vocab_size = 68;  // Vp: V rounded up to a multiple of 4 (tensor parallelism)
  int64_t block_size = 64;         // the longest sequence T (rows of wpe)
  int64_t n_layer = 2;             // L
  int64_t n_head = 4;              // NH
  int64_t n_embd = 64;             // C
  // Untied by default: then every parameter lives in exactly one place, so data, tensor and
  // pipeline stages own disjoint parameters. Tied (GPT-2's choice), the LM head is the token
  // embedding: the head's gradient adds into wte's, and a pipeline split across the first and
  // last stages must all-reduce that gradient; a character vocabulary saves only Vp·C weights.
  bool tie_embeddings = false;

  // Throws mlsys::Error unless every field is positive, Vp >= V, Vp % 4 == 0 and NH divides C.
  void validate() const;
};

// V rounded up to a multiple of `multiple` (4 by default).
int64_t pad_vocab(int64_t vocab_size, int64_t multiple = 4);

// One transformer block's parameters (names as in GPT-2: h.<l>.ln_1.weight, ...).
struct BlockParams {
  Tensor ln1_w, ln1_b;       // [C], [C]
  Tensor qkv_w, qkv_b;       // [3C, C], [3C]   attn.c_attn
  Tensor attproj_w, attproj_b;  // [C, C], [C]  attn.c_proj
  Tensor ln2_w, ln2_b;       // [C], [C]
  Tensor fc_w, fc_b;         // [4C, C], [4C]   mlp.c_fc
  Tensor fcproj_w, fcproj_b;    // [C, 4C], [C] mlp.c_proj
};

struct NamedTensor {
  std::string name;
  Tensor tensor;
  bool decay;  // AdamW applies weight decay: the matrices (dim >= 2), not biases or LayerNorm
};

// All parameters of the model, or (same type, same shapes) all their gradients.
// The canonical order — used by params_list(), by the initialization seeds and by every
// parallel layout — is
//   0 wte [Vp,C]   1 wpe [block_size,C]
//   then for each block l = 0..L-1, 12 tensors at index 2 + 12 l + j:
//     j = 0 h.l.ln_1.weight  1 h.l.ln_1.bias  2 h.l.attn.c_attn.weight  3 h.l.attn.c_attn.bias
//         4 h.l.attn.c_proj.weight  5 h.l.attn.c_proj.bias  6 h.l.ln_2.weight  7 h.l.ln_2.bias
//         8 h.l.mlp.c_fc.weight  9 h.l.mlp.c_fc.bias  10 h.l.mlp.c_proj.weight
//         11 h.l.mlp.c_proj.bias
//   2 + 12 L ln_f.weight   3 + 12 L ln_f.bias   4 + 12 L lm_head.weight [Vp,C] (untied only).
// With tie_embeddings, lm_head is the same Tensor (same storage) as wte and is not listed.
struct GPTParams {
  Tensor wte, wpe;
  std::vector<BlockParams> h;
  Tensor lnf_w, lnf_b;
  Tensor lm_head;  // untied: its own [Vp,C]; tied: == wte
  bool tied = false;

  // (name, tensor, decay) in the canonical order above; the tensors share storage with *this.
  std::vector<NamedTensor> list() const;
  // The members themselves in the same order, for code that rebinds them (e.g. as views into
  // one flat buffer).
  std::vector<Tensor*> fields();
  int64_t num_params() const;  // total elements, each tied tensor counted once
};

// Seed of parameter `index` (canonical order) for model seed `seed`: one Philox-4x32 block keyed
// by the seed with counter (index, 0, 0x9A3, 0). Every tensor gets an independent stream, so a
// parallel layout that creates only its shard can draw the full tensor and slice it.
uint64_t param_seed(uint64_t seed, int64_t index);

// The FULL master weights, GPT-2 style: wte, wpe, lm_head and the c_attn and c_fc weights
// ~ N(0, 0.02); the residual projections attn.c_proj.weight and mlp.c_proj.weight
// ~ N(0, 0.02 / sqrt(2 L)); biases 0; LayerNorm weights 1. Normal draws are
// mlsys::randn(shape, param_seed(seed, index), 0, std). The padded rows V..Vp-1 of wte and
// lm_head are set to 0 afterwards (no token ever selects them; their logits stay 0 and are
// masked out of the softmax).
GPTParams gpt_init(const GPTConfig& config, uint64_t seed);
// Zero tensors of the same shapes (and the same tying) as `params`: the gradient buffers.
GPTParams gpt_zeros_like(const GPTParams& params);
// Sets every tensor of the list to 0 (a tied tensor once).
void zero_grads(const GPTParams& grads);

// Activations of one block, saved by block_forward for block_backward.  Shapes for (B, T).
struct BlockActs {
  Tensor ln1, ln1_mean, ln1_rstd;  // [B,T,C], [B,T], [B,T]
  Tensor qkv;                      // [B,T,3C]
  Tensor att;                      // [B,NH,T,T]  softmax probabilities
  Tensor atty;                     // [B,T,C]     attention output before c_proj
  Tensor attproj;                  // [B,T,C]
  Tensor res2;                     // [B,T,C]     x + attproj
  Tensor ln2, ln2_mean, ln2_rstd;  // [B,T,C], [B,T], [B,T]
  Tensor fch;                      // [B,T,4C]    c_fc output (GELU input)
  Tensor fch_gelu;                 // [B,T,4C]
  Tensor fcproj;                   // [B,T,C]
  Tensor out;                      // [B,T,C]     res2 + fcproj: the block's output
};
BlockActs block_acts_alloc(const GPTConfig& config, int64_t B, int64_t T);

// x [B,T,C] -> acts.out [B,T,C]:
//   ln1 = LN(x); qkv = linear(ln1); atty = attention(qkv); attproj = linear(atty);
//   res2 = x + attproj; ln2 = LN(res2); fch = linear(ln2); fch_gelu = gelu(fch);
//   fcproj = linear(fch_gelu); out = res2 + fcproj.
void block_forward(BlockActs& acts, const BlockParams& p, const Tensor& x, int64_t n_head);
// dx [B,T,C] and the block's gradients accumulated (+=). Needs the forward's x and acts.
void block_backward(const Tensor& dx, const BlockParams& grads, const Tensor& dout,
                    const BlockActs& acts, const BlockParams& p, const Tensor& x,
                    int64_t n_head);

// Activations of the head (final LayerNorm, LM head, cross-entropy) for one (B, T).
struct HeadActs {
  Tensor lnf, lnf_mean, lnf_rstd;  // [B,T,C], [B,T], [B,T]
  Tensor logits;                   // [B,T,Vp]
  Tensor probs;                    // [B,T,Vp]  (only after a forward with targets)
  Tensor losses;                   // [B,T]
};
HeadActs head_acts_alloc(const GPTConfig& config, int64_t B, int64_t T);

// x [B,T,C] (the last block's output) -> acts.logits = LN_f(x) lm_head^T; with targets also
// probs and losses, and returns the mean loss (NaN without targets). Uses params.lnf_w,
// params.lnf_b and params.lm_head only.
float head_forward(HeadActs& acts, const GPTParams& params, const GPTConfig& config,
                   const Tensor& x, const Tensor& targets);
// dx [B,T,C] and grads.lnf_w, grads.lnf_b, grads.lm_head accumulated (+=) for the loss
// sum over positions of dloss * losses[b,t]. Needs the forward's x and acts.
void head_backward(const Tensor& dx, const GPTParams& grads, const HeadActs& acts,
                   const GPTParams& params, const GPTConfig& config, const Tensor& x,
                   const Tensor& targets, float dloss);

// Activations of the whole model for one (B, T). A pipeline stage can run the same pieces on
// its own: embedding_forward (first stage), block_forward per owned block, head_forward (last).
struct GPTActs {
  int64_t B = 0, T = 0;
  Tensor encoded;                 // [B,T,C] embedding output = block 0's input
  std::vector<BlockActs> blocks;  // block l's input is encoded (l = 0) or blocks[l-1].out
  HeadActs head;                  // the head's input is blocks[L-1].out
};
GPTActs gpt_acts_alloc(const GPTConfig& config, int64_t B, int64_t T);

// tokens int32 [B,T] (T <= block_size) -> acts.head.logits. With targets (int32 [B,T], each < V)
// also probs and losses, and returns the mean loss; with an undefined targets returns NaN.
// Re-allocates acts when (B, T) changed.
float gpt_forward(GPTActs& acts, const GPTParams& params, const GPTConfig& config,
                  const Tensor& tokens, const Tensor& targets);
// Accumulates (+=) into grads the gradient of  sum over positions of dloss * losses[b,t]  (see
// crossentropy_backward for dloss). Needs a forward with targets on the same tokens.
void gpt_backward(const GPTParams& grads, const GPTActs& acts, const GPTParams& params,
                  const GPTConfig& config, const Tensor& tokens, const Tensor& targets,
                  float dloss);

// The model's next-token choice for the last position of `context` (at most block_size tokens
// are used, the latest ones): greedy (temperature <= 0) or sampled from softmax(logits / temp)
// with the uniform number mlsys::uniform_from_word(philox_word(seed, index)).
int32_t gpt_next_token(const GPTParams& params, const GPTConfig& config,
                       const std::vector<int32_t>& context, float temperature, uint64_t seed,
                       uint64_t index);

}  // namespace pa3
