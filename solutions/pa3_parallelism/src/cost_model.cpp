// pa3_parallelism/src/cost_model.cpp — PA3 Task 8: the cost model.
// Edit only the marked regions; the rest is given.
//
// Every function here is arithmetic on a model's shape and a parallel layout: no tensors, no
// communication. The formulas, with their derivations and references, are in
// handouts/pa3.md#task-8; the header pa3/cost_model.h defines every struct and field. Each
// function first runs the given checks (validate_*), so the values you see are valid.
//
// Integer counts (parameters, FLOPs) are compared exactly: compute them in int64_t (a 175B
// model's training FLOPs per token, about 1e12, are far from its limit). Bytes are doubles:
// they are divided by parallel degrees, and the tests allow a relative 1e-12.
//
// Vocabulary: V vocab, d d_model, L n_layers, f ffn_hidden, s seq_len, hd = d / n_heads the
// head size, kv = n_kv_heads · hd the width of the keys (and of the values).
#include "pa3/cost_model.h"

#include <cmath>
#include <string>

#include "mlsys/error.h"

namespace pa3 {

// ============================================================================================
// Task 8.1 — parameters
// ============================================================================================
//
// Count every parameter tensor of the model, by part (ParamCount, pa3/cost_model.h):
//   embedding   the token embedding [V, d]; the position embedding [s, d] if learned_positions.
//   per_layer   attention: W_q [d, d], W_k [kv, d], W_v [kv, d], W_o [d, d]
//                          (+ biases [d], [kv], [kv], [d] if linear_bias);
//               MLP:  Gelu:   up [f, d], down [d, f]               (+ biases [f], [d])
//                     SwiGLU: gate [f, d], up [f, d], down [d, f]  (+ biases [f], [f], [d]);
//               two norms: each [d] (RMSNorm) or [d] + [d] (LayerNorm: weight and bias).
//   blocks      L · per_layer.
//   final_norm  one norm after the last block.
//   lm_head     [V, d] untied; 0 when tied (it is the token embedding, counted once).
//   total       the sum.
// Check on paper: Llama-2-7B has 6,738,415,616 parameters, GPT-2 small 124,439,808.
ParamCount param_count(const TransformerShape& shape) {
  validate_shape(shape, "param_count");
  // BEGIN SOLUTION PA3 Task 8.1
  const int64_t V = shape.vocab, d = shape.d_model, f = shape.ffn_hidden;
  const int64_t kv = shape.n_kv_heads * (d / shape.n_heads);
  const int64_t norm = shape.norm == NormKind::LayerNorm ? 2 * d : d;

  int64_t attention = 2 * d * d + 2 * kv * d;  // W_q, W_o; W_k, W_v
  int64_t mlp = shape.mlp == MlpKind::SwiGLU ? 3 * d * f : 2 * d * f;
  if (shape.linear_bias) {
    attention += 2 * d + 2 * kv;
    mlp += shape.mlp == MlpKind::SwiGLU ? 2 * f + d : f + d;
  }

  ParamCount c;
  c.embedding = V * d + (shape.learned_positions ? shape.seq_len * d : 0);
  c.per_layer = attention + mlp + 2 * norm;
  c.blocks = shape.n_layers * c.per_layer;
  c.final_norm = norm;
  c.lm_head = shape.tied_embeddings ? 0 : V * d;
  c.total = c.embedding + c.blocks + c.final_norm + c.lm_head;
  return c;
  // END SOLUTION
}

// ============================================================================================
// Task 8.2 — FLOPs per token and the compute-optimal model
// ============================================================================================
//
// flops_per_token (Kaplan et al. 2020, Table 1): a parameter that multiplies a token's
// activations costs 2 FLOPs per token (a multiply and an add). That is every parameter except
// the embedding tables (a lookup is no arithmetic), plus the LM head's V d, which is a matmul
// whether it is tied or not:
//   N_mm     = L · per_layer + final_norm + V d
//   forward  = 2 N_mm + 2 L s d      (attention: each token's scores q.k and weighted sum of v
//                                     over, on average under the causal mask, s / 2 earlier
//                                     positions: 2 · 2 · (s/2) · d per layer)
//   backward = 2 · forward           (one matmul for the input gradient, one for the weights')
//   training = forward + backward.
// Use your param_count for per_layer and final_norm. Check on paper: Llama-2-7B (s = 4096)
// trains at 42,865,287,168 FLOPs per token.
FlopsPerToken flops_per_token(const TransformerShape& shape) {
  validate_shape(shape, "flops_per_token");
  // BEGIN SOLUTION PA3 Task 8.2
  const ParamCount p = param_count(shape);
  const int64_t n_mm = p.blocks + p.final_norm + shape.vocab * shape.d_model;
  FlopsPerToken out;
  out.forward = 2 * n_mm + 2 * shape.n_layers * shape.seq_len * shape.d_model;
  out.backward = 2 * out.forward;
  out.training = out.forward + out.backward;
  return out;
  // END SOLUTION
}

// compute_optimal (Hoffmann et al. 2022): solve C = 6 N D with D = r N (r = tokens_per_param)
// for N and D. Check on paper: C = 1.2e21 and r = 20 give N = sqrt(1.2e21 / 120) = 3.16e9
// parameters and D = 6.32e10 tokens.
ComputeOptimal compute_optimal(double flops, double tokens_per_param) {
  if (!(flops > 0))
    throw mlsys::Error("pa3::compute_optimal: argument 'flops' must be > 0, got " +
                       std::to_string(flops));
  if (!(tokens_per_param > 0))
    throw mlsys::Error("pa3::compute_optimal: argument 'tokens_per_param' must be > 0, got " +
                       std::to_string(tokens_per_param));
  // BEGIN SOLUTION PA3 Task 8.2
  ComputeOptimal out;
  out.params = std::sqrt(flops / (6.0 * tokens_per_param));
  out.tokens = tokens_per_param * out.params;
  return out;
  // END SOLUTION
}

// ============================================================================================
// Task 8.3 — memory per GPU
// ============================================================================================
//
// One GPU's model state, in bytes (ModelStateMemory). With P = params / (tp · pp) parameters
// on this GPU's model shard and N = dp (Rajbhandari et al. 2020, Figure 1 and §5):
//   weights   = bytes.weights · P,   divided by N at stage 3
//   grads     = bytes.grads · P,     divided by N at stages 2 and 3
//   optimizer = bytes.optimizer · P, divided by N at stages 1, 2 and 3
//   total     = weights + grads + optimizer.
// Compute P as a double (params / (tp · pp) need not be an integer). Check on paper (the ZeRO
// paper's example): 7.5e9 parameters, dp = 64, mixed-precision Adam: 120 GB, 31.4 GB, 16.6 GB,
// 1.9 GB for stages 0-3.
ModelStateMemory memory_per_gpu(int64_t params, const GridShape& layout, int zero_stage,
                                const StateBytes& bytes) {
  validate_layout(layout, "memory_per_gpu");
  validate_state(zero_stage, bytes, "memory_per_gpu");
  if (params < 0)
    throw mlsys::Error("pa3::memory_per_gpu: argument 'params' must be >= 0, got " +
                       std::to_string(params));
  // BEGIN SOLUTION PA3 Task 8.3
  const double P = static_cast<double>(params) / (static_cast<double>(layout.tp) * layout.pp);
  const double N = layout.dp;
  ModelStateMemory m;
  m.weights = bytes.weights * P / (zero_stage >= 3 ? N : 1.0);
  m.grads = bytes.grads * P / (zero_stage >= 2 ? N : 1.0);
  m.optimizer = bytes.optimizer * P / (zero_stage >= 1 ? N : 1.0);
  m.total = m.weights + m.grads + m.optimizer;
  return m;
  // END SOLUTION
}

// ============================================================================================
// Task 8.4 — bytes sent per optimizer step, per GPU
// ============================================================================================
//
// dp_comm_bytes: with P = params / (tp · pp), N = dp, m = step.micro_batches and the ring
// costs of handouts/pa3.md §3.3 (a reduce-scatter or an all-gather of n values sends
// (N-1)/N · n values per rank, an all-reduce twice that):
//   stage 0:     all-reduce of the gradients                          2 (N-1)/N · P · bytes.grads
//   stages 1, 2: reduce-scatter of the gradients + all-gather of the
//                updated weights                (N-1)/N · P · (bytes.grads + bytes.weights)
//   stage 3:     all-gather of the weights for the forward and the backward of each of the m
//                micro-batches + reduce-scatter of the gradients
//                                               (N-1)/N · P · (2 m · bytes.weights + bytes.grads)
// (With 2-byte weights and gradients and m = 1: 2P, 2P and 3P values, as the ZeRO paper says.)
double dp_comm_bytes(int64_t params, const GridShape& layout, int zero_stage,
                     const StateBytes& bytes, const StepShape& step) {
  validate_layout(layout, "dp_comm_bytes");
  validate_state(zero_stage, bytes, "dp_comm_bytes");
  validate_step(step, "dp_comm_bytes");
  if (params < 0)
    throw mlsys::Error("pa3::dp_comm_bytes: argument 'params' must be >= 0, got " +
                       std::to_string(params));
  // BEGIN SOLUTION PA3 Task 8.4
  const double P = static_cast<double>(params) / (static_cast<double>(layout.tp) * layout.pp);
  const double N = layout.dp;
  const double ring = (N - 1) / N * P;  // values one rank sends in a reduce-scatter of P values
  if (zero_stage == 0) return 2 * ring * bytes.grads;
  if (zero_stage <= 2) return ring * (bytes.grads + bytes.weights);
  return ring * (2.0 * static_cast<double>(step.micro_batches) * bytes.weights + bytes.grads);
  // END SOLUTION
}

// tp_comm_bytes (Narayanan et al. 2021, §3.3): a Megatron block all-reduces its [b, s, d]
// output over the t = tp ranks after the attention and after the MLP in the forward, and the
// matching input gradients in the backward: 4 all-reduces of b s d values per block and
// micro-batch, each sending 2 (t-1)/t · b s d values per rank. With L / pp blocks on this rank
// and m micro-batches:
//   4 · 2 (t-1)/t · b s d · (L / pp) · m · step.activation_bytes
// (The vocabulary-parallel embedding and LM head communicate too; the model leaves them out.)
double tp_comm_bytes(const TransformerShape& shape, const GridShape& layout,
                     const StepShape& step) {
  validate_shape(shape, "tp_comm_bytes");
  validate_layout(layout, "tp_comm_bytes");
  validate_step(step, "tp_comm_bytes");
  if (shape.n_layers % layout.pp != 0)
    throw mlsys::Error("pa3::tp_comm_bytes: argument 'layout' must have pp dividing the " +
                       std::to_string(shape.n_layers) + " layers, got pp = " +
                       std::to_string(layout.pp));
  // BEGIN SOLUTION PA3 Task 8.4
  const double t = layout.tp;
  const double bsd = static_cast<double>(step.micro_batch) * shape.seq_len * shape.d_model;
  const double layers = static_cast<double>(shape.n_layers / layout.pp);
  return 4.0 * 2.0 * (t - 1) / t * bsd * layers * static_cast<double>(step.micro_batches) *
         step.activation_bytes;
  // END SOLUTION
}

// pp_comm_bytes: stage k of pp sends, per micro-batch, its output activation [b, s, d] to
// stage k+1 (unless it is the last stage) and its input's gradient [b, s, d] to stage k-1
// (unless it is the first): (number of neighbours it sends to) · b s d · m · activation_bytes.
// A single stage (pp = 1) sends nothing.
double pp_comm_bytes(const TransformerShape& shape, const GridShape& layout,
                     const StepShape& step, int stage) {
  validate_shape(shape, "pp_comm_bytes");
  validate_layout(layout, "pp_comm_bytes");
  validate_step(step, "pp_comm_bytes");
  if (stage < 0 || stage >= layout.pp)
    throw mlsys::Error("pa3::pp_comm_bytes: argument 'stage' must be in [0, " +
                       std::to_string(layout.pp) + "), got " + std::to_string(stage));
  // BEGIN SOLUTION PA3 Task 8.4
  const int sends = (stage + 1 < layout.pp ? 1 : 0) + (stage > 0 ? 1 : 0);
  const double bsd = static_cast<double>(step.micro_batch) * shape.seq_len * shape.d_model;
  return sends * bsd * static_cast<double>(step.micro_batches) * step.activation_bytes;
  // END SOLUTION
}

}  // namespace pa3
