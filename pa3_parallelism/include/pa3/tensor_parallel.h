// pa3/tensor_parallel.h — PA3 Task 5: tensor parallelism (Megatron-LM, Shoeybi et al. 2019).
//
// The tp ranks of one TP group (a Communicator, e.g. ProcessGrid::tp()) hold slices of every
// layer's weights and together compute ONE model on the SAME batch rows: every rank sees the
// whole input x [B,T,C], and the layers that are split put their pieces back together with
// all-reduces. This header is given code: it fixes every signature. Your code goes in
// src/tensor_parallel.cpp (Tasks 5.1-5.3); the slicing of the master weights, the allocation
// of activations and the whole-model composition are given (src/tp/).
//
// Vocabulary: tp = comm.size() ranks, r = comm.rank(). B, T, C, NH, hs, V, Vp as in gpt.h.
// A primed size is one rank's share: C' = C / tp, NH' = NH / tp heads, F' = 4C / tp MLP
// units, Vs = Vp / tp vocabulary rows (rank r owns the ids [r Vs, (r+1) Vs)).
// Requirements: tp divides NH (hence C and 4C) and Vp; anything else is an mlsys::Error.
//
// ---- The two conjugate operators (Megatron's f and g) -------------------------------------
//   f: forward identity, backward all-reduce.  Put before a column-parallel layer: every rank
//      reads the same x, and each rank's part of dL/dx is only the part through its columns,
//      so the backward must sum the parts.
//   g: forward all-reduce, backward identity.  Put after a row-parallel layer: the ranks'
//      partial products are summed; the gradient of a sum reaches every term unchanged.
// A block is  f -> column-parallel -> (per-shard nonlinearity) -> row-parallel -> g, twice
// (attention, MLP): exactly 2 all-reduces of B·T·C floats forward and 2 backward per block.
//
// ---- One rank's shard of the master weights (a GPTParams / BlockParams with these shapes) ----
//   wte, lm_head   [Vs, C]      rows [r Vs, (r+1) Vs) of the full [Vp, C]  (vocab-parallel)
//   wpe            [block_size, C]                                         replicated
//   ln_1, ln_2, ln_f weight and bias [C]                                   replicated
//   c_attn  qkv_w  [3C', C]     rows  q: [r C', (r+1) C'),  k: C + same,  v: 2C + same,
//           qkv_b  [3C']        concatenated q | k | v  (the heads r NH' .. (r+1) NH' - 1)
//   attn.c_proj attproj_w [C, C'] columns [r C', (r+1) C');  attproj_b [C] replicated
//   mlp.c_fc  fc_w [F', C] rows [r F', (r+1) F');  fc_b [F'] the same rows
//   mlp.c_proj fcproj_w [C, F'] columns [r F', (r+1) F');  fcproj_b [C] replicated
// With tie_embeddings the shard's lm_head is its wte (same storage), as in the full model.
// tp_shard_params slices gpt_init's full weights, so a TP run starts from exactly the weights
// of the single-process run with the same seed.
//
// ---- What is bit-exact, what is not (every PA3 target has -ffp-contract=off) --------------
//   - tp = 1: everything here is bit-identical to gpt.h's single-process functions (the row-
//     parallel bias is added by rank 0 as the start of its partial sum, see Task 5.1).
//   - column-parallel forward, its weight and bias gradients, the row-parallel input, weight
//     and bias gradients given the same inputs: bit-identical to the matching slice of
//     linear_forward / linear_backward of the full layer (each element is the same sum).
//   - the vocab-parallel embedding: bit-identical to embedding_forward / _backward (the all-
//     reduce adds one row and zeros, which is exact).
//   - the row-parallel forward sum and the column-parallel input gradient (f's all-reduce)
//     split a sum into tp partial sums: NOT bit-identical to one process; so everything
//     downstream (a block's output, the loss, gradients) matches within a tolerance.
//   - replicated parameters and their gradients are bit-identical ON EVERY RANK of the group
//     (every rank computes them from the same all-reduced bits): after any number of training
//     steps the replicas never drift apart.
// Loss scale: as in gpt.h (dloss = 1 / (B·T)); TP does not split the batch.
#pragma once

#include <cstdint>
#include <vector>

#include "pa3/comm.h"
#include "pa3/gpt.h"

