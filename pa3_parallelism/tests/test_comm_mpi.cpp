// PA3 runtime, MPI backend: run under mpirun (CTest tests pa3_comm_mpi_n2 / _n4, label mpi).
// Every process runs every test on its rank of MPI_COMM_WORLD; the exit code is non-zero when
// any rank failed. Kept few and small: CI has 2 cores.
//
//   OMPI_MCA_mpi_yield_when_idle=1 mpirun --allow-run-as-root --oversubscribe --timeout 100
//       -n 4 build/.../pa3_comm_mpi_tests      (one command line)
//
// With --launch-check the program only runs pa3::launch (CTest checks its --world error).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "mlsys/tensor.h"
#include "pa3/comm.h"

using mlsys::Tensor;
using pa3::Communicator;

namespace {

std::vector<float> input(int rank, int64_t n) {
  if (n == 0) return {};
  return mlsys::randn({n}, 1000 + rank).to_vector<float>();
}
int64_t chunk_size(int64_t n, int p, int i) { return n / p + (i < n % p ? 1 : 0); }
int64_t chunk_begin(int64_t n, int p, int i) {
  int64_t b = 0;
  for (int j = 0; j < i; ++j) b += chunk_size(n, p, j);
  return b;
}

// float64 sum of every rank's input and the float32 rounding bound (p-1) u sum|x|.
void reference(int p, int64_t n, std::vector<double>& sum, std::vector<double>& bound) {
  sum.assign(n, 0.0);
  bound.assign(n, 0.0);
  for (int r = 0; r < p; ++r) {
    std::vector<float> x = input(r, n);
    for (int64_t i = 0; i < n; ++i) sum[i] += x[i], bound[i] += std::fabs(x[i]);
  }
  for (auto& b : bound) b = 1.01 * (p - 1) * std::ldexp(1.0, -24) * b + 1e-30;
}

}  // namespace

TEST(MpiComm, RankSizeAndRing) {
  Communicator comm = pa3::mpi_world();
  EXPECT_STREQ(comm.backend_name(), "mpi");
  const int p = comm.size(), r = comm.rank();
  Tensor mine = mlsys::full({5}, static_cast<float>(r));
  for (int step = 0; step < p - 1; ++step) {
    Tensor got = mlsys::zeros({5});
    comm.sendrecv(mine, (r + 1) % p, got, (r - 1 + p) % p, step);
    mine = got;
  }
  EXPECT_EQ(mine.to_vector<float>(), std::vector<float>(5, static_cast<float>((r + 1) % p)));
}

TEST(MpiComm, SameTagInOrder) {
  Communicator comm = pa3::mpi_world();
  if (comm.rank() > 1) return;
  std::vector<Tensor> bufs;
  std::vector<pa3::Request> reqs;
  for (int m = 0; m < 20; ++m) {
    bufs.push_back(mlsys::full({2}, comm.rank() == 0 ? static_cast<float>(m) : -1.f));
    reqs.push_back(comm.rank() == 0 ? comm.isend(bufs.back(), 1, 4) : comm.irecv(bufs.back(), 0, 4));
  }
  for (auto& q : reqs) q.wait();
  if (comm.rank() == 1) {
    for (int m = 0; m < 20; ++m)
      EXPECT_EQ(bufs[m].to_vector<float>(), std::vector<float>(2, static_cast<float>(m)));
  }
}

TEST(MpiComm, NativeCollectivesAndCounters) {
  Communicator comm = pa3::mpi_world();
  const int p = comm.size(), r = comm.rank();
  for (int64_t n : {int64_t{0}, int64_t{1}, int64_t{p - 1}, int64_t{2 * p + 3}, int64_t{100003}}) {
    std::vector<double> sum, bound;
    reference(p, n, sum, bound);
    comm.reset_stats();

    Tensor t = mlsys::from_vector(input(r, n), {n});
    comm.native_all_reduce(t);
    std::vector<float> got = t.to_vector<float>();
    for (int64_t i = 0; i < n; ++i)
      ASSERT_LE(std::fabs(got[i] - sum[i]), bound[i]) << "all_reduce n=" << n << " i=" << i;

    Tensor in = mlsys::from_vector(input(r, n), {n});
    Tensor out = mlsys::zeros({chunk_size(n, p, r)});
    comm.native_reduce_scatter(in, out);
    got = out.to_vector<float>();
    for (int64_t i = 0; i < chunk_size(n, p, r); ++i) {
      int64_t j = chunk_begin(n, p, r) + i;
      ASSERT_LE(std::fabs(got[i] - sum[j]), bound[j]) << "reduce_scatter n=" << n << " i=" << j;
    }

    std::vector<double> all(n, -1.0), mine(chunk_size(n, p, r));
    for (int64_t i = 0; i < chunk_size(n, p, r); ++i) mine[i] = 10.0 * r + i;
    comm.native_all_gather(mine.data(), all.data(), n);
    for (int q = 0; q < p; ++q)
      for (int64_t i = 0; i < chunk_size(n, p, q); ++i)
        ASSERT_EQ(all[chunk_begin(n, p, q) + i], 10.0 * q + i) << "all_gather n=" << n;

    Tensor b = r == p - 1 ? mlsys::from_vector(input(7, n), {n}) : mlsys::zeros({n});
    comm.native_broadcast(b, p - 1);
    EXPECT_EQ(b.to_vector<float>(), input(7, n)) << "broadcast n=" << n;

    // Counted with the ring formulas of the threads backend.
    pa3::CommStats s = comm.stats();
    auto c = [&](int i) { return chunk_size(n, p, ((i % p) + p) % p); };
    EXPECT_EQ(s.sent_in_scope("native_all_reduce").bytes,
              static_cast<uint64_t>(4 * (p == 1 ? 0 : 2 * n - c(r) - c(r + 1))));
    EXPECT_EQ(s.sent_in_scope("native_all_reduce").messages, static_cast<uint64_t>(2 * (p - 1)));
    EXPECT_EQ(s.sent_in_scope("native_reduce_scatter").bytes, static_cast<uint64_t>(4 * (n - c(r))));
    EXPECT_EQ(s.sent_in_scope("native_all_gather").bytes,
              static_cast<uint64_t>(8 * (p == 1 ? 0 : n - c(r + 1))));
    EXPECT_EQ(s.sent_in_scope("native_broadcast").bytes,
              static_cast<uint64_t>((r + 1) % p == p - 1 ? 0 : 4 * n));
  }
}

