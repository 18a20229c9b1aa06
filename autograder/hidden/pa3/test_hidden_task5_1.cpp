// PA3 Task 5.1, hidden cases: column- and row-parallel layers on TP sizes 3 and 8 (a single
// row, odd N, K' = 1..3 per rank), f and g on 5 ranks, a row-parallel layer without bias.
// Expected values as in the public tests: the staff linear_forward/backward on the full
// weights, sliced; sums in double; comm.h's byte formula.
#include "tp_cases5_1.h"

namespace {

using namespace tptest::t51;
using mlsys::Tensor;
using tptest::on_ranks;
namespace rec = mlsys::test;

TEST(Task5_1_Hidden, ColumnParallelTp3) { column_case(3, 2, 3, 9, 12); }
TEST(Task5_1_Hidden, ColumnParallelTp8OneRow) { column_case(8, 1, 1, 5, 16); }
TEST(Task5_1_Hidden, RowParallelTp3OddN) { row_case(3, 2, 3, 12, 7); }
TEST(Task5_1_Hidden, RowParallelTp8OneRow) { row_case(8, 1, 1, 16, 3); }

TEST(Task5_1_Hidden, FAndGOnFiveRanks) {
  const int tp = 5;
  const int64_t n = 7;
  const auto out = on_ranks<FG>(tp, [&](pa3::Communicator& comm) {
    FG r;
    Tensor a = filled({n}, 40 + comm.rank()), b = filled({n}, 50 + comm.rank());
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
      sf += tptest::values(filled({n}, 40 + q))[i];
      sg += tptest::values(filled({n}, 50 + q))[i];
    }
    ef[i] = static_cast<float>(sf);
    eg[i] = static_cast<float>(sg);
  }
  for (int r = 0; r < tp; ++r) {
    EXPECT_LE(tptest::tol_ratio(out[r].f, ef, 1e-6, 1e-6), 1.0) << "rank " << r;
    EXPECT_LE(tptest::tol_ratio(out[r].g, eg, 1e-6, 1e-6), 1.0) << "rank " << r;
    EXPECT_EQ(tptest::bit_mismatches(out[r].f, out[0].f), 0) << "rank " << r;
    EXPECT_EQ(out[r].tf, tptest::all_reduces(1, n, tp, r)) << "rank " << r;
    EXPECT_EQ(out[r].tg, tptest::all_reduces(1, n, tp, r)) << "rank " << r;
  }
  rec::record("f_rank4", tptest::as_tensor(out[4].f), 1e-6, 1e-6);
  rec::record("g_rank1", tptest::as_tensor(out[1].g), 1e-6, 1e-6);
}

TEST(Task5_1_Hidden, RowParallelWithoutBias) {
  const int tp = 2;
  const int64_t M = 4, K = 6, N = 5, Ks = K / tp;
  const Tensor x = filled({M, K}, 60), w = filled({N, K}, 61);
  const Tensor expect = mlsys::empty({M, N});
  pa3::linear_forward(expect, x, w, Tensor());
  const auto out = on_ranks<std::vector<float>>(tp, [&](pa3::Communicator& comm) {
    const int64_t k0 = comm.rank() * Ks;
    const Tensor o = mlsys::empty({M, N});
    pa3::row_parallel_forward(comm, o, x.slice(1, k0, k0 + Ks).clone(), w.slice(1, k0, k0 + Ks).clone(), Tensor());
    return tptest::values(o);
  });
  const std::vector<float> e = tptest::values(expect);
  for (int r = 0; r < tp; ++r) {
    EXPECT_LE(tptest::scaled_ratio(out[r], e, kRel), 1.0) << "rank " << r;
  }
  rec::record("out_rank1", tptest::as_tensor(out[1]), 0, kRel * tptest::max_abs(e));
}

}  // namespace
