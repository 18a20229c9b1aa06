// Helpers of the Task 5 tests (and their hidden twins): tiny GPT configurations, token batches,
// runs of a function on every rank of a TP group, bit comparisons and error measures against
// the single-process model of pa3/gpt.h.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "mlsys/ops.h"
#include "mlsys/testing.h"
#include "pa3/adamw.h"
#include "pa3/comm.h"
#include "pa3/gpt.h"
#include "pa3/tensor_parallel.h"
#include "ranks_util.h"

namespace tptest {

using mlsys::Tensor;

// Every blocking call of these tests fails after 2 s (instead of the default 30 s): a missing
// or extra collective on one rank is a clear error naming the ranks, not a hang.
inline const bool kDeadlineSet = (pa3::set_deadline(2.0), true);

// C = 8 channels in 4 heads (hs = 2), V = 7 real symbols padded to Vp = 8: TP sizes 1, 2, 4
// divide both (tp = 4 runs one head and owns two vocabulary rows per rank).
inline pa3::GPTConfig tiny_config(bool tied = false, int64_t layers = 2) {
  pa3::GPTConfig c;
  c.vocab_size = 7;
  c.padded_vocab_size = 8;
  c.block_size = 6;
  c.n_layer = layers;
  c.n_head = 4;
  c.n_embd = 8;
  c.tie_embeddings = tied;
  return c;
}

// A deterministic int32 [B, T] batch of ids in [0, V) (an LCG: independent of the code under
// test).
inline Tensor tokens(int64_t B, int64_t T, int64_t V, uint64_t seed) {
  std::vector<int32_t> v(static_cast<size_t>(B * T));
  uint64_t x = seed * 6364136223846793005ull + 1442695040888963407ull;
  for (auto& t : v) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    t = static_cast<int32_t>((x >> 33) % static_cast<uint64_t>(V));
  }
  return mlsys::from_vector(v, {B, T});
}

// Runs fn(comm) on `tp` ranks and returns each rank's result (threads backend, or one rank per
// process in the MPI test program: ranks_util.h).
using pa3test::on_ranks;

inline std::vector<float> values(const Tensor& t) {
  const Tensor c = t.contiguous();
  return std::vector<float>(c.data<float>(), c.data<float>() + c.numel());
}

// Every tensor of `p` in canonical order, flattened.
inline std::vector<float> flatten(const pa3::GPTParams& p) {
  std::vector<float> out;
  for (const pa3::NamedTensor& t : p.list()) {
    const std::vector<float> v = values(t.tensor);
    out.insert(out.end(), v.begin(), v.end());
  }
  return out;
}

inline Tensor as_tensor(const std::vector<float>& v) {
  return mlsys::from_vector(v, {static_cast<int64_t>(v.size())});
}

// Elements whose bits differ (-1 when the sizes differ).
inline int64_t bit_mismatches(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return -1;
  int64_t bad = 0;
  for (size_t i = 0; i < a.size(); ++i) bad += std::memcmp(&a[i], &b[i], sizeof(float)) != 0;
  return bad;
}
inline int64_t bit_mismatches(const Tensor& a, const Tensor& b) {
  return bit_mismatches(values(a), values(b));
}

// max |a - b| / (atol + rtol |b|) over the elements: <= 1 means "within tolerance". Sizes must
// match (+inf otherwise); a NaN counts as +inf.
inline double tol_ratio(const std::vector<float>& a, const std::vector<float>& b, double rtol,
                        double atol) {
  if (a.size() != b.size()) return INFINITY;
  double worst = 0.0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double d = std::fabs(static_cast<double>(a[i]) - static_cast<double>(b[i]));
    const double r = d / (atol + rtol * std::fabs(static_cast<double>(b[i])));
    if (!(r <= worst)) worst = std::isnan(r) ? INFINITY : r;
  }
  return worst;
}

// The largest |v|.
inline double max_abs(const std::vector<float>& v) {
  double m = 0.0;
  for (float x : v) m = std::fabs(static_cast<double>(x)) > m ? std::fabs(static_cast<double>(x)) : m;
  return m;
}

// max |a - b| / (rel * max |b|): a tolerance relative to the tensor's scale, for results of
// sums whose terms cancel (an element near 0 carries the rounding of terms of size max |b|).
// <= 1 means "within tolerance"; +inf when the sizes differ or on NaN.
inline double scaled_ratio(const std::vector<float>& a, const std::vector<float>& b, double rel) {
  return tol_ratio(a, b, 0.0, rel * (max_abs(b) > 0 ? max_abs(b) : 1.0));
}

