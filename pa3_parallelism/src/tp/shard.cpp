// Tensor parallelism, given code: the TP layout of the GPT's parameters (slicing the full
// master weights into one rank's shard and assembling shards back), the shape checks and the
// allocation of one rank's activations. Contracts in pa3/tensor_parallel.h.
#include <string>
#include <vector>

#include "pa3/tensor_parallel.h"
#include "tp/tp_check.h"

namespace pa3 {

using mlsys::Shape;
using tp_detail::fail;

// ================================================================================================
// Configuration and layout
// ================================================================================================

void tp_check_config(const char* op, const GPTConfig& config, int tp_size) {
  config.validate();
  if (tp_size < 1) fail(op, "tp_size", "expected >= 1, got " + std::to_string(tp_size));
  tp_detail::check_heads(op, config.n_head, tp_size);
  if (config.padded_vocab_size % tp_size != 0) {
    fail(op, "padded_vocab_size",
         "expected a multiple of the TP size " + std::to_string(tp_size) +
             " (each rank owns Vp / tp vocabulary rows; pad the vocabulary further), got " +
             std::to_string(config.padded_vocab_size));
  }
}

Chunk tp_vocab_range(const GPTConfig& config, int tp_size, int tp_rank) {
  tp_check_config("tp_vocab_range", config, tp_size);
  if (tp_rank < 0 || tp_rank >= tp_size) {
    fail("tp_vocab_range", "tp_rank", "expected a rank in [0, " + std::to_string(tp_size) +
                                          "), got " + std::to_string(tp_rank));
  }
  const int64_t Vs = config.padded_vocab_size / tp_size;
  return Chunk{tp_rank * Vs, Vs};
}

namespace {

// The shard's rows (dim 0) or columns (dim 1) [begin, begin + n) of `full`, as a fresh tensor.
Tensor rows(const Tensor& full, int64_t begin, int64_t n) {
  return full.slice(0, begin, begin + n).clone();
}
Tensor cols(const Tensor& full, int64_t begin, int64_t n) {
  return full.slice(1, begin, begin + n).clone();
}
// c_attn: the rows of this rank's heads in each of q, k and v, concatenated q | k | v.
Tensor qkv_rows(const Tensor& full, int64_t C, int64_t begin, int64_t n) {
  Shape shape = full.shape();
  shape[0] = 3 * n;
  Tensor out = mlsys::empty(shape);
  for (int64_t part = 0; part < 3; ++part) {
    out.slice(0, part * n, (part + 1) * n).copy_(full.slice(0, part * C + begin, part * C + begin + n));
  }
  return out;
}

// Expected shard shapes of one block, in the canonical order of its 12 tensors.
std::vector<Shape> block_shard_shapes(int64_t C, int64_t n_head, int tp) {
  const int64_t Cs = C / tp, Fs = 4 * C / tp;
  (void)n_head;
  return {{C}, {C}, {3 * Cs, C}, {3 * Cs}, {C, Cs}, {C}, {C}, {C}, {Fs, C}, {Fs}, {C, Fs}, {C}};
}

std::vector<const Tensor*> block_fields(const BlockParams& b) {
  return {&b.ln1_w, &b.ln1_b,  &b.qkv_w, &b.qkv_b, &b.attproj_w, &b.attproj_b,
          &b.ln2_w, &b.ln2_b, &b.fc_w,  &b.fc_b,  &b.fcproj_w,  &b.fcproj_b};
}

const char* const kBlockNames[12] = {
    "ln_1.weight",    "ln_1.bias",       "attn.c_attn.weight", "attn.c_attn.bias",
    "attn.c_proj.weight", "attn.c_proj.bias", "ln_2.weight",   "ln_2.bias",
    "mlp.c_fc.weight", "mlp.c_fc.bias",   "mlp.c_proj.weight", "mlp.c_proj.bias"};

void check_named(const char* op, const std::string& name, const Tensor& t, const Shape& shape) {
  if (!t.defined()) fail(op, name, "expected a tensor of shape " + mlsys::to_string(shape) +
                                       ", got an undefined tensor");
  if (t.shape() != shape || t.dtype() != mlsys::DType::Float32 || !t.is_contiguous() ||
      t.device() != mlsys::Device::CPU) {
    fail(op, name, "expected float32" + mlsys::to_string(shape) +
                       " contiguous cpu (this rank's tensor-parallel shard), got " + t.describe());
  }
}

}  // namespace

namespace tp_detail {
void check_block_shard(const char* op, const BlockParams& shard, int64_t C, int64_t n_head,
                       int tp_size, const std::string& prefix) {
  check_heads(op, n_head, tp_size);
  if (C <= 0 || C % n_head != 0) {
    fail(op, "x", "expected C (the last dim) a positive multiple of n_head = " +
                      std::to_string(n_head) + ", got C = " + std::to_string(C));
  }
  const std::vector<Shape> shapes = block_shard_shapes(C, n_head, tp_size);
  const std::vector<const Tensor*> fields = block_fields(shard);
  for (size_t j = 0; j < fields.size(); ++j) {
    check_named(op, prefix + kBlockNames[j], *fields[j], shapes[j]);
  }
}
}  // namespace tp_detail

void tp_check_block_shard(const char* op, const BlockParams& shard, const GPTConfig& config,
                          int tp_size) {
  tp_check_config(op, config, tp_size);
  tp_detail::check_block_shard(op, shard, config.n_embd, config.n_head, tp_size);
}

void tp_check_shard(const char* op, const GPTParams& shard, const GPTConfig& config,
                    int tp_size) {
  tp_check_config(op, config, tp_size);
  const int64_t C = config.n_embd, Vs = config.padded_vocab_size / tp_size;
  if (static_cast<int64_t>(shard.h.size()) != config.n_layer) {
    fail(op, "params", "expected " + std::to_string(config.n_layer) +
                           " blocks (config.n_layer), got " + std::to_string(shard.h.size()));
  }
  if (shard.tied != config.tie_embeddings) {
    fail(op, "params", std::string("expected ") + (config.tie_embeddings ? "tied" : "untied") +
                           " embeddings (config.tie_embeddings), got the other");
  }
  check_named(op, "wte", shard.wte, {Vs, C});
  check_named(op, "wpe", shard.wpe, {config.block_size, C});
  for (size_t l = 0; l < shard.h.size(); ++l) {
    tp_detail::check_block_shard(op, shard.h[l], C, config.n_head, tp_size,
                                 "h." + std::to_string(l) + ".");
  }
  check_named(op, "ln_f.weight", shard.lnf_w, {C});
  check_named(op, "ln_f.bias", shard.lnf_b, {C});
  check_named(op, "lm_head.weight", shard.lm_head, {Vs, C});
}

// ================================================================================================
// Slicing the master weights
// ================================================================================================

BlockParams tp_shard_block(const BlockParams& full, const GPTConfig& config, int tp_size,
                           int tp_rank) {
  tp_check_config("tp_shard_block", config, tp_size);
  const Chunk v = tp_vocab_range(config, tp_size, tp_rank);  // checks tp_rank
  (void)v;
  const int64_t C = config.n_embd, Cs = C / tp_size, Fs = 4 * C / tp_size;
  const int64_t c0 = tp_rank * Cs, f0 = tp_rank * Fs;
  tp_detail::check_block_shard("tp_shard_block", full, C, config.n_head, 1, "full.");
  BlockParams s;
  s.ln1_w = full.ln1_w.clone();
  s.ln1_b = full.ln1_b.clone();
  s.qkv_w = qkv_rows(full.qkv_w, C, c0, Cs);
  s.qkv_b = qkv_rows(full.qkv_b, C, c0, Cs);
  s.attproj_w = cols(full.attproj_w, c0, Cs);
  s.attproj_b = full.attproj_b.clone();
  s.ln2_w = full.ln2_w.clone();
  s.ln2_b = full.ln2_b.clone();
  s.fc_w = rows(full.fc_w, f0, Fs);
  s.fc_b = rows(full.fc_b, f0, Fs);
  s.fcproj_w = cols(full.fcproj_w, f0, Fs);
  s.fcproj_b = full.fcproj_b.clone();
  return s;
}

GPTParams tp_shard_params(const GPTParams& full, const GPTConfig& config, int tp_size,
                          int tp_rank) {
  tp_check_config("tp_shard_params", config, tp_size);
  const Chunk v = tp_vocab_range(config, tp_size, tp_rank);  // checks tp_rank
  tp_check_shard("tp_shard_params", full, config, 1);  // `full` has the full shapes
  GPTParams s;
  s.tied = full.tied;
  s.wte = rows(full.wte, v.begin, v.size);
  s.wpe = full.wpe.clone();
  for (const BlockParams& b : full.h) s.h.push_back(tp_shard_block(b, config, tp_size, tp_rank));
  s.lnf_w = full.lnf_w.clone();
  s.lnf_b = full.lnf_b.clone();
  s.lm_head = s.tied ? s.wte : rows(full.lm_head, v.begin, v.size);
  return s;
}

// ================================================================================================
// Assembling shards
// ================================================================================================

GPTParams tp_unshard_params(const std::vector<GPTParams>& shards, const GPTConfig& config) {
  const char* op = "tp_unshard_params";
  const int tp = static_cast<int>(shards.size());
  if (tp < 1) fail(op, "shards", "expected one shard per TP rank, got none");
  for (int r = 0; r < tp; ++r) tp_check_shard(op, shards[r], config, tp);
  const int64_t C = config.n_embd, Cs = C / tp, Fs = 4 * C / tp,
                Vs = config.padded_vocab_size / tp;
  GPTParams full;
  full.tied = config.tie_embeddings;
  const GPTParams& s0 = shards[0];
  full.wte = mlsys::empty({config.padded_vocab_size, C});
  full.wpe = s0.wpe.clone();
  for (size_t l = 0; l < s0.h.size(); ++l) {
    const BlockParams& b = s0.h[l];
    BlockParams f;
    f.ln1_w = b.ln1_w.clone();
    f.ln1_b = b.ln1_b.clone();
    f.qkv_w = mlsys::empty({3 * C, C});
    f.qkv_b = mlsys::empty({3 * C});
    f.attproj_w = mlsys::empty({C, C});
    f.attproj_b = b.attproj_b.clone();
    f.ln2_w = b.ln2_w.clone();
    f.ln2_b = b.ln2_b.clone();
    f.fc_w = mlsys::empty({4 * C, C});
    f.fc_b = mlsys::empty({4 * C});
    f.fcproj_w = mlsys::empty({C, 4 * C});
    f.fcproj_b = b.fcproj_b.clone();
    for (int r = 0; r < tp; ++r) {
      const BlockParams& sr = shards[r].h[l];
      for (int64_t part = 0; part < 3; ++part) {
        const int64_t at = part * C + r * Cs;
        f.qkv_w.slice(0, at, at + Cs).copy_(sr.qkv_w.slice(0, part * Cs, (part + 1) * Cs));
        f.qkv_b.slice(0, at, at + Cs).copy_(sr.qkv_b.slice(0, part * Cs, (part + 1) * Cs));
      }
      f.attproj_w.slice(1, r * Cs, (r + 1) * Cs).copy_(sr.attproj_w);
      f.fc_w.slice(0, r * Fs, (r + 1) * Fs).copy_(sr.fc_w);
      f.fc_b.slice(0, r * Fs, (r + 1) * Fs).copy_(sr.fc_b);
      f.fcproj_w.slice(1, r * Fs, (r + 1) * Fs).copy_(sr.fcproj_w);
    }
    full.h.push_back(f);
  }
  full.lnf_w = s0.lnf_w.clone();
  full.lnf_b = s0.lnf_b.clone();
  full.lm_head = full.tied ? full.wte : mlsys::empty({config.padded_vocab_size, C});
  for (int r = 0; r < tp; ++r) {
    full.wte.slice(0, r * Vs, (r + 1) * Vs).copy_(shards[r].wte);
    if (!full.tied) full.lm_head.slice(0, r * Vs, (r + 1) * Vs).copy_(shards[r].lm_head);
  }
  return full;
}

GPTParams tp_gather_params(const Communicator& tp_comm, const GPTParams& shard,
                           const GPTConfig& config) {
  const int tp = tp_comm.size();
  tp_check_shard("tp_gather_params", shard, config, tp);
  std::vector<GPTParams> shards;
  for (int r = 0; r < tp; ++r) shards.push_back(gpt_zeros_like(shard));
  const std::vector<NamedTensor> mine = shard.list();
  for (size_t i = 0; i < mine.size(); ++i) {
    const int64_t n = mine[i].tensor.numel();
    Tensor all = mlsys::empty({tp * n});
    tp_comm.native_all_gather(mine[i].tensor.reshape({n}), all);
    for (int r = 0; r < tp; ++r) {
      shards[r].list()[i].tensor.reshape({n}).copy_(all.slice(0, r * n, (r + 1) * n));
    }
  }
  return tp_unshard_params(shards, config);
}

// ================================================================================================
// Activations of one rank
// ================================================================================================

BlockActs tp_block_acts_alloc(const GPTConfig& config, int tp_size, int64_t B, int64_t T) {
  tp_check_config("tp_block_acts_alloc", config, tp_size);
  BlockActs a = block_acts_alloc(config, B, T);
  const int64_t Cs = config.n_embd / tp_size, NHs = config.n_head / tp_size;
  a.qkv = mlsys::empty({B, T, 3 * Cs});
  a.att = mlsys::empty({B, NHs, T, T});
  a.atty = mlsys::empty({B, T, Cs});
  a.fch = mlsys::empty({B, T, 4 * Cs});
  a.fch_gelu = mlsys::empty({B, T, 4 * Cs});
  return a;
}

HeadActs tp_head_acts_alloc(const GPTConfig& config, int tp_size, int64_t B, int64_t T) {
  tp_check_config("tp_head_acts_alloc", config, tp_size);
  HeadActs a = head_acts_alloc(config, B, T);
  const int64_t Vs = config.padded_vocab_size / tp_size;
  a.logits = mlsys::empty({B, T, Vs});
  a.probs = mlsys::empty({B, T, Vs});
  return a;
}

GPTActs tp_acts_alloc(const GPTConfig& config, int tp_size, int64_t B, int64_t T) {
  tp_check_config("tp_acts_alloc", config, tp_size);
  if (B <= 0 || T <= 0 || T > config.block_size) {
    fail("tp_acts_alloc", "T", "expected B > 0 and 0 < T <= block_size = " +
                                   std::to_string(config.block_size) + ", got B = " +
                                   std::to_string(B) + ", T = " + std::to_string(T));
  }
  GPTActs a;
  a.B = B;
  a.T = T;
  a.encoded = mlsys::empty({B, T, config.n_embd});
  for (int64_t l = 0; l < config.n_layer; ++l) {
    a.blocks.push_back(tp_block_acts_alloc(config, tp_size, B, T));
  }
  a.head = tp_head_acts_alloc(config, tp_size, B, T);
  return a;
}

}  // namespace pa3
