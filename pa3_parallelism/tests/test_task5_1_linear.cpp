// PA3 Task 5.1 — the conjugate operators f and g, column- and row-parallel linear layers.
// Threads backend, TP sizes 1, 2, 4 (and 3). Expected values come from the full layer run by
// pa3::linear_forward / linear_backward (gpt.h, staff code) on the unsplit weights, sliced the
// way pa3/tensor_parallel.h lays the shards out, from sums computed here in double, and from
// the ring all-reduce's byte formula of comm.h.

#include "tp_test_util.h"

namespace {

using mlsys::Tensor;
using tptest::on_ranks;
namespace rec = mlsys::test;

// A deterministic tensor with values of both signs (not from the code under test).
Tensor filled(mlsys::Shape shape, uint64_t seed) { return mlsys::randn(std::move(shape), seed, 0.f, 1.f); }

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

TEST(Task5_1_Conjugate, FBackwardAndGForwardSumOverTheGroupWithTheSameBits) {
  const int tp = 3;
  const int64_t n = 10;
  const auto out = on_ranks<FG>(tp, [&](pa3::Communicator& comm) {
    FG r;
    Tensor a = filled({2, 5}, 10 + comm.rank()), b = filled({2, 5}, 20 + comm.rank());
    r.tf = tptest::traffic_of(comm, [&] { pa3::tp_f_backward(comm, a); });
    r.tg = tptest::traffic_of(comm, [&] { pa3::tp_g_forward(comm, b); });
    r.f = tptest::values(a);
    r.g = tptest::values(b);
    return r;
  });
  std::vector<float> ef(n), eg(n);
  for (int64_t i = 0; i < n; ++i) {
    double sf = 0, sg = 0;
    for (int q = 0; q < tp; ++q) {
      sf += tptest::values(filled({2, 5}, 10 + q))[i];
      sg += tptest::values(filled({2, 5}, 20 + q))[i];
    }
    ef[i] = static_cast<float>(sf);
    eg[i] = static_cast<float>(sg);
  }
  for (int r = 0; r < tp; ++r) {
    EXPECT_LE(tptest::tol_ratio(out[r].f, ef, 1e-6, 1e-6), 1.0) << "tp_f_backward, rank " << r;
    EXPECT_LE(tptest::tol_ratio(out[r].g, eg, 1e-6, 1e-6), 1.0) << "tp_g_forward, rank " << r;
    EXPECT_EQ(tptest::bit_mismatches(out[r].f, out[0].f), 0) << "rank " << r << " vs rank 0";
    EXPECT_EQ(tptest::bit_mismatches(out[r].g, out[0].g), 0) << "rank " << r << " vs rank 0";
    EXPECT_EQ(out[r].tf, tptest::all_reduces(1, n, tp, r)) << "f backward: one all-reduce, rank " << r;
    EXPECT_EQ(out[r].tg, tptest::all_reduces(1, n, tp, r)) << "g forward: one all-reduce, rank " << r;
  }
  rec::record("f_backward_rank0", tptest::as_tensor(out[0].f), 1e-6, 1e-6);
  rec::record("g_forward_rank2", tptest::as_tensor(out[2].g), 1e-6, 1e-6);
  rec::record_exact("bytes_sent_f", std::vector<int64_t>{out[0].tf.bytes, out[1].tf.bytes, out[2].tf.bytes});
}

// ============================================================================================
// Column-parallel linear: W [N, K] split by output rows
// ============================================================================================

struct LayerRun {
  std::vector<float> out, dinp, dweight, dbias;
  tptest::Traffic forward, backward;
};

// The full layer's results (single process, staff linear_forward/backward), with gradients
// accumulated onto the given starting values.
struct FullLayer {
  Tensor out, dinp, dweight, dbias;
};
FullLayer full_layer(const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& dout,
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

void column_case(int tp) {
  SCOPED_TRACE("tp = " + std::to_string(tp));
  const int64_t B = 3, T = 4, K = 24, N = 16, Ns = N / tp;
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

TEST(Task5_1_ColumnParallel, Tp1IsTheFullLayer) { column_case(1); }
TEST(Task5_1_ColumnParallel, Tp2SlicesOfTheFullLayerAndOneAllReduceBackward) { column_case(2); }
TEST(Task5_1_ColumnParallel, Tp4SlicesOfTheFullLayerAndOneAllReduceBackward) { column_case(4); }

TEST(Task5_1_ColumnParallel, UndefinedInputGradientAndBiasSendNothing) {
  const int tp = 2;
  const int64_t M = 5, K = 6, Ns = 3;
  const auto runs = on_ranks<LayerRun>(tp, [&](pa3::Communicator& comm) {
    const Tensor x = filled({M, K}, 1), w = filled({Ns, K}, 2 + comm.rank());
    const Tensor dout = filled({M, Ns}, 3), dw = mlsys::zeros({Ns, K});
    LayerRun r;
    r.backward = tptest::traffic_of(
        comm, [&] { pa3::column_parallel_backward(comm, Tensor(), dw, Tensor(), dout, x, w); });
    r.dweight = tptest::values(dw);
    return r;
  });
  const Tensor expect = mlsys::zeros({Ns, K});
  pa3::linear_backward(Tensor(), expect, Tensor(), filled({M, Ns}, 3), filled({M, K}, 1),
                       filled({Ns, K}, 2));
  EXPECT_EQ(runs[0].backward, tptest::Traffic{});
  EXPECT_EQ(runs[1].backward, tptest::Traffic{});
  EXPECT_EQ(tptest::bit_mismatches(runs[0].dweight, tptest::values(expect)), 0);
  rec::record("dweight_rank0", tptest::as_tensor(runs[0].dweight), 0, 0);
  rec::record_exact("bytes", std::vector<int64_t>{runs[0].backward.bytes, runs[1].backward.bytes});
}

// ============================================================================================
// Row-parallel linear: W [N, K] split by input columns
// ============================================================================================

void row_case(int tp) {
  SCOPED_TRACE("tp = " + std::to_string(tp));
  const int64_t B = 3, T = 4, K = 24, N = 16, Ks = K / tp;
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

TEST(Task5_1_RowParallel, Tp1IsTheFullLayerBitForBit) { row_case(1); }
TEST(Task5_1_RowParallel, Tp2OneAllReduceForwardExactGradients) { row_case(2); }
TEST(Task5_1_RowParallel, Tp4OneAllReduceForwardExactGradients) { row_case(4); }

// The bias is added exactly once, not once per rank: with zero weights the output is the bias.
TEST(Task5_1_RowParallel, BiasAddedOnce) {
  const int tp = 4;
  const auto runs = on_ranks<std::vector<float>>(tp, [&](pa3::Communicator& comm) {
    const Tensor out = mlsys::empty({2, 3});
    pa3::row_parallel_forward(comm, out, filled({2, 2}, 30 + comm.rank()), mlsys::zeros({3, 2}),
                              mlsys::from_vector(std::vector<float>{1.f, -2.f, 0.5f}, {3}));
    return tptest::values(out);
  });
  const std::vector<float> expect = {1.f, -2.f, 0.5f, 1.f, -2.f, 0.5f};
  for (int r = 0; r < tp; ++r) EXPECT_EQ(runs[r], expect) << "rank " << r;
  rec::record("out_rank3", tptest::as_tensor(runs[3]), 0, 0);
}

// ============================================================================================
// Bad input
// ============================================================================================

std::string error_of(const std::function<void(pa3::Communicator&)>& fn) {
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

TEST(Task5_1_Errors, WrongShapesNameTheOpAndTheArgument) {
  // A well-formed call works (so that the stub does not pass this test by throwing).
  const std::string ok = error_of([](pa3::Communicator& c) {
    const Tensor out = mlsys::empty({4, 3});
    pa3::column_parallel_forward(c, out, filled({4, 5}, 1), filled({3, 5}, 2), Tensor());
  });
  EXPECT_EQ(ok, "no error");
  const std::string a = error_of([](pa3::Communicator& c) {
    pa3::column_parallel_forward(c, mlsys::empty({4, 3}), filled({4, 5}, 1), filled({3, 6}, 2), Tensor());
  });
  EXPECT_NE(a.find("column_parallel_forward"), std::string::npos) << a;
  EXPECT_NE(a.find("weight"), std::string::npos) << a;
  const std::string b = error_of([](pa3::Communicator& c) {
    pa3::row_parallel_forward(c, mlsys::empty({4, 2}), filled({4, 5}, 1), filled({3, 5}, 2), Tensor());
  });
  EXPECT_NE(b.find("row_parallel_forward"), std::string::npos) << b;
  EXPECT_NE(b.find("'out'"), std::string::npos) << b;
  const std::string c = error_of([](pa3::Communicator& cm) {
    pa3::tp_f_backward(cm, filled({4, 6}, 1).transpose(0, 1));
  });
  EXPECT_NE(c.find("tp_f_backward"), std::string::npos) << c;
  EXPECT_NE(c.find("contiguous"), std::string::npos) << c;
  rec::record_exact("well_formed_call", ok);
  rec::record_exact("errors_raised", std::vector<int64_t>{a.find("pa3::") == 0, b.find("pa3::") == 0,
                                                         c.find("pa3::") == 0});
}

}  // namespace
