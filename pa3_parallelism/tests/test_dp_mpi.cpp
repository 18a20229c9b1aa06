// PA3 Task 3 (and ZeRO-1 of Task 4) on the MPI backend: the DataParallel engine with one
// process per rank under mpirun (CTest tests pa3_dp_mpi_n2 / _n4, labels mpi, task3, task4).
// Expected values come from train_single, which every process runs by itself: with
// num_shards = N it computes in one process what N ranks compute (pa3/train.h).
//   N = 2: equal bit for bit (the all-reduce adds two gradients: a + b == b + a);
//   N = 4: MPI_Allreduce adds the four gradients in an order of its choosing, so parameters are
//          compared within the tolerance of handouts/pa3.md §5, and replicas bit for bit.
//
//   OMPI_MCA_mpi_yield_when_idle=1 mpirun --allow-run-as-root --oversubscribe -n 2
//       build/.../pa3_dp_mpi_tests      (one command line)
#include <cmath>
#include <cstring>

#include "dp_test_util.h"

namespace {

using mlsys::Tensor;
using pa3::Communicator;

const std::vector<int32_t>& tokens() {
  static const std::vector<int32_t> t = dptest::token_stream(4000, 7);
  return t;
}

struct Run {
  std::vector<float> params;  // this rank's, flattened after the last step
  std::vector<float> losses;
  bool replicas_identical = true;  // after every step, with rank 0's
};

Run run_mpi(const Communicator& comm, const pa3::GPTConfig& c, const pa3::DPOptions& o,
            int64_t steps, int64_t B, int64_t T) {
  Run run;
  pa3::DataParallel dp(comm, c, o);
  for (int64_t s = 0; s < steps; ++s) {
    run.losses.push_back(dp.step(pa3::global_batch(tokens(), s, 42, B, T)));
    run.params = dptest::flatten(dp.full_params());
    Tensor root = dptest::as_tensor(run.params);
    comm.native_broadcast(root, 0);
    run.replicas_identical = run.replicas_identical &&
                             std::memcmp(root.data<float>(), run.params.data(),
                                         run.params.size() * sizeof(float)) == 0;
  }
  return run;
}

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  double d = a.size() == b.size() ? 0.0 : INFINITY;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i)
    d = std::fmax(d, std::fabs(double(a[i]) - double(b[i])));
  return d;
}

void expect_equals_train_single(const Communicator& comm, int zero) {
  const int N = comm.size();
  const pa3::GPTConfig c = dptest::tiny_config();
  const int64_t B = 4 * N, T = 6, m = 2, steps = 10;
  pa3::DPOptions o;
  o.zero = zero;
  o.num_micro = m;
  o.bucket_cap_bytes = 4 * 900;  // 3 buckets
  const Run run = run_mpi(comm, c, o, steps, B, T);
  const pa3::TrainResult ref = dptest::train_single_shards(c, N, m, steps, B, T, tokens());
  const std::vector<float> want = dptest::flatten(ref.params);
  EXPECT_TRUE(run.replicas_identical) << "ranks hold different parameters after some step";
  if (N <= 2) {
    EXPECT_EQ(dptest::bit_mismatches(run.params, want), 0)
        << "rank " << comm.rank() << ": elements whose bits differ from train_single (num_shards = "
        << N << ") after " << steps << " steps";
    for (int64_t s = 0; s < steps; ++s) EXPECT_EQ(run.losses[s], ref.losses[s]) << "step " << s;
  } else {
    // The tolerance of the threads tests at N > 2 (handouts/pa3.md §5).
    EXPECT_LE(max_abs_diff(run.params, want), 1e-5) << "rank " << comm.rank();
    for (int64_t s = 0; s < steps; ++s) EXPECT_NEAR(run.losses[s], ref.losses[s], 1e-5) << "step " << s;
  }
}

}  // namespace

TEST(Task3_Mpi, DataParallelEqualsTrainSingle) {
  expect_equals_train_single(pa3::mpi_world(), 0);
}

TEST(Task3_Mpi, AllReduceTrafficIsTheRingFormula) {
  Communicator comm = pa3::mpi_world();
  const int N = comm.size();
  pa3::DPOptions o;
  o.bucket_cap_bytes = 1 << 20;  // one bucket of Psi = 1936 elements, padded to N
  pa3::DataParallel dp(comm, dptest::tiny_config(), o);
  comm.reset_stats();
  dp.step(pa3::global_batch(tokens(), 0, 42, 4 * N, 6));
  const pa3::CommStats st = comm.stats();
  const int64_t padded = (dptest::kPsi + N - 1) / N * N;
  EXPECT_EQ(int64_t(st.sent.bytes - st.sent_in_scope("loss").bytes),
            N == 1 ? 0 : 4 * 2 * (N - 1) * padded / N);
}

TEST(Task4_Mpi, ZeroOneEqualsTrainSingle) {
  expect_equals_train_single(pa3::mpi_world(), 1);
}

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  Communicator world = pa3::mpi_world();
  // Longer than the threads tests' 2 s: several processes share 2 cores here.
  pa3::set_deadline(20.0);
  int failed = RUN_ALL_TESTS();
  double any = failed != 0 ? 1.0 : 0.0;
  world.native_all_reduce(&any, 1);
  world = Communicator();
  pa3::mpi_finalize();
  return any > 0 ? 1 : 0;
}
