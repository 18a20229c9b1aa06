// pa3/cost_model.h — PA3 Task 8: what training a transformer costs, worked out on paper.
//
// The numbers every large-model plan starts from, as functions of a model's shape and a
// parallel layout:
//   8.1  how many parameters a configuration has                       param_count
//   8.2  how many FLOPs one training token takes; the compute-optimal   flops_per_token,
//        model size and token count for a FLOP budget (Chinchilla)      compute_optimal
//   8.3  how many bytes of model state each GPU holds for a layout      memory_per_gpu
//        (dp, tp, pp) and a ZeRO stage
//   8.4  how many bytes each GPU sends per optimizer step for data,     dp_comm_bytes,
//        tensor and pipeline parallelism                                tp_comm_bytes,
//                                                                       pp_comm_bytes
// handouts/pa3.md#task-8 derives every formula and gives the references (Kaplan et al. 2020,
// Hoffmann et al. 2022, Rajbhandari et al. 2020, Narayanan et al. 2021).
//
// One struct describes both families of decoder-only transformers the course meets: GPT-2/3
// (LayerNorm with a bias, GELU MLP, biases in every linear layer, learned position embeddings,
// usually a tied LM head) and Llama (RMSNorm without a bias, SwiGLU MLP, no biases, rotary
// positions that have no parameters, grouped-query attention, usually an untied LM head).
// llama_shape() and gpt_shape() fill in each family's choices; shape_of() maps PA3's own GPT.
//
// Units: counts of parameters and FLOPs are exact integers (int64_t); bytes are doubles, since
// they are divided by parallel degrees that need not divide them. A FLOP is one floating-point
// multiplication or addition (a multiply-add is 2 FLOPs). Bytes are bytes (1 GB = 1e9 bytes).
//
// Bad input (a size below 1, heads that do not divide d_model, a stage outside its range, ...)
// is an mlsys::Error naming the function, the argument, what was expected and what was given.
// The given checks (validate_*) run before your code: every value you see is valid.
#pragma once

#include <cstdint>
#include <string>

#include "pa3/gpt.h"
#include "pa3/grid.h"