TEST(MpiComm, SplitGrid) {
  Communicator world = pa3::mpi_world();
  const int cols = 2, row = world.rank() / cols, col = world.rank() % cols;
  Communicator row_comm = world.split(row, col);
  Communicator col_comm = world.split(col, row);
  EXPECT_EQ(row_comm.rank(), col);
  EXPECT_EQ(col_comm.rank(), row);
  EXPECT_EQ(col_comm.size(), world.size() / cols);
  Tensor v = mlsys::full({1}, static_cast<float>(world.rank()));
  col_comm.native_all_reduce(v);
  float expected = 0;
  for (int q = col; q < world.size(); q += cols) expected += q;
  EXPECT_EQ(v.item(), expected);
}

TEST(MpiComm, ErrorsAreClear) {
  Communicator comm = pa3::mpi_world();
  const int p = comm.size(), r = comm.rank();
  // Different lengths: every rank gets the same error (no rank is left waiting).
  try {
    comm.native_all_reduce(mlsys::zeros({r == 0 ? 3 : 4}));
    ADD_FAILURE() << "no throw";
  } catch (const mlsys::Error& e) {
    EXPECT_NE(std::string(e.what()).find("made different collective calls"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW(comm.send(mlsys::zeros({1}), r), mlsys::Error);  // to itself
  EXPECT_THROW(comm.send(mlsys::zeros({1}), p), mlsys::Error);  // out of range
  // A shorter message than the receive expects.
  if (r == 0) {
    comm.send(mlsys::zeros({3}), 1, 11);
  } else if (r == 1) {
    try {
      comm.recv(mlsys::zeros({4}), 0, 11);
      ADD_FAILURE() << "no throw";
    } catch (const mlsys::Error& e) {
      EXPECT_NE(std::string(e.what()).find("expected 16 bytes, got 12"), std::string::npos)
          << e.what();
    }
  }
  comm.barrier();
}

// Both ranks receive first: each gets a deadline error naming itself and its peer.
TEST(MpiComm, DeadlockIsAnError) {
  Communicator comm = pa3::mpi_world();
  if (comm.rank() > 1) {
    comm.barrier();
    return;
  }
  {
    pa3::ScopedDeadline deadline(1.0);
    const int other = 1 - comm.rank();
    try {
      comm.recv(mlsys::zeros({2}), other, 21);
      ADD_FAILURE() << "no throw";
    } catch (const mlsys::Error& e) {
      std::string expected = "rank " + std::to_string(comm.rank()) + " (mpi) receiving from rank " +
                             std::to_string(other) + " (tag 21";
      EXPECT_NE(std::string(e.what()).find(expected), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("deadline of 1 s exceeded"), std::string::npos);
    }
  }
  comm.barrier();
}

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--launch-check") == 0) {
      argv[i] = const_cast<char*>("--backend=mpi");
      return pa3::launch(argc, argv, [](Communicator&) {});
    }
    // Rank 1 throws while rank 0 waits for it: launch must end every process at once.
    if (std::strcmp(argv[i], "--launch-fail") == 0) {
      argv[i] = const_cast<char*>("--backend=mpi");
      return pa3::launch(argc, argv, [](Communicator& comm) {
        if (comm.rank() == 1) throw mlsys::Error("deliberate failure");
        comm.recv(mlsys::zeros({1}), 1);
      });
    }
  }
  ::testing::InitGoogleTest(&argc, argv);
  Communicator world = pa3::mpi_world();
  int failed = RUN_ALL_TESTS();
  // Every process returns the same code: failed if any rank failed.
  double any = failed != 0 ? 1.0 : 0.0;
  world.native_all_reduce(&any, 1);
  world = Communicator();
  pa3::mpi_finalize();
  return any > 0 ? 1 : 0;
}
