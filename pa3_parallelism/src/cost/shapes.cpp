// pa3_parallelism/src/cost/shapes.cpp — given code of PA3 Task 8: the two families' shapes,
// PA3's GPT as a shape, and the checks every cost-model function runs first (pa3/cost_model.h).
#include <sstream>

#include "mlsys/error.h"
#include "pa3/cost_model.h"

namespace pa3 {

TransformerShape llama_shape(int64_t vocab, int64_t d_model, int64_t n_layers, int64_t n_heads,
                             int64_t n_kv_heads, int64_t ffn_hidden, int64_t seq_len,
                             bool tied_embeddings) {
  TransformerShape s;
  s.vocab = vocab;
  s.d_model = d_model;
  s.n_layers = n_layers;
  s.n_heads = n_heads;
  s.n_kv_heads = n_kv_heads;
  s.ffn_hidden = ffn_hidden;
  s.seq_len = seq_len;
  s.norm = NormKind::RMSNorm;
  s.mlp = MlpKind::SwiGLU;
  s.linear_bias = false;
  s.learned_positions = false;
  s.tied_embeddings = tied_embeddings;
  return s;
}

TransformerShape gpt_shape(int64_t vocab, int64_t d_model, int64_t n_layers, int64_t n_heads,
                           int64_t ffn_hidden, int64_t seq_len, bool tied_embeddings) {
  TransformerShape s;
  s.vocab = vocab;
  s.d_model = d_model;
  s.n_layers = n_layers;
  s.n_heads = n_heads;
  s.n_kv_heads = n_heads;
  s.ffn_hidden = ffn_hidden;
  s.seq_len = seq_len;
  s.norm = NormKind::LayerNorm;
  s.mlp = MlpKind::Gelu;
  s.linear_bias = true;
  s.learned_positions = true;
  s.tied_embeddings = tied_embeddings;
  return s;
}

TransformerShape shape_of(const GPTConfig& config) {
  config.validate();
  return gpt_shape(config.padded_vocab_size, config.n_embd, config.n_layer, config.n_head,
                   4 * config.n_embd, config.block_size, config.tie_embeddings);
}

namespace {

[[noreturn]] void fail(const std::string& fn, const std::string& what) {
  throw mlsys::Error("pa3::" + fn + ": " + what);
}

void positive(const std::string& fn, const char* arg, const char* field, int64_t value) {
  if (value < 1) {
    std::ostringstream os;
    os << "argument '" << arg << "' must have " << field << " >= 1, got " << value;
    fail(fn, os.str());
  }
}

}  // namespace

void validate_shape(const TransformerShape& s, const std::string& fn) {
  positive(fn, "shape", "vocab", s.vocab);
  positive(fn, "shape", "d_model", s.d_model);
  positive(fn, "shape", "n_layers", s.n_layers);
  positive(fn, "shape", "n_heads", s.n_heads);
  positive(fn, "shape", "n_kv_heads", s.n_kv_heads);
  positive(fn, "shape", "ffn_hidden", s.ffn_hidden);
  positive(fn, "shape", "seq_len", s.seq_len);
  if (s.d_model % s.n_heads != 0)
    fail(fn, "argument 'shape' must have n_heads dividing d_model, got d_model = " +
                 std::to_string(s.d_model) + " and n_heads = " + std::to_string(s.n_heads));
  if (s.n_heads % s.n_kv_heads != 0)
    fail(fn, "argument 'shape' must have n_kv_heads dividing n_heads, got n_heads = " +
                 std::to_string(s.n_heads) + " and n_kv_heads = " + std::to_string(s.n_kv_heads));
}

void validate_layout(const GridShape& layout, const std::string& fn) {
  if (layout.dp < 1 || layout.tp < 1 || layout.pp < 1)
    fail(fn, "argument 'layout' must have dp, tp, pp >= 1, got dp x tp x pp = " +
                 std::to_string(layout.dp) + " x " + std::to_string(layout.tp) + " x " +
                 std::to_string(layout.pp));
}

void validate_state(int zero_stage, const StateBytes& bytes, const std::string& fn) {
  if (zero_stage < 0 || zero_stage > 3)
    fail(fn, "argument 'zero_stage' must be 0, 1, 2 or 3, got " + std::to_string(zero_stage));
  if (!(bytes.weights >= 0) || !(bytes.grads >= 0) || !(bytes.optimizer >= 0)) {
    std::ostringstream os;
    os << "argument 'bytes' must have weights, grads, optimizer >= 0, got " << bytes.weights
       << ", " << bytes.grads << ", " << bytes.optimizer;
    fail(fn, os.str());
  }
}

void validate_step(const StepShape& step, const std::string& fn) {
  positive(fn, "step", "micro_batch", step.micro_batch);
  positive(fn, "step", "micro_batches", step.micro_batches);
  if (!(step.activation_bytes > 0)) {
    std::ostringstream os;
    os << "argument 'step' must have activation_bytes > 0, got " << step.activation_bytes;
    fail(fn, os.str());
  }
}

}  // namespace pa3