// The largest |a - b| (for messages).
inline double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return INFINITY;
  double worst = 0.0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double d = std::fabs(static_cast<double>(a[i]) - static_cast<double>(b[i]));
    if (!(d <= worst)) worst = d;
  }
  return worst;
}

// Elements of an all-reduce of n floats a rank sends on the threads backend's ring (comm.h):
// 2n - |chunk r| - |chunk r+1|.
inline int64_t all_reduce_elems(int64_t n, int p, int r) {
  if (p == 1) return 0;
  return 2 * n - pa3::chunk_of(n, p, r).size - pa3::chunk_of(n, p, (r + 1) % p).size;
}
// ... and of an all-gather of n floats in all: n - |chunk r+1|.
inline int64_t all_gather_elems(int64_t n, int p, int r) {
  if (p == 1) return 0;
  return n - pa3::chunk_of(n, p, (r + 1) % p).size;
}

// What one rank sent during a call: bytes in all, bytes and messages inside the native
// all-reduce and all-gather scopes.
struct Traffic {
  int64_t bytes = 0;
  int64_t all_reduce_bytes = 0, all_reduce_messages = 0;
  int64_t all_gather_bytes = 0, all_gather_messages = 0;
  bool operator==(const Traffic& o) const {
    return bytes == o.bytes && all_reduce_bytes == o.all_reduce_bytes &&
           all_reduce_messages == o.all_reduce_messages && all_gather_bytes == o.all_gather_bytes &&
           all_gather_messages == o.all_gather_messages;
  }
};
inline std::ostream& operator<<(std::ostream& os, const Traffic& t) {
  return os << "{bytes " << t.bytes << ", all_reduce " << t.all_reduce_bytes << " B in "
            << t.all_reduce_messages << " msgs, all_gather " << t.all_gather_bytes << " B in "
            << t.all_gather_messages << " msgs}";
}
inline Traffic traffic_of(const pa3::Communicator& comm, const std::function<void()>& fn) {
  comm.reset_stats();
  fn();
  const pa3::CommStats s = comm.stats();
  Traffic t;
  t.bytes = static_cast<int64_t>(s.sent.bytes);
  t.all_reduce_bytes = static_cast<int64_t>(s.sent_in_scope("native_all_reduce").bytes);
  t.all_reduce_messages = static_cast<int64_t>(s.sent_in_scope("native_all_reduce").messages);
  t.all_gather_bytes = static_cast<int64_t>(s.sent_in_scope("native_all_gather").bytes);
  t.all_gather_messages = static_cast<int64_t>(s.sent_in_scope("native_all_gather").messages);
  return t;
}
// `count` all-reduces of n floats each, nothing else.
inline Traffic all_reduces(int count, int64_t n, int p, int r) {
  Traffic t;
  t.all_reduce_bytes = 4 * count * all_reduce_elems(n, p, r);
  t.all_reduce_messages = p == 1 ? 0 : count * 2 * (p - 1);
  t.bytes = t.all_reduce_bytes;
  return t;
}

// A full-model result of one rank (or of the single process): loss, every rank's per-position
// losses, the gradients gathered to full shapes, and the embedding output.
struct ModelRun {
  float loss = 0.f;
  std::vector<float> losses;  // [B*T]
  std::vector<float> grads;   // full shapes, canonical order
  std::vector<float> shard_grads_replicated;  // this rank's gradients of replicated tensors
};
inline void io(pa3test::Archive& a, ModelRun& r) { a(r.loss, r.losses, r.grads, r.shard_grads_replicated); }

// The names of the tensors every TP rank holds in full (replicated), canonical order.
inline bool is_replicated(const std::string& name) {
  auto ends = [&](const char* s) {
    const std::string t(s);
    return name.size() >= t.size() && name.compare(name.size() - t.size(), t.size(), t) == 0;
  };
  return name == "wpe" || ends("ln_1.weight") || ends("ln_1.bias") || ends("ln_2.weight") ||
         ends("ln_2.bias") || ends("attn.c_proj.bias") || ends("mlp.c_proj.bias") ||
         name == "ln_f.weight" || name == "ln_f.bias";
}
inline std::vector<float> replicated_values(const pa3::GPTParams& p) {
  std::vector<float> out;
  for (const pa3::NamedTensor& t : p.list()) {
    if (!is_replicated(t.name)) continue;
    const std::vector<float> v = values(t.tensor);
    out.insert(out.end(), v.begin(), v.end());
  }
  return out;
}

