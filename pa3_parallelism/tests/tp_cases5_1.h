// Test cases of PA3 Task 5.1, shared by the public tests (test_task5_1_linear.cpp) and the grader's
// further cases, which run them on other sizes.
#pragma once

#include "tp_test_util.h"

namespace tptest::t51 {

using mlsys::Tensor;
using tptest::on_ranks;
namespace rec = mlsys::test;

// A deterministic tensor with values of both signs (not from the code under test).
inline Tensor filled(mlsys::Shape shape, uint64_t seed) { return mlsys::randn(std::move(shape), seed, 0.f, 1.f); }

// The row-parallel output and the column-parallel input gradient split a sum into tp partial
// sums added in the ring's order: the error against one process is float32 rounding of sums
// of N(0,1) products, so the tolerance is relative to the tensor's scale: |diff| <= kRel *
// max |full-layer value|. Measured on the reference (K = 24, N = 16, tp = 2 and 4): at most
// 2.0e-7 of the scale; kRel is about 8 times that.
constexpr double kRel = 1.5e-6;

// ============================================================================================
// f and g
// ============================================================================================

struct FG {
  std::vector<float> f, g;
  tptest::Traffic tf, tg;
};
inline void io(pa3test::Archive& a, FG& r) { a(r.f, r.g, r.tf, r.tg); }

// ============================================================================================
// Column-parallel linear: W [N, K] split by output rows
// ============================================================================================

struct LayerRun {
  std::vector<float> out, dinp, dweight, dbias;
  tptest::Traffic forward, backward;
};
inline void io(pa3test::Archive& a, LayerRun& r) { a(r.out, r.dinp, r.dweight, r.dbias, r.forward, r.backward); }

// The full layer's results (single process, staff linear_forward/backward), with gradients
// accumulated onto the given starting values.
struct FullLayer {
  Tensor out, dinp, dweight, dbias;
};
inline FullLayer full_layer(const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& dout,
                     const Tensor& dinp0, const Tensor& dw0, const Tensor& db0) {
  FullLayer f;
  mlsys::Shape os = x.shape();
  os.back() = w.size(0);
  f.out = mlsys::empty(os);
  pa3::linear_forward(f.out, x, w, b);
  f.dinp = dinp0.clone();
  f.dweight = dw0.clone();
  f.dbias = db0.clone();
  pa3::linear_backward(f.dinp, f.dweight, f.dbias, dout, x, w);
  return f;
}

inline void column_case(int tp, int64_t B = 3, int64_t T = 4, int64_t K = 24, int64_t N = 16) {
  SCOPED_TRACE("tp = " + std::to_string(tp) + ", K = " + std::to_string(K) + ", N = " + std::to_string(N));
  const int64_t Ns = N / tp;
  const Tensor x = filled({B, T, K}, 1), w = filled({N, K}, 2), b = filled({N}, 3);
  const Tensor dout = filled({B, T, N}, 4);
  // dinp starts from zero at tp = 1 (as in the model, where the tp = 1 input gradient is then
  // the full layer's bit for bit) and from other values at tp > 1 (accumulation, +=).
  const Tensor dinp0 = tp == 1 ? mlsys::zeros({B, T, K}) : filled({B, T, K}, 5);
  const Tensor dw0 = filled({N, K}, 6), db0 = filled({N}, 7);
  const FullLayer full = full_layer(x, w, b, dout, dinp0, dw0, db0);
  const auto runs = on_ranks<LayerRun>(tp, [&](pa3::Communicator& comm) {
    const int64_t n0 = comm.rank() * Ns;
    const Tensor ws = w.slice(0, n0, n0 + Ns).clone(), bs = b.slice(0, n0, n0 + Ns).clone();
    const Tensor out = mlsys::empty({B, T, Ns});
    const Tensor douts = dout.slice(2, n0, n0 + Ns).clone();
    const Tensor dinp = dinp0.clone(), dw = dw0.slice(0, n0, n0 + Ns).clone(),
                 db = db0.slice(0, n0, n0 + Ns).clone();
    LayerRun r;
    r.forward = tptest::traffic_of(comm, [&] { pa3::column_parallel_forward(comm, out, x, ws, bs); });
    r.backward = tptest::traffic_of(
        comm, [&] { pa3::column_parallel_backward(comm, dinp, dw, db, douts, x, ws); });
    r.out = tptest::values(out);
    r.dinp = tptest::values(dinp);
    r.dweight = tptest::values(dw);
    r.dbias = tptest::values(db);
    return r;
  });
  for (int r = 0; r < tp; ++r) {
    const int64_t n0 = r * Ns;
    // forward and parameter gradients: the same sums as the full layer's, bit for bit
    EXPECT_EQ(tptest::bit_mismatches(runs[r].out, tptest::values(full.out.slice(2, n0, n0 + Ns))), 0)
        << "out of rank " << r << " vs the columns [" << n0 << ", " << n0 + Ns << ") of the full layer";
    EXPECT_EQ(tptest::bit_mismatches(runs[r].dweight, tptest::values(full.dweight.slice(0, n0, n0 + Ns))), 0)
        << "dweight of rank " << r;
    EXPECT_EQ(tptest::bit_mismatches(runs[r].dbias, tptest::values(full.dbias.slice(0, n0, n0 + Ns))), 0)
        << "dbias of rank " << r;
    // input gradient: the sum of tp partial products (f's all-reduce), the same on every rank
    EXPECT_LE(tptest::scaled_ratio(runs[r].dinp, tptest::values(full.dinp), kRel), 1.0)
        << "dinp of rank " << r << ": max |diff| "
        << tptest::max_abs_diff(runs[r].dinp, tptest::values(full.dinp));
    EXPECT_EQ(tptest::bit_mismatches(runs[r].dinp, runs[0].dinp), 0) << "dinp, rank " << r << " vs 0";
    EXPECT_EQ(runs[r].forward, tptest::Traffic{}) << "the forward sends nothing, rank " << r;
    EXPECT_EQ(runs[r].backward, tptest::all_reduces(1, B * T * K, tp, r))
        << "the backward: one all-reduce of M*K floats, rank " << r;
  }
  rec::record("out_rank0", tptest::as_tensor(runs[0].out), 0, 0);
  rec::record("dweight_last_rank", tptest::as_tensor(runs[tp - 1].dweight), 0, 0);
  rec::record("dinp_rank0", tptest::as_tensor(runs[0].dinp), 0, kRel * tptest::max_abs(tptest::values(full.dinp)));
  rec::record_exact("backward_bytes_rank0", runs[0].backward.bytes);
  if (tp == 1) {
    rec::record_exact("tp1_dinp_bit_mismatches", tptest::bit_mismatches(runs[0].dinp, tptest::values(full.dinp)));
    EXPECT_EQ(tptest::bit_mismatches(runs[0].dinp, tptest::values(full.dinp)), 0) << "tp = 1 is the full layer";
  }
}

// ============================================================================================
// Row-parallel linear: W [N, K] split by input columns
// ============================================================================================

inline void row_case(int tp, int64_t B = 3, int64_t T = 4, int64_t K = 24, int64_t N = 16) {
  SCOPED_TRACE("tp = " + std::to_string(tp) + ", K = " + std::to_string(K) + ", N = " + std::to_string(N));
  const int64_t Ks = K / tp;
  const Tensor x = filled({B, T, K}, 11), w = filled({N, K}, 12), b = filled({N}, 13);
  const Tensor dout = filled({B, T, N}, 14);
  const Tensor dinp0 = filled({B, T, K}, 15), dw0 = filled({N, K}, 16), db0 = filled({N}, 17);
  const FullLayer full = full_layer(x, w, b, dout, dinp0, dw0, db0);
  const auto runs = on_ranks<LayerRun>(tp, [&](pa3::Communicator& comm) {
    const int64_t k0 = comm.rank() * Ks;
    const Tensor xs = x.slice(2, k0, k0 + Ks).clone(), ws = w.slice(1, k0, k0 + Ks).clone();
    const Tensor out = mlsys::empty({B, T, N});
    const Tensor dinp = dinp0.slice(2, k0, k0 + Ks).clone(), dw = dw0.slice(1, k0, k0 + Ks).clone(),
                 db = db0.clone();
    LayerRun r;
    r.forward = tptest::traffic_of(comm, [&] { pa3::row_parallel_forward(comm, out, xs, ws, b); });
    r.backward = tptest::traffic_of(
        comm, [&] { pa3::row_parallel_backward(comm, dinp, dw, db, dout, xs, ws); });
    r.out = tptest::values(out);
    r.dinp = tptest::values(dinp);
    r.dweight = tptest::values(dw);
    r.dbias = tptest::values(db);
    return r;
  });
  for (int r = 0; r < tp; ++r) {
    const int64_t k0 = r * Ks;
    // forward: tp partial sums (+ the bias once), all-reduced: the same bits on every rank
    EXPECT_LE(tptest::scaled_ratio(runs[r].out, tptest::values(full.out), kRel), 1.0)
        << "out of rank " << r << ": max |diff| " << tptest::max_abs_diff(runs[r].out, tptest::values(full.out));
    EXPECT_EQ(tptest::bit_mismatches(runs[r].out, runs[0].out), 0) << "out, rank " << r << " vs 0";
    // backward: every gradient is the full layer's sum for its elements, bit for bit
    EXPECT_EQ(tptest::bit_mismatches(runs[r].dinp, tptest::values(full.dinp.slice(2, k0, k0 + Ks))), 0)
        << "dinp of rank " << r << " vs the columns [" << k0 << ", " << k0 + Ks << ")";
    EXPECT_EQ(tptest::bit_mismatches(runs[r].dweight, tptest::values(full.dweight.slice(1, k0, k0 + Ks))), 0)
        << "dweight of rank " << r;
    EXPECT_EQ(tptest::bit_mismatches(runs[r].dbias, tptest::values(full.dbias)), 0)
        << "dbias of rank " << r << " (replicated: the full bias gradient on every rank)";
    EXPECT_EQ(runs[r].forward, tptest::all_reduces(1, B * T * N, tp, r))
        << "the forward: one all-reduce of M*N floats, rank " << r;
    EXPECT_EQ(runs[r].backward, tptest::Traffic{}) << "the backward sends nothing, rank " << r;
  }
  rec::record("out_rank0", tptest::as_tensor(runs[0].out), 0, kRel * tptest::max_abs(tptest::values(full.out)));
  rec::record("dinp_last_rank", tptest::as_tensor(runs[tp - 1].dinp), 0, 0);
  rec::record("dbias_rank0", tptest::as_tensor(runs[0].dbias), 0, 0);
  rec::record_exact("forward_bytes_rank0", runs[0].forward.bytes);
  if (tp == 1) {
    const int64_t bad = tptest::bit_mismatches(runs[0].out, tptest::values(full.out));
    rec::record_exact("tp1_out_bit_mismatches", bad);
    EXPECT_EQ(bad, 0) << "tp = 1: rank 0 starts from the bias, as linear_forward does";
  }
}

// ============================================================================================
// Bad input
// ============================================================================================

inline std::string error_of(const std::function<void(pa3::Communicator&)>& fn) {
  const auto msgs = on_ranks<std::string>(1, [&](pa3::Communicator& comm) {
    try {
      fn(comm);
    } catch (const mlsys::NotImplemented& e) {
      return std::string("NotImplemented");
    } catch (const mlsys::Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  });
  return msgs[0];
}

}  // namespace tptest::t51