namespace pa3 {

// ============================================================================================
// Layout and shards (given code, src/tp/shard.cpp)
// ============================================================================================

// Throws mlsys::Error naming `op` unless config is valid, tp_size >= 1, tp_size divides n_head
// and tp_size divides padded_vocab_size.
void tp_check_config(const char* op, const GPTConfig& config, int tp_size);

// The vocabulary rows [begin, begin + size) rank tp_rank owns: begin = tp_rank * Vp / tp.
Chunk tp_vocab_range(const GPTConfig& config, int tp_size, int tp_rank);

// Fresh (copied) tensors: rank tp_rank's shard of the full parameters `full` (layout above).
BlockParams tp_shard_block(const BlockParams& full, const GPTConfig& config, int tp_size,
                           int tp_rank);
GPTParams tp_shard_params(const GPTParams& full, const GPTConfig& config, int tp_size,
                          int tp_rank);

// Throws mlsys::Error naming `op` and the tensor (e.g. "h.1.attn.c_attn.weight") unless every
// tensor of `shard` has its shard shape for (config, tp_size) and the tying matches.
void tp_check_shard(const char* op, const GPTParams& shard, const GPTConfig& config,
                    int tp_size);
void tp_check_block_shard(const char* op, const BlockParams& shard, const GPTConfig& config,
                          int tp_size);

// The inverse of tp_shard_params: full-shape tensors assembled from the shards of ranks
// 0..tp-1 (shards.size() == tp); a replicated tensor is taken from rank 0's shard. Works for
// parameters and for gradients (gradients of replicated tensors are identical on all ranks).
GPTParams tp_unshard_params(const std::vector<GPTParams>& shards, const GPTConfig& config);
// Collective over `tp_comm` (native_all_gather of each tensor): every rank gets the full tensors.
GPTParams tp_gather_params(const Communicator& tp_comm, const GPTParams& shard,
                           const GPTConfig& config);

// Activations with this rank's shapes (the same structs as gpt.h):
//   BlockActs: qkv [B,T,3C'], att [B,NH',T,T], atty [B,T,C'], fch and fch_gelu [B,T,F'];
//              every other field as in block_acts_alloc ([B,T,C] or [B,T], replicated).
//   HeadActs:  logits, probs [B,T,Vs]; lnf [B,T,C]; losses [B,T].
BlockActs tp_block_acts_alloc(const GPTConfig& config, int tp_size, int64_t B, int64_t T);
HeadActs tp_head_acts_alloc(const GPTConfig& config, int tp_size, int64_t B, int64_t T);
GPTActs tp_acts_alloc(const GPTConfig& config, int tp_size, int64_t B, int64_t T);

// ============================================================================================
// Task 5.1 — the conjugate operators and the parallel linear layers (src/tensor_parallel.cpp)
// ============================================================================================
// f's forward and g's backward are the identity: there is no function for them.

// f backward: dx (float32, contiguous, same shape on every rank) becomes the sum over the group.
void tp_f_backward(const Communicator& tp, const Tensor& dx);
// g forward: y (float32, contiguous, same shape on every rank) becomes the sum over the group.
void tp_g_forward(const Communicator& tp, const Tensor& y);

// Column-parallel linear (weight split by output rows), input replicated (f before it):
//   out [..., N'] = inp [..., K] W_r^T + b_r;  weight W_r [N', K], bias b_r [N'] or undefined.
// No communication.
void column_parallel_forward(const Communicator& tp, const Tensor& out, const Tensor& inp,
                             const Tensor& weight, const Tensor& bias);
// dweight += dout^T inp, dbias += column sums of dout (as linear_backward), and
// dinp [..., K] += the SUM over ranks of dout W_r (f backward: one all-reduce of M·K floats).
// dbias may be undefined (no bias); dinp may be undefined (no input gradient, no all-reduce).
void column_parallel_backward(const Communicator& tp, const Tensor& dinp, const Tensor& dweight,
                              const Tensor& dbias, const Tensor& dout, const Tensor& inp,
                              const Tensor& weight);

// Row-parallel linear (weight split by input columns), input split (the previous column-
// parallel layer's output), output summed by g:
//   out [..., N] = sum over ranks of (inp_r [..., K'] W_r^T) + bias;  W_r [N, K'], bias [N]
//   replicated (or undefined). Rank 0 starts its partial sum from the bias (bias + x0 w0 + ...,
//   as linear_forward does), the other ranks from 0; then one all-reduce of M·N floats.
void row_parallel_forward(const Communicator& tp, const Tensor& out, const Tensor& inp,
                          const Tensor& weight, const Tensor& bias);
// g backward is the identity: dinp_r += dout W_r, dweight_r += dout^T inp_r, and every rank
// computes the full dbias += column sums of dout (the same bits on every rank). dinp and dbias
// may be undefined. No communication.
void row_parallel_backward(const Communicator& tp, const Tensor& dinp, const Tensor& dweight,
                           const Tensor& dbias, const Tensor& dout, const Tensor& inp,
                           const Tensor& weight);

// ============================================================================================
// Task 5.2 — the tensor-parallel transformer block (src/tensor_parallel.cpp)
// ============================================================================================

// gpt.h's block_forward on this rank's shard (p from tp_shard_block; acts from
// tp_block_acts_alloc). n_head is the model's NH; this rank runs NH' = NH / tp heads.
//   ln1 = LN(x); qkv = column(ln1); atty = attention(qkv, NH'); attproj = row(atty) (g);
//   res2 = x + attproj; ln2 = LN(res2); fch = column(ln2); fch_gelu = gelu(fch);
//   fcproj = row(fch_gelu) (g); out = res2 + fcproj.
// x [B,T,C] replicated. Exactly 2 all-reduces of B·T·C floats.
void tp_block_forward(BlockActs& acts, const BlockParams& p, const Tensor& x, int64_t n_head,
                      const Communicator& tp);
// gpt.h's block_backward on the shard: dx [B,T,C] and the shard's gradients accumulated (+=).
// Exactly 2 all-reduces of B·T·C floats (f backward before each LayerNorm backward).
void tp_block_backward(const Tensor& dx, const BlockParams& grads, const Tensor& dout,
                       const BlockActs& acts, const BlockParams& p, const Tensor& x,
                       int64_t n_head, const Communicator& tp);

// ============================================================================================
// Task 5.3 — vocabulary-parallel embedding and cross-entropy (src/tensor_parallel.cpp)
// ============================================================================================
// Rank r owns the vocabulary ids [begin, begin + Vs) with Vs = wte.size(0) (or logits.size(2))
// and begin = r * Vs. No rank ever holds B·T·Vp logits or sends more than B·T floats per row
// statistic.

// out [B,T,C] = wte[tokens[b,t]] + wpe[t]: each rank looks up the tokens it owns (rows of its
// wte [Vs,C]) and writes zeros for the others, one all-reduce of B·T·C floats, then every rank
// adds wpe [block_size, C]. tokens int32 [B,T], each in [0, Vp).
void vocab_parallel_embedding_forward(const Communicator& tp, const Tensor& out,
                                      const Tensor& tokens, const Tensor& wte,
                                      const Tensor& wpe);
// dwte [Vs,C] += dout rows of the tokens this rank owns; dwpe += dout (every rank, the same
// bits), rows in (b,t) order. No communication.
void vocab_parallel_embedding_backward(const Communicator& tp, const Tensor& dwte,
                                       const Tensor& dwpe, const Tensor& dout,
                                       const Tensor& tokens);

// crossentropy_forward over logits split by vocabulary: logits, probs [B,T,Vs] (this rank's
// columns, global ids begin + j); losses [B,T]; targets int32 [B,T] in [0, V). Columns with a
// global id >= vocab_size are padding: they take no part and get probs 0. Per row:
//   max    = max over all real columns  (all-gather of the tp local maxima, B·T each)
//   target = z[target] on its owner, 0 elsewhere, summed (all-reduce of B·T floats)
//   sum    = sum of exp(z - max) over real columns (local sums, all-reduce of B·T floats)
//   probs  = exp(z - max) * (1 / sum) on own real columns;  loss = log(sum) - (target - max)
// Returns the mean loss (summed in double in row order), the same on every rank.
float vocab_parallel_crossentropy_forward(const Communicator& tp, const Tensor& losses,
                                          const Tensor& probs, const Tensor& logits,
                                          const Tensor& targets, int64_t vocab_size);
// dlogits [B,T,Vs] += (probs - [global id == target]) * dloss on own real columns. No
// communication.
void vocab_parallel_crossentropy_backward(const Communicator& tp, const Tensor& dlogits,
                                          const Tensor& probs, const Tensor& targets,
                                          int64_t vocab_size, float dloss);

// ============================================================================================
// The model on a TP group (given code, src/tp/model.cpp)
// ============================================================================================
// The same split as gpt.h, so a pipeline stage can run its own pieces:
//   first stage: vocab_parallel_embedding_forward;  each block: tp_block_forward;
//   last stage: tp_head_forward.

// gpt.h's head_forward: lnf = LN_f(x) (replicated); logits = column(lnf) over lm_head [Vs,C]
// (no bias); with targets the vocab-parallel cross-entropy, returns the mean loss (NaN without
// targets). Uses shard.lnf_w, lnf_b, lm_head.
float tp_head_forward(HeadActs& acts, const GPTParams& shard, const GPTConfig& config,
                      const Tensor& x, const Tensor& targets, const Communicator& tp);
// dx [B,T,C] and grads.lnf_w, lnf_b, lm_head accumulated (+=); one all-reduce of B·T·C floats.
void tp_head_backward(const Tensor& dx, const GPTParams& grads, const HeadActs& acts,
                      const GPTParams& shard, const GPTConfig& config, const Tensor& x,
                      const Tensor& targets, float dloss, const Communicator& tp);

// gpt_forward / gpt_backward on a shard. acts is (re)allocated with tp_acts_alloc when (B, T)
// changed. Every rank passes the same tokens and targets and gets the same loss.
float tp_gpt_forward(GPTActs& acts, const GPTParams& shard, const GPTConfig& config,
                     const Tensor& tokens, const Tensor& targets, const Communicator& tp);
void tp_gpt_backward(const GPTParams& grads, const GPTActs& acts, const GPTParams& shard,
                     const GPTConfig& config, const Tensor& tokens, const Tensor& targets,
                     float dloss, const Communicator& tp);

}  // namespace pa3
