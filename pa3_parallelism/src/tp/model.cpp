// Tensor parallelism, given code: the GPT on a TP group, composed from the pieces of Task 5
// (src/tensor_parallel.cpp) exactly as gpt.cpp composes the single-process model. A pipeline
// stage can call the same pieces on its own (pa3/tensor_parallel.h).
#include <limits>
#include <string>

#include "pa3/tensor_parallel.h"
#include "tp/tp_check.h"

namespace pa3 {

using tp_detail::fail;

// ================================================================================================
// The head: final LayerNorm (replicated), LM head (column-parallel over the vocabulary),
// vocabulary-parallel cross-entropy
// ================================================================================================

float tp_head_forward(HeadActs& acts, const GPTParams& shard, const GPTConfig& config,
                      const Tensor& x, const Tensor& targets, const Communicator& tp) {
  tp_check_config("tp_head_forward", config, tp.size());
  layernorm_forward(acts.lnf, acts.lnf_mean, acts.lnf_rstd, x, shard.lnf_w, shard.lnf_b);
  column_parallel_forward(tp, acts.logits, acts.lnf, shard.lm_head, Tensor());
  if (!targets.defined()) return std::numeric_limits<float>::quiet_NaN();
  return vocab_parallel_crossentropy_forward(tp, acts.losses, acts.probs, acts.logits, targets,
                                             config.vocab_size);
}

void tp_head_backward(const Tensor& dx, const GPTParams& grads, const HeadActs& acts,
                      const GPTParams& shard, const GPTConfig& config, const Tensor& x,
                      const Tensor& targets, float dloss, const Communicator& tp) {
  tp_check_config("tp_head_backward", config, tp.size());
  Tensor dlogits = mlsys::zeros(acts.logits.shape()), dlnf = mlsys::zeros(acts.lnf.shape());
  vocab_parallel_crossentropy_backward(tp, dlogits, acts.probs, targets, config.vocab_size,
                                       dloss);
  column_parallel_backward(tp, dlnf, grads.lm_head, Tensor(), dlogits, acts.lnf, shard.lm_head);
  layernorm_backward(dx, grads.lnf_w, grads.lnf_b, dlnf, x, shard.lnf_w, acts.lnf_mean,
                     acts.lnf_rstd);
}

// ================================================================================================
// The whole model
// ================================================================================================

float tp_gpt_forward(GPTActs& acts, const GPTParams& shard, const GPTConfig& config,
                     const Tensor& tokens, const Tensor& targets, const Communicator& tp) {
  const char* op = "tp_gpt_forward";
  tp_check_shard(op, shard, config, tp.size());
  if (!tokens.defined() || tokens.dim() != 2) {
    fail(op, "tokens", "expected int32[B, T], got " +
                           (tokens.defined() ? tokens.describe() : std::string("undefined")));
  }
  const int64_t B = tokens.size(0), T = tokens.size(1);
  if (acts.B != B || acts.T != T || static_cast<int64_t>(acts.blocks.size()) != config.n_layer ||
      acts.head.logits.size(2) != config.padded_vocab_size / tp.size()) {
    acts = tp_acts_alloc(config, tp.size(), B, T);
  }
  vocab_parallel_embedding_forward(tp, acts.encoded, tokens, shard.wte, shard.wpe);
  Tensor x = acts.encoded;
  for (int64_t l = 0; l < config.n_layer; ++l) {
    tp_block_forward(acts.blocks[l], shard.h[l], x, config.n_head, tp);
    x = acts.blocks[l].out;
  }
  return tp_head_forward(acts.head, shard, config, x, targets, tp);
}

void tp_gpt_backward(const GPTParams& grads, const GPTActs& acts, const GPTParams& shard,
                     const GPTConfig& config, const Tensor& tokens, const Tensor& targets,
                     float dloss, const Communicator& tp) {
  const char* op = "tp_gpt_backward";
  tp_check_shard(op, shard, config, tp.size());
  tp_check_shard(op, grads, config, tp.size());
  if (static_cast<int64_t>(acts.blocks.size()) != config.n_layer || acts.B <= 0) {
    fail(op, "acts", "expected the activations of a tp_gpt_forward with targets");
  }
  auto z = [](const Tensor& t) { return mlsys::zeros(t.shape()); };
  const int64_t L = config.n_layer;
  const Tensor& last = L > 0 ? acts.blocks[L - 1].out : acts.encoded;
  Tensor dx = z(last);
  tp_head_backward(dx, grads, acts.head, shard, config, last, targets, dloss, tp);
  for (int64_t l = L - 1; l >= 0; --l) {
    const Tensor& x = l > 0 ? acts.blocks[l - 1].out : acts.encoded;
    Tensor dinp = z(x);
    tp_block_backward(dinp, grads.h[l], dx, acts.blocks[l], shard.h[l], x, config.n_head, tp);
    dx = dinp;
  }
  vocab_parallel_embedding_backward(tp, grads.wte, grads.wpe, dx, tokens);
}

}  // namespace pa3
