// Test cases of PA3 Task 5.3, shared by the public tests (test_task5_3_vocab.cpp) and the grader's
// further cases, which run them on other sizes.
#pragma once

#include "tp_test_util.h"

namespace tptest::t53 {

using mlsys::Tensor;
using tptest::on_ranks;
namespace rec = mlsys::test;

// Tolerances (relative to each tensor's scale, see tptest::scaled_ratio), calibrated on the
// reference:
//   cross-entropy: the sum of exponentials is added in tp pieces; measured |diff| of losses
//     <= 9.0e-8 and of a rank's probabilities <= 2.0e-7 of their scale (tp = 2, 4).
//                                                                     -> kCeRel = 1e-6
//   whole model: the row-parallel sums of every block; measured gradients <= 3.3e-7 and
//     per-position losses <= 5.9e-8 of their scale (tiny_config, B = 4, T = 6). -> kModelRel = 3e-6
//   training: 3 AdamW steps; measured parameters within 2.2e-7 abs (a tolerance of rtol 1e-5
//     + atol 1e-6 used at most 0.22 of itself).                       -> rtol 2e-5, atol 2e-6
constexpr double kCeRel = 1e-6, kModelRel = 3e-6, kTrainRtol = 2e-5, kTrainAtol = 2e-6;

// ============================================================================================
// Embedding
// ============================================================================================

struct EmbRun {
  std::vector<float> out, dwte, dwpe;
  tptest::Traffic forward, backward;
};
inline void io(pa3test::Archive& a, EmbRun& r) { a(r.out, r.dwte, r.dwpe, r.forward, r.backward); }

inline void embedding_case(int tp, int64_t B = 3, int64_t T = 5, int64_t C = 6, int64_t Vp = 12,
                           int64_t block = 7) {
  SCOPED_TRACE("tp = " + std::to_string(tp) + ", Vp = " + std::to_string(Vp));
  const int64_t Vs = Vp / tp;
  const Tensor wte = mlsys::randn({Vp, C}, 1, 0.f, 1.f), wpe = mlsys::randn({block, C}, 2, 0.f, 1.f);
  const Tensor tok = tptest::tokens(B, T, Vp, 3);  // every id of the padded vocabulary may occur
  const Tensor dout = mlsys::randn({B, T, C}, 4, 0.f, 1.f);
  const Tensor dwte0 = mlsys::randn({Vp, C}, 5, 0.f, 1.f), dwpe0 = mlsys::randn({block, C}, 6, 0.f, 1.f);
  // single process
  const Tensor out_ref = mlsys::empty({B, T, C});
  pa3::embedding_forward(out_ref, tok, wte, wpe);
  const Tensor dwte_ref = dwte0.clone(), dwpe_ref = dwpe0.clone();
  pa3::embedding_backward(dwte_ref, dwpe_ref, dout, tok);
  const auto runs = on_ranks<EmbRun>(tp, [&](pa3::Communicator& comm) {
    const int64_t v0 = comm.rank() * Vs;
    const Tensor w = wte.slice(0, v0, v0 + Vs).clone(), out = mlsys::empty({B, T, C});
    const Tensor dw = dwte0.slice(0, v0, v0 + Vs).clone(), dp = dwpe0.clone();
    EmbRun r;
    r.forward = tptest::traffic_of(comm, [&] { pa3::vocab_parallel_embedding_forward(comm, out, tok, w, wpe); });
    r.backward = tptest::traffic_of(comm, [&] { pa3::vocab_parallel_embedding_backward(comm, dw, dp, dout, tok); });
    r.out = tptest::values(out);
    r.dwte = tptest::values(dw);
    r.dwpe = tptest::values(dp);
    return r;
  });
  for (int r = 0; r < tp; ++r) {
    SCOPED_TRACE("rank " + std::to_string(r));
    EXPECT_EQ(tptest::bit_mismatches(runs[r].out, tptest::values(out_ref)), 0) << "out vs embedding_forward";
    EXPECT_EQ(tptest::bit_mismatches(runs[r].dwte, tptest::values(dwte_ref.slice(0, r * Vs, (r + 1) * Vs))), 0)
        << "dwte vs rows [" << r * Vs << ", " << (r + 1) * Vs << ") of embedding_backward's";
    EXPECT_EQ(tptest::bit_mismatches(runs[r].dwpe, tptest::values(dwpe_ref)), 0) << "dwpe (replicated)";
    EXPECT_EQ(runs[r].forward, tptest::all_reduces(1, B * T * C, tp, r)) << "forward: one all-reduce of B*T*C";
    EXPECT_EQ(runs[r].backward, tptest::Traffic{}) << "backward sends nothing";
  }
  rec::record("out_last_rank", tptest::as_tensor(runs[tp - 1].out), 0, 0);
  rec::record("dwte_rank0", tptest::as_tensor(runs[0].dwte), 0, 0);
  rec::record("dwpe_last_rank", tptest::as_tensor(runs[tp - 1].dwpe), 0, 0);
  rec::record_exact("forward_bytes_rank0", runs[0].forward.bytes);
}

// ============================================================================================
// Cross-entropy
// ============================================================================================

struct CeRun {
  float loss = 0.f;
  std::vector<float> losses, probs, dlogits;
  tptest::Traffic forward, backward;
};
inline void io(pa3test::Archive& a, CeRun& r) { a(r.loss, r.losses, r.probs, r.dlogits, r.forward, r.backward); }

// logits [B,T,Vp] N(0, 3) with the padding columns set to +50 (they must take no part).
inline void crossentropy_case(int tp, int64_t V, int64_t Vp, int64_t B = 3, int64_t T = 4) {
  SCOPED_TRACE("tp = " + std::to_string(tp) + ", V = " + std::to_string(V) + ", Vp = " + std::to_string(Vp));
  const int64_t R = B * T, Vs = Vp / tp;
  const Tensor logits = mlsys::randn({B, T, Vp}, 7, 0.f, 3.f);
  for (int64_t r = 0; r < R; ++r) {
    for (int64_t j = V; j < Vp; ++j) logits.data<float>()[r * Vp + j] = 50.f;
  }
  const Tensor y = tptest::tokens(B, T, V, 8);
  const float dloss = 1.0f / static_cast<float>(R);
  const Tensor losses_ref = mlsys::empty({B, T}), probs_ref = mlsys::empty({B, T, Vp});
  const float loss_ref = pa3::crossentropy_forward(losses_ref, probs_ref, logits, y, V);
  const auto runs = on_ranks<CeRun>(tp, [&](pa3::Communicator& comm) {
    const int64_t v0 = comm.rank() * Vs;
    const Tensor z = logits.slice(2, v0, v0 + Vs).clone();
    const Tensor losses = mlsys::empty({B, T}), probs = mlsys::empty({B, T, Vs});
    const Tensor dz = mlsys::randn({B, T, Vs}, 9 + comm.rank(), 0.f, 1.f);  // += onto these
    CeRun r;
    r.forward = tptest::traffic_of(comm, [&] {
      r.loss = pa3::vocab_parallel_crossentropy_forward(comm, losses, probs, z, y, V);
    });
    r.backward = tptest::traffic_of(
        comm, [&] { pa3::vocab_parallel_crossentropy_backward(comm, dz, probs, y, V, dloss); });
    r.losses = tptest::values(losses);
    r.probs = tptest::values(probs);
    r.dlogits = tptest::values(dz);
    return r;
  });
  // the backward is checked against crossentropy_backward on the probabilities the ranks
  // computed (assembled to [B,T,Vp]): an elementwise formula, bit for bit
  Tensor probs_tp = mlsys::empty({B, T, Vp}), dlogits_ref = mlsys::empty({B, T, Vp});
  for (int r = 0; r < tp; ++r) {
    probs_tp.slice(2, r * Vs, (r + 1) * Vs).copy_(mlsys::from_vector(runs[r].probs, {B, T, Vs}));
    dlogits_ref.slice(2, r * Vs, (r + 1) * Vs).copy_(mlsys::randn({B, T, Vs}, 9 + r, 0.f, 1.f));
  }
  pa3::crossentropy_backward(dlogits_ref, probs_tp, y, V, dloss);
  const std::vector<float> lref = tptest::values(losses_ref);
  for (int r = 0; r < tp; ++r) {
    SCOPED_TRACE("rank " + std::to_string(r));
    const std::vector<float> pref = tptest::values(probs_ref.slice(2, r * Vs, (r + 1) * Vs).contiguous());
    EXPECT_LE(tptest::scaled_ratio(runs[r].losses, lref, kCeRel), 1.0)
        << "losses: max |diff| " << tptest::max_abs_diff(runs[r].losses, lref);
    EXPECT_LE(tptest::scaled_ratio(runs[r].probs, pref, kCeRel), 1.0)
        << "probs: max |diff| " << tptest::max_abs_diff(runs[r].probs, pref);
    EXPECT_NEAR(runs[r].loss, loss_ref, kCeRel * std::fabs(loss_ref)) << "mean loss";
    EXPECT_EQ(tptest::bit_mismatches(runs[r].losses, runs[0].losses), 0) << "losses vs rank 0";
    EXPECT_EQ(std::memcmp(&runs[r].loss, &runs[0].loss, sizeof(float)), 0) << "mean loss vs rank 0";
    EXPECT_EQ(tptest::bit_mismatches(runs[r].dlogits, tptest::values(dlogits_ref.slice(2, r * Vs, (r + 1) * Vs).contiguous())), 0)
        << "dlogits vs crossentropy_backward";
    // three statistics of R floats each: an all-gather of the tp row maxima and two
    // all-reduces (target logit, sum of exponentials); never the [B,T,Vp] logits
    tptest::Traffic want = tptest::all_reduces(2, R, tp, r);
    want.all_gather_bytes = 4 * tptest::all_gather_elems(tp * R, tp, r);
    want.all_gather_messages = tp == 1 ? 0 : tp - 1;
    want.bytes += want.all_gather_bytes;
    EXPECT_EQ(runs[r].forward, want) << "forward traffic";
    EXPECT_EQ(runs[r].backward, tptest::Traffic{}) << "backward sends nothing";
  }
  rec::record("losses_rank0", tptest::as_tensor(runs[0].losses), 0, kCeRel * tptest::max_abs(lref));
  rec::record("probs_last_rank", tptest::as_tensor(runs[tp - 1].probs), 0, kCeRel);
  rec::record("dlogits_rank0", tptest::as_tensor(runs[0].dlogits), 0, 1e-6);
  rec::record_exact("forward_bytes_rank0", runs[0].forward.bytes);
  if (tp == 1) {
    const int64_t bad = tptest::bit_mismatches(runs[0].losses, lref) +
                        tptest::bit_mismatches(runs[0].probs, tptest::values(probs_ref));
    rec::record_exact("tp1_bit_mismatches", bad);
    EXPECT_EQ(bad, 0) << "tp = 1 is crossentropy_forward, bit for bit";
  }
}

// ============================================================================================
// The whole model (tp_gpt_forward / tp_gpt_backward, given code over Tasks 5.1-5.3)
// ============================================================================================

inline void model_case(int tp, const pa3::GPTConfig& c, int64_t B, int64_t T) {
  SCOPED_TRACE("tp = " + std::to_string(tp));
  const Tensor x = tptest::tokens(B, T, c.vocab_size, 1), y = tptest::tokens(B, T, c.vocab_size, 2);
  const tptest::ModelRun ref = tptest::single_process(c, 1337, x, y);
  const auto runs = tptest::tp_model(tp, c, 1337, x, y);
  for (int r = 0; r < tp; ++r) {
    SCOPED_TRACE("rank " + std::to_string(r));
    EXPECT_NEAR(runs[r].loss, ref.loss, kModelRel * std::fabs(ref.loss)) << "loss";
    EXPECT_EQ(std::memcmp(&runs[r].loss, &runs[0].loss, sizeof(float)), 0) << "loss vs rank 0";
    EXPECT_LE(tptest::scaled_ratio(runs[r].losses, ref.losses, kModelRel), 1.0)
        << "losses: max |diff| " << tptest::max_abs_diff(runs[r].losses, ref.losses);
    EXPECT_LE(tptest::scaled_ratio(runs[r].grads, ref.grads, kModelRel), 1.0)
        << "gradients (gathered): max |diff| " << tptest::max_abs_diff(runs[r].grads, ref.grads);
    EXPECT_EQ(tptest::bit_mismatches(runs[r].shard_grads_replicated, runs[0].shard_grads_replicated), 0)
        << "gradients of the replicated tensors vs rank 0";
  }
  rec::record_value("loss", runs[0].loss, kModelRel, 0);
  rec::record("grads", tptest::as_tensor(runs[0].grads), 0, kModelRel * tptest::max_abs(ref.grads));
  if (tp == 1) {
    const int64_t bad = tptest::bit_mismatches(runs[0].grads, ref.grads) +
                        tptest::bit_mismatches(runs[0].losses, ref.losses);
    rec::record_exact("tp1_bit_mismatches", bad);
    EXPECT_EQ(bad, 0) << "tp = 1 is gpt_forward/gpt_backward, bit for bit";
  }
}

// The traffic of one step of the whole model. Forward: 1 all-reduce (embedding) + 2 per block
// of B*T*C floats, the head's statistics; backward: 2 per block + 1 (the LM head's input
// gradient) of B*T*C floats.
inline void traffic_case(int tp) {
  SCOPED_TRACE("tp = " + std::to_string(tp));
  const pa3::GPTConfig c = tptest::tiny_config();
  const int64_t B = 2, T = 5, L = c.n_layer, BTC = B * T * c.n_embd;
  const Tensor x = tptest::tokens(B, T, c.vocab_size, 3), y = tptest::tokens(B, T, c.vocab_size, 4);
  const auto t = on_ranks<std::vector<tptest::Traffic>>(tp, [&](pa3::Communicator& comm) {
    const pa3::GPTParams s = pa3::tp_shard_params(pa3::gpt_init(c, 1), c, comm.size(), comm.rank());
    const pa3::GPTParams g = pa3::gpt_zeros_like(s);
    pa3::GPTActs acts;
    std::vector<tptest::Traffic> out;
    out.push_back(tptest::traffic_of(comm, [&] { pa3::tp_gpt_forward(acts, s, c, x, y, comm); }));
    out.push_back(tptest::traffic_of(comm, [&] { pa3::tp_gpt_backward(g, acts, s, c, x, y, 0.1f, comm); }));
    return out;
  });
  for (int r = 0; r < tp; ++r) {
    tptest::Traffic fwd;
    fwd.all_reduce_bytes = 4 * ((1 + 2 * L) * tptest::all_reduce_elems(BTC, tp, r) + 2 * tptest::all_reduce_elems(B * T, tp, r));
    fwd.all_reduce_messages = (1 + 2 * L + 2) * 2 * (tp - 1);
    fwd.all_gather_bytes = 4 * tptest::all_gather_elems(tp * B * T, tp, r);
    fwd.all_gather_messages = tp - 1;
    fwd.bytes = fwd.all_reduce_bytes + fwd.all_gather_bytes;
    EXPECT_EQ(t[r][0], fwd) << "forward, rank " << r;
    EXPECT_EQ(t[r][1], tptest::all_reduces(static_cast<int>(2 * L + 1), BTC, tp, r)) << "backward, rank " << r;
  }
  rec::record_exact("bytes_rank0", std::vector<int64_t>{t[0][0].bytes, t[0][1].bytes});
}

// Three AdamW steps on the TP group (every rank the same batches): the replicated tensors
// (LayerNorms, row-parallel biases, wpe) keep identical bits on every rank; the gathered
// parameters match single-process training.
inline void train_case(int tp, const pa3::GPTConfig& c = tptest::tiny_config(), int steps = 3,
                       int64_t B = 4, int64_t T = 6) {
  SCOPED_TRACE("tp = " + std::to_string(tp) + ", " + std::to_string(steps) + " steps");
  std::vector<float> losses_ref;
  const std::vector<float> ref = tptest::single_train(c, 1337, steps, B, T, &losses_ref);
  const auto runs = tptest::tp_train(tp, c, 1337, steps, B, T);
  for (int r = 0; r < tp; ++r) {
    SCOPED_TRACE("rank " + std::to_string(r));
    EXPECT_EQ(tptest::bit_mismatches(runs[r].replicated, runs[0].replicated), 0)
        << "replicated parameters vs rank 0 after the last step";
    EXPECT_LE(tptest::tol_ratio(runs[r].full_params, ref, kTrainRtol, kTrainAtol), 1.0)
        << "parameters: max |diff| " << tptest::max_abs_diff(runs[r].full_params, ref);
  }
  rec::record("params", tptest::as_tensor(runs[0].full_params), kTrainRtol, kTrainAtol);
  rec::record("losses", tptest::as_tensor(runs[0].losses), kModelRel, 0);
  if (tp == 1) {
    const int64_t bad = tptest::bit_mismatches(runs[0].full_params, ref);
    rec::record_exact("tp1_bit_mismatches", bad);
    EXPECT_EQ(bad, 0);
  }
}

// ============================================================================================
// Bad input
// ============================================================================================

inline std::string error_of(int tp, const std::function<void(pa3::Communicator&)>& fn) {
  return on_ranks<std::string>(tp, [&](pa3::Communicator& comm) {
    try {
      fn(comm);
    } catch (const mlsys::NotImplemented&) {
      return std::string("NotImplemented");
    } catch (const mlsys::Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  })[0];
}

}  // namespace tptest::t53
