// PA3 Tasks 1.1-1.4 on the MPI backend: your ring collectives and binomial-tree broadcast, one
// process per rank under mpirun (CTest tests pa3_task1_mpi_n2 / _n4, labels mpi and task1).
// The same checks as the threads tests, on fewer lengths: the result against the float64 sum
// within the float32 rounding bound (handouts/pa3.md §5), every rank's bits identical, and each
// rank's bytes and messages exactly the algorithm's.
//
//   OMPI_MCA_mpi_yield_when_idle=1 mpirun --allow-run-as-root --oversubscribe -n 4
//       build/.../pa3_task1_mpi_tests      (one command line)
//
// Every process runs every test on its rank of MPI_COMM_WORLD; the exit code is non-zero when
// any rank failed.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "task1_util.h"

namespace {

using mlsys::Tensor;
using pa3::Communicator;
using pa3test::chunk;

std::vector<int64_t> lengths(int p) { return {0, 1, p - 1, 2 * p + 3, 100003}; }

// True when every rank holds the same bytes in `t` as rank 0 (checked with a native broadcast,
// after the traffic of the collective under test was read).
bool same_bits_everywhere(const Communicator& comm, const Tensor& t) {
  Tensor root = t.clone();
  comm.native_broadcast(root, 0);
  const size_t bytes = static_cast<size_t>(t.numel()) * mlsys::dtype_size(t.dtype());
  return bytes == 0 || std::memcmp(root.raw_data(), t.raw_data(), bytes) == 0;
}

void expect_traffic(const Communicator& comm, const std::string& what, int64_t bytes,
                    int64_t messages) {
  const pa3test::Sent s = pa3test::sent_by(comm);
  EXPECT_EQ(s.native_bytes + s.native_messages, 0u) << what << ": used a native_* collective";
  EXPECT_EQ(static_cast<int64_t>(s.bytes), bytes) << what << ": bytes sent by this rank";
  EXPECT_EQ(static_cast<int64_t>(s.messages), messages) << what << ": messages sent by this rank";
}

}  // namespace

TEST(Task1_Mpi, RingReduceScatter) {
  Communicator comm = pa3::mpi_world();
  const int p = comm.size(), r = comm.rank();
  for (int64_t n : lengths(p)) {
    const std::string what = pa3test::where("ring_reduce_scatter", p, n, r);
    const pa3test::SumReference ref = pa3test::sum_reference(p, n, 501);
    Tensor in = pa3test::tensor_of(pa3test::input(r, n, 501), {n});
    Tensor out = mlsys::full({chunk(n, p, r)}, -7.f);
    comm.reset_stats();
    pa3::ring_reduce_scatter(comm, in, out);
    expect_traffic(comm, what, p == 1 ? 0 : 4 * (n - chunk(n, p, r)), p - 1);
    EXPECT_TRUE(pa3test::within_bound(out.to_vector<float>(), ref, pa3::chunk_of(n, p, r).begin, what));
    EXPECT_EQ(in.to_vector<float>(), pa3test::input(r, n, 501)) << what << ": `in` was modified";
  }
}

TEST(Task1_Mpi, RingAllGather) {
  Communicator comm = pa3::mpi_world();
  const int p = comm.size(), r = comm.rank();
  for (mlsys::DType dtype : {mlsys::DType::Float32, mlsys::DType::Int64}) {
    for (int64_t n : lengths(p)) {
      const std::string what = pa3test::where(std::string("ring_all_gather ") + mlsys::to_string(dtype), p, n, r);
      std::vector<float> full = pa3test::input(0, n, 502);
      for (float& x : full) x = std::round(x * 1000.f);  // exact in every dtype
      const Tensor full_t = pa3test::tensor_of(full, {n}).astype(dtype);
      const pa3::Chunk c = pa3::chunk_of(n, p, r);
      Tensor in = full_t.slice(0, c.begin, c.end()).clone();
      Tensor out = mlsys::full({n}, -7, dtype);
      comm.reset_stats();
      pa3::ring_all_gather(comm, in, out);
      const int64_t size = dtype == mlsys::DType::Float32 ? 4 : 8;
      expect_traffic(comm, what, p == 1 ? 0 : size * (n - chunk(n, p, (r + 1) % p)), p - 1);
      EXPECT_EQ(out.to_vector<double>(), full_t.to_vector<double>()) << what;
    }
  }
}

TEST(Task1_Mpi, RingAllReduce) {
  Communicator comm = pa3::mpi_world();
  const int p = comm.size(), r = comm.rank();
  for (int64_t n : lengths(p)) {
    const std::string what = pa3test::where("ring_all_reduce", p, n, r);
    const pa3test::SumReference ref = pa3test::sum_reference(p, n, 503);
    Tensor t = pa3test::tensor_of(pa3test::input(r, n, 503), {n});
    comm.reset_stats();
    pa3::ring_all_reduce(comm, t);
    expect_traffic(comm, what, p == 1 ? 0 : 4 * (2 * n - chunk(n, p, r) - chunk(n, p, (r + 1) % p)),
                   2 * (p - 1));
    EXPECT_TRUE(pa3test::within_bound(t.to_vector<float>(), ref, 0, what));
    EXPECT_TRUE(same_bits_everywhere(comm, t)) << what << ": ranks hold different bits";
  }
}

TEST(Task1_Mpi, TreeBroadcastFromEveryRoot) {
  Communicator comm = pa3::mpi_world();
  const int p = comm.size(), r = comm.rank();
  for (int root = 0; root < p; ++root) {
    for (int64_t n : {int64_t{1}, int64_t{1000}}) {
      const std::string what = pa3test::where("tree_broadcast root " + std::to_string(root), p, n, r);
      const std::vector<float> data = pa3test::input(root, n, 504);
      Tensor t = r == root ? pa3test::tensor_of(data, {n}) : mlsys::full({n}, -7.f);
      comm.reset_stats();
      pa3::tree_broadcast(comm, t, root);
      // Children of virtual rank v in MPICH's binomial tree: v + m for m = lowbit(v)/2, ..., 1
      // (the root: every power of two below p), those below p.
      const int v = (r - root + p) % p;
      int children = 0;
      for (int m = v == 0 ? 1 << 30 : (v & -v) / 2; m >= 1; m /= 2) children += (v + m < p) ? 1 : 0;
      expect_traffic(comm, what, 4 * n * children, children);
      EXPECT_EQ(t.to_vector<float>(), data) << what;
    }
  }
}

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  Communicator world = pa3::mpi_world();
  // Longer than the threads tests' 2 s: several processes share 2 cores here.
  pa3::set_deadline(20.0);
  int failed = RUN_ALL_TESTS();
  // Every process returns the same code: failed if any rank failed.
  double any = failed != 0 ? 1.0 : 0.0;
  world.native_all_reduce(&any, 1);
  world = Communicator();
  pa3::mpi_finalize();
  return any > 0 ? 1 : 0;
}
