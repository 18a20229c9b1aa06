// Test cases of PA3 Task 5.2, shared by the public tests (test_task5_2_block.cpp) and the grader's
// further cases, which run them on other sizes.
#pragma once

#include "tp_test_util.h"

namespace tptest::t52 {

using mlsys::Tensor;
using tptest::on_ranks;
namespace rec = mlsys::test;

// A block split at a row-parallel layer sums tp partial products in the ring's order; the
// LayerNorms and attention downstream carry that rounding on. Tolerance relative to each
// tensor's scale: |diff| <= kRel * max |single-process value|. Measured on the reference
// (tiny_config, B = 3, T = 5, random weights, tp = 2 and 4): at most 5.4e-7 of the scale (dx at
// tp = 4; out, gradients <= 4.6e-7); kRel is about 8 times that.
constexpr double kRel = 4e-6;

// Every tensor of a block drawn N(0, s) with its own seed (biases and LayerNorm parameters
// too, so that a bias added on every rank, or never, shows).
inline pa3::BlockParams random_block(int64_t C, uint64_t seed) {
  auto r = [&](mlsys::Shape s, float stdv) { return mlsys::randn(std::move(s), seed++, 0.f, stdv); };
  pa3::BlockParams b;
  b.ln1_w = r({C}, 1.f) + 1.f;
  b.ln1_b = r({C}, 0.5f);
  b.qkv_w = r({3 * C, C}, 0.5f);
  b.qkv_b = r({3 * C}, 0.5f);
  b.attproj_w = r({C, C}, 0.5f);
  b.attproj_b = r({C}, 0.5f);
  b.ln2_w = r({C}, 1.f) + 1.f;
  b.ln2_b = r({C}, 0.5f);
  b.fc_w = r({4 * C, C}, 0.5f);
  b.fc_b = r({4 * C}, 0.5f);
  b.fcproj_w = r({C, 4 * C}, 0.5f);
  b.fcproj_b = r({C}, 0.5f);
  return b;
}

inline std::vector<Tensor> fields(const pa3::BlockParams& b) {
  return {b.ln1_w, b.ln1_b, b.qkv_w, b.qkv_b, b.attproj_w, b.attproj_b,
          b.ln2_w, b.ln2_b, b.fc_w, b.fc_b, b.fcproj_w, b.fcproj_b};
}
const bool kReplicated[12] = {true, true, false, false, false, true, true, true, false, false, false, true};
const char* const kNames[12] = {"ln_1.weight", "ln_1.bias", "c_attn.weight", "c_attn.bias",
                                "attn.c_proj.weight", "attn.c_proj.bias", "ln_2.weight",
                                "ln_2.bias", "c_fc.weight", "c_fc.bias", "mlp.c_proj.weight",
                                "mlp.c_proj.bias"};

struct BlockRun {
  std::vector<float> out, dx, qkv, att;
  std::vector<std::vector<float>> grads;  // 12 shard tensors
  tptest::Traffic forward, backward;
};
inline void io(pa3test::Archive& a, BlockRun& r) { a(r.out, r.dx, r.qkv, r.att, r.grads, r.forward, r.backward); }

struct Reference {
  pa3::BlockActs acts;
  Tensor dx;
  pa3::BlockParams grads;
};

inline void block_case(int tp, const pa3::GPTConfig& c, int64_t B, int64_t T, uint64_t seed) {
  SCOPED_TRACE("tp = " + std::to_string(tp) + ", C = " + std::to_string(c.n_embd) +
               ", NH = " + std::to_string(c.n_head));
  const int64_t C = c.n_embd;
  const pa3::BlockParams full = random_block(C, seed);
  const Tensor x = mlsys::randn({B, T, C}, seed + 100, 0.f, 1.f);
  const Tensor dout = mlsys::randn({B, T, C}, seed + 101, 0.f, 1.f);
  // the single process
  Reference ref;
  ref.acts = pa3::block_acts_alloc(c, B, T);
  pa3::block_forward(ref.acts, full, x, c.n_head);
  ref.dx = mlsys::zeros({B, T, C});
  ref.grads = pa3::tp_shard_block(full, c, 1, 0);
  for (Tensor g : fields(ref.grads)) g.fill_(0.f);
  pa3::block_backward(ref.dx, ref.grads, dout, ref.acts, full, x, c.n_head);

  const auto runs = on_ranks<BlockRun>(tp, [&](pa3::Communicator& comm) {
    const pa3::BlockParams p = pa3::tp_shard_block(full, c, comm.size(), comm.rank());
    pa3::BlockParams g = pa3::tp_shard_block(full, c, comm.size(), comm.rank());
    for (Tensor t : fields(g)) t.fill_(0.f);
    pa3::BlockActs acts = pa3::tp_block_acts_alloc(c, comm.size(), B, T);
    const Tensor dx = mlsys::zeros({B, T, C});
    BlockRun r;
    r.forward = tptest::traffic_of(comm, [&] { pa3::tp_block_forward(acts, p, x, c.n_head, comm); });
    r.backward = tptest::traffic_of(
        comm, [&] { pa3::tp_block_backward(dx, g, dout, acts, p, x, c.n_head, comm); });
    r.out = tptest::values(acts.out);
    r.dx = tptest::values(dx);
    r.qkv = tptest::values(acts.qkv);
    r.att = tptest::values(acts.att);
    for (const Tensor& t : fields(g)) r.grads.push_back(tptest::values(t));
    return r;
  });

  const std::vector<float> out_ref = tptest::values(ref.acts.out), dx_ref = tptest::values(ref.dx);
  const int64_t NHs = c.n_head / tp, hs = C / c.n_head;
  for (int r = 0; r < tp; ++r) {
    SCOPED_TRACE("rank " + std::to_string(r));
    // exactly two all-reduces of B*T*C floats each way, nothing else
    EXPECT_EQ(runs[r].forward, tptest::all_reduces(2, B * T * C, tp, r)) << "forward traffic";
    EXPECT_EQ(runs[r].backward, tptest::all_reduces(2, B * T * C, tp, r)) << "backward traffic";
    // the heads of this rank: q | k | v of heads [r NH', (r+1) NH') and their attention
    // probabilities are the single process's, bit for bit (LayerNorm and c_attn see the same x)
    Tensor qkv_ref = mlsys::empty({B, T, 3 * C / tp});
    for (int64_t part = 0; part < 3; ++part) {
      qkv_ref.slice(2, part * C / tp, (part + 1) * C / tp)
          .copy_(ref.acts.qkv.slice(2, part * C + r * NHs * hs, part * C + (r + 1) * NHs * hs));
    }
    EXPECT_EQ(tptest::bit_mismatches(runs[r].qkv, tptest::values(qkv_ref)), 0) << "acts.qkv";
    EXPECT_EQ(tptest::bit_mismatches(runs[r].att, tptest::values(ref.acts.att.slice(1, r * NHs, (r + 1) * NHs))), 0)
        << "acts.att (heads " << r * NHs << ".." << (r + 1) * NHs - 1 << ")";
    // outputs and input gradient: within tolerance of the single process, the same bits on all ranks
    EXPECT_LE(tptest::scaled_ratio(runs[r].out, out_ref, kRel), 1.0)
        << "out: max |diff| " << tptest::max_abs_diff(runs[r].out, out_ref);
    EXPECT_LE(tptest::scaled_ratio(runs[r].dx, dx_ref, kRel), 1.0)
        << "dx: max |diff| " << tptest::max_abs_diff(runs[r].dx, dx_ref);
    EXPECT_EQ(tptest::bit_mismatches(runs[r].out, runs[0].out), 0) << "out vs rank 0";
    EXPECT_EQ(tptest::bit_mismatches(runs[r].dx, runs[0].dx), 0) << "dx vs rank 0";
    // gradients: this rank's slice of the single process's gradients; replicated ones identical
    const std::vector<Tensor> ref_slices = fields(pa3::tp_shard_block(ref.grads, c, tp, r));
    for (int j = 0; j < 12; ++j) {
      const std::vector<float> e = tptest::values(ref_slices[j]);
      EXPECT_LE(tptest::scaled_ratio(runs[r].grads[j], e, kRel), 1.0)
          << "gradient of " << kNames[j] << ": max |diff| " << tptest::max_abs_diff(runs[r].grads[j], e);
      if (kReplicated[j]) {
        EXPECT_EQ(tptest::bit_mismatches(runs[r].grads[j], runs[0].grads[j]), 0)
            << "replicated gradient " << kNames[j] << " differs from rank 0's";
      }
    }
  }
  std::vector<float> grads_last, grads_ref;
  for (const auto& g : runs[tp - 1].grads) grads_last.insert(grads_last.end(), g.begin(), g.end());
  for (const Tensor& g : fields(pa3::tp_shard_block(ref.grads, c, tp, tp - 1))) {
    const std::vector<float> v = tptest::values(g);
    grads_ref.insert(grads_ref.end(), v.begin(), v.end());
  }
  rec::record("out_rank0", tptest::as_tensor(runs[0].out), 0, kRel * tptest::max_abs(out_ref));
  rec::record("dx_rank0", tptest::as_tensor(runs[0].dx), 0, kRel * tptest::max_abs(dx_ref));
  rec::record("grads_last_rank", tptest::as_tensor(grads_last), 0, kRel * tptest::max_abs(grads_ref));
  rec::record("att_last_rank", tptest::as_tensor(runs[tp - 1].att), 0, 0);
  rec::record_exact("traffic_bytes_rank0", std::vector<int64_t>{runs[0].forward.bytes, runs[0].backward.bytes});
  if (tp == 1) {
    // one rank runs every head and the full MLP: the single process's operations, bit for bit
    const int64_t bad = tptest::bit_mismatches(runs[0].out, out_ref) + tptest::bit_mismatches(runs[0].dx, dx_ref);
    rec::record_exact("tp1_bit_mismatches", bad);
    EXPECT_EQ(bad, 0);
  }
}

// ============================================================================================
// Bad input
// ============================================================================================

inline std::string block_error(int tp, int64_t n_head, bool full_weights) {
  const pa3::GPTConfig c = tptest::tiny_config();
  const auto msgs = on_ranks<std::string>(tp, [&](pa3::Communicator& comm) {
    const pa3::BlockParams full = random_block(c.n_embd, 1);
    const pa3::BlockParams p = full_weights ? full : pa3::tp_shard_block(full, c, comm.size(), comm.rank());
    pa3::BlockActs acts = pa3::tp_block_acts_alloc(c, comm.size(), 2, 3);
    try {
      pa3::tp_block_forward(acts, p, mlsys::randn({2, 3, c.n_embd}, 2, 0.f, 1.f), n_head, comm);
    } catch (const mlsys::NotImplemented&) {
      return std::string("NotImplemented");
    } catch (const mlsys::Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  });
  return msgs[0];
}

}  // namespace tptest::t52