namespace pa3 {

// ================================================================================================
// The model's shape (given)
// ================================================================================================

enum class NormKind {
  LayerNorm,  // weight and bias, [d] each
  RMSNorm,    // weight [d] only
};
enum class MlpKind {
  Gelu,    // up [f, d] and down [d, f]              (GPT-2/3; f = 4 d)
  SwiGLU,  // gate [f, d], up [f, d] and down [d, f] (Llama)
};

struct TransformerShape {
  int64_t vocab = 0;       // V: rows of the token embedding (the padded vocabulary, if padded)
  int64_t d_model = 0;     // d: the residual stream's width
  int64_t n_layers = 0;    // L: transformer blocks
  int64_t n_heads = 0;     // query heads; head size hd = d / n_heads
  int64_t n_kv_heads = 0;  // key/value heads (grouped-query attention; = n_heads without it)
  int64_t ffn_hidden = 0;  // f: the MLP's hidden width
  int64_t seq_len = 0;     // s: the training context (and the rows of a learned position table)
  NormKind norm = NormKind::RMSNorm;
  MlpKind mlp = MlpKind::SwiGLU;
  bool linear_bias = false;        // every linear layer of the blocks has a bias
  bool learned_positions = false;  // a learned position embedding [s, d]; rotary has none
  bool tied_embeddings = false;    // the LM head is the token embedding (no weights of its own)
};

// Llama (Touvron et al. 2023; Llama 3 2024): RMSNorm, SwiGLU, no biases, rotary positions.
TransformerShape llama_shape(int64_t vocab, int64_t d_model, int64_t n_layers, int64_t n_heads,
                             int64_t n_kv_heads, int64_t ffn_hidden, int64_t seq_len,
                             bool tied_embeddings = false);
// GPT-2/3 (Radford et al. 2019; Brown et al. 2020): LayerNorm, GELU, biases, learned positions,
// n_kv_heads = n_heads.
TransformerShape gpt_shape(int64_t vocab, int64_t d_model, int64_t n_layers, int64_t n_heads,
                           int64_t ffn_hidden, int64_t seq_len, bool tied_embeddings = true);
// PA3's GPT (pa3/gpt.h) as a GPT-2 shape: vocab = padded_vocab_size (wte and lm_head have Vp
// rows), ffn_hidden = 4 n_embd, seq_len = block_size (wpe has block_size rows), tying as
// configured. Calls config.validate().
TransformerShape shape_of(const GPTConfig& config);

// Bytes of model state per parameter, by what holds them.
struct StateBytes {
  double weights = 0;    // the parameters the forward and backward use
  double grads = 0;      // their gradients
  double optimizer = 0;  // everything the optimizer keeps (master weights, moments)
};
// Mixed-precision Adam as in the ZeRO paper: fp16 weights and gradients (2 + 2) and K = 12 bytes
// of fp32 optimizer state (master weights, momentum, variance): 16 bytes per parameter.
inline constexpr StateBytes kMixedPrecisionAdam{2, 2, 12};
// PA3's trainer: fp32 weights and gradients (4 + 4), AdamW's m and v (8): also 16 bytes.
inline constexpr StateBytes kFp32AdamW{4, 4, 8};

// One optimizer step of one data-parallel replica.
struct StepShape {
  int64_t micro_batch = 1;       // b: sequences per micro-batch
  int64_t micro_batches = 1;     // m: micro-batches per step (pipeline or gradient accumulation)
  double activation_bytes = 2;   // bytes per activation value sent (2: fp16/bf16, 4: fp32)
};

// The given checks. Each throws mlsys::Error naming `fn`, the argument, expected and given.
//   shape: every size >= 1, n_heads divides d_model, n_kv_heads divides n_heads.
void validate_shape(const TransformerShape& shape, const std::string& fn);
//   layout: dp, tp, pp >= 1.
void validate_layout(const GridShape& layout, const std::string& fn);
//   zero_stage in [0, 3]; every StateBytes field >= 0.
void validate_state(int zero_stage, const StateBytes& bytes, const std::string& fn);
//   step: micro_batch, micro_batches >= 1, activation_bytes > 0.
void validate_step(const StepShape& step, const std::string& fn);

// ================================================================================================
// Task 8.1 — parameters
// ================================================================================================

struct ParamCount {
  int64_t embedding = 0;   // the token embedding V d, plus the position embedding s d if learned
  int64_t per_layer = 0;   // one block: attention, MLP, both norms (and the biases, if any)
  int64_t blocks = 0;      // L · per_layer
  int64_t final_norm = 0;  // the norm after the last block
  int64_t lm_head = 0;     // V d when untied; 0 when tied (it is the token embedding)
  int64_t total = 0;       // the sum of the above: every parameter once
};
ParamCount param_count(const TransformerShape& shape);

// ================================================================================================
// Task 8.2 — FLOPs per token and the compute-optimal model
// ================================================================================================

// Kaplan et al. 2020's count, per token of a sequence of s tokens:
//   forward  = 2 N_mm + 2 L s d   (N_mm = L per_layer + final_norm + V d: every parameter but
//                                  the embedding tables, plus the LM head's V d, tied or not;
//                                  2 L s d: the attention scores and weighted sum, Kaplan's
//                                  causal average over the context)
//   backward = 2 forward           (the gradients of the inputs and of the weights)
//   training = forward + backward = 6 N_mm + 6 L s d.
struct FlopsPerToken {
  int64_t forward = 0;
  int64_t backward = 0;
  int64_t training = 0;
};
FlopsPerToken flops_per_token(const TransformerShape& shape);

// Hoffmann et al. 2022 (Chinchilla): a budget of C training FLOPs is best spent on N parameters
// and D tokens with C = 6 N D and D = tokens_per_param · N (about 20).
struct ComputeOptimal {
  double params = 0;  // N
  double tokens = 0;  // D
};
// flops > 0, tokens_per_param > 0 (else mlsys::Error).
ComputeOptimal compute_optimal(double flops, double tokens_per_param = 20.0);

// ================================================================================================
// Task 8.3 — memory per GPU
// ================================================================================================

// The model state one GPU holds (activations are not model state and are not counted), in
// bytes, for `params` parameters trained on a dp x tp x pp layout with ZeRO stage 0-3 over the
// data-parallel group. Tensor and pipeline parallelism split every parameter evenly over the
// tp · pp ranks of a model replica; ZeRO then shards, over the dp ranks,
//   stage 0: nothing   1: the optimizer state   2: + the gradients   3: + the weights.
struct ModelStateMemory {
  double weights = 0;
  double grads = 0;
  double optimizer = 0;
  double total = 0;
};
ModelStateMemory memory_per_gpu(int64_t params, const GridShape& layout, int zero_stage,
                                const StateBytes& bytes);

// ================================================================================================
// Task 8.4 — bytes sent per optimizer step, per GPU
// ================================================================================================

// Data parallelism: the collectives over the dp ranks of one model shard (params / (tp · pp)
// parameters), with ring algorithms. Gradients travel with bytes.grads per value, gathered
// weights with bytes.weights. Stages 0-2 communicate once per step (after the last
// micro-batch); stage 3 gathers the weights for the forward and again for the backward of
// every micro-batch.
double dp_comm_bytes(int64_t params, const GridShape& layout, int zero_stage,
                     const StateBytes& bytes, const StepShape& step);
// Tensor parallelism (Megatron-LM): each of this rank's L / pp blocks all-reduces a [b, s, d]
// activation over the tp ranks twice in the forward and twice in the backward of every
// micro-batch. L % pp must be 0 (else mlsys::Error).
double tp_comm_bytes(const TransformerShape& shape, const GridShape& layout,
                     const StepShape& step);
// Pipeline parallelism: pipeline stage `stage` (0 <= stage < pp) sends its output activation
// [b, s, d] to the next stage, and the gradient of its input back to the previous stage, once
// per micro-batch (every rank of a tensor-parallel group sends the full tensor). The first
// stage sends no gradient, the last no activation.
double pp_comm_bytes(const TransformerShape& shape, const GridShape& layout,
                     const StepShape& step, int stage);

}  // namespace pa3