// The single-process reference: gpt_forward + gpt_backward (dloss = 1/(B T)) from
// gpt_init(config, seed).
inline ModelRun single_process(const pa3::GPTConfig& config, uint64_t seed, const Tensor& x,
                               const Tensor& y) {
  const pa3::GPTParams p = pa3::gpt_init(config, seed);
  const pa3::GPTParams g = pa3::gpt_zeros_like(p);
  pa3::GPTActs acts;
  ModelRun run;
  run.loss = pa3::gpt_forward(acts, p, config, x, y);
  pa3::gpt_backward(g, acts, p, config, x, y, 1.0f / static_cast<float>(x.numel()));
  run.losses = values(acts.head.losses);
  run.grads = flatten(g);
  return run;
}

// The same on a TP group of `tp` ranks: each rank slices gpt_init(config, seed), runs
// tp_gpt_forward/backward; the gradients are gathered with tp_gather_params (staff code).
inline std::vector<ModelRun> tp_model(int tp, const pa3::GPTConfig& config, uint64_t seed,
                                      const Tensor& x, const Tensor& y) {
  return on_ranks<ModelRun>(tp, [&](pa3::Communicator& comm) {
    const pa3::GPTParams full = pa3::gpt_init(config, seed);
    const pa3::GPTParams s = pa3::tp_shard_params(full, config, comm.size(), comm.rank());
    const pa3::GPTParams g = pa3::gpt_zeros_like(s);
    pa3::GPTActs acts;
    ModelRun run;
    run.loss = pa3::tp_gpt_forward(acts, s, config, x, y, comm);
    pa3::tp_gpt_backward(g, acts, s, config, x, y, 1.0f / static_cast<float>(x.numel()), comm);
    run.losses = values(acts.head.losses);
    run.grads = flatten(pa3::tp_gather_params(comm, g, config));
    run.shard_grads_replicated = replicated_values(g);
    return run;
  });
}

// `steps` AdamW steps on a TP group (every rank the same batches) from gpt_init(config, seed);
// returns every rank's parameters gathered to full shapes (flattened) and its own replicated
// tensors after the last step, and the losses.
struct TrainRun {
  std::vector<float> full_params;
  std::vector<float> replicated;
  std::vector<float> losses;
};
inline void io(pa3test::Archive& a, TrainRun& r) { a(r.full_params, r.replicated, r.losses); }
inline std::vector<float> single_train(const pa3::GPTConfig& config, uint64_t seed, int steps,
                                       int64_t B, int64_t T, std::vector<float>* losses) {
  pa3::GPTParams p = pa3::gpt_init(config, seed);
  pa3::GPTParams g = pa3::gpt_zeros_like(p);
  pa3::AdamW opt(p.list(), pa3::AdamWConfig{});
  pa3::GPTActs acts;
  for (int s = 0; s < steps; ++s) {
    const Tensor x = tokens(B, T, config.vocab_size, 100 + s);
    const Tensor y = tokens(B, T, config.vocab_size, 200 + s);
    pa3::zero_grads(g);
    losses->push_back(pa3::gpt_forward(acts, p, config, x, y));
    pa3::gpt_backward(g, acts, p, config, x, y, 1.0f / static_cast<float>(B * T));
    opt.step(g.list());
  }
  return flatten(p);
}
inline std::vector<TrainRun> tp_train(int tp, const pa3::GPTConfig& config, uint64_t seed,
                                      int steps, int64_t B, int64_t T) {
  return on_ranks<TrainRun>(tp, [&](pa3::Communicator& comm) {
    pa3::GPTParams p =
        pa3::tp_shard_params(pa3::gpt_init(config, seed), config, comm.size(), comm.rank());
    pa3::GPTParams g = pa3::gpt_zeros_like(p);
    pa3::AdamW opt(p.list(), pa3::AdamWConfig{});
    pa3::GPTActs acts;
    TrainRun run;
    for (int s = 0; s < steps; ++s) {
      const Tensor x = tokens(B, T, config.vocab_size, 100 + s);
      const Tensor y = tokens(B, T, config.vocab_size, 200 + s);
      pa3::zero_grads(g);
      run.losses.push_back(pa3::tp_gpt_forward(acts, p, config, x, y, comm));
      pa3::tp_gpt_backward(g, acts, p, config, x, y, 1.0f / static_cast<float>(B * T), comm);
      opt.step(g.list());
    }
    run.full_params = flatten(pa3::tp_gather_params(comm, p, config));
    run.replicated = replicated_values(p);
    return run;
  });
}

}  // namespace tptest
