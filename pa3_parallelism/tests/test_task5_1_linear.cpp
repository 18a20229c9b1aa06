// PA3 Task 5.1 — the conjugate operators f and g, column- and row-parallel linear layers.
// Threads backend, TP sizes 1, 2, 4 (and 3). Expected values come from the full layer run by
// pa3::linear_forward / linear_backward (gpt.h, staff code) on the unsplit weights, sliced the
// way pa3/tensor_parallel.h lays the shards out, from sums computed here in double, and from
// the ring all-reduce's byte formula of comm.h.

#include "tp_cases5_1.h"

namespace {

using namespace tptest::t51;
using mlsys::Tensor;
using tptest::on_ranks;
namespace rec = mlsys::test;

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
