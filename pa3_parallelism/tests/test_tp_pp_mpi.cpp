// PA3 Tasks 5 (tensor parallelism) and 6 (pipeline parallelism) on the MPI backend: one process
// per rank under mpirun (CTest tests pa3_tp_pp_mpi_n2 / _n4, labels mpi, task5, task6).
// The cases are the threads tests' own (tp_cases5_*.h, pp_test_util.h): on_ranks (ranks_util.h)
// runs each case's per-rank function on this process's rank and exchanges the ranks' results,
// so every process checks every rank with the threads tests' references and tolerances:
//   Task 5 at tp = N: the embedding (bit for bit), the cross-entropy, a block, the whole model
//     and 3 AdamW steps against one process within the threads tests' tolerances, replicated
//     tensors with the same bits on every rank, traffic equal to the ring formulas of comm.h
//     (the MPI backend counts its collectives with them);
//   Task 6 at p = N stages: activations and gradients reach the right stage and micro-batch,
//     the bytes between stages exact, and the GPT's gradients and loss bit for bit one process
//     accumulating the same micro-batches (GPipe and 1F1B).
// At N = 2 the all-reduce adds two terms (a + b == b + a); at N = 4 MPI_Allreduce picks its own
// order, which the split sums' tolerances cover (they bound rounding, not one order).
//
//   OMPI_MCA_mpi_yield_when_idle=1 mpirun --allow-run-as-root --oversubscribe -n 2
//       build/.../pa3_tp_pp_mpi_tests      (one command line)
#include "pp_test_util.h"
#include "tp_cases5_2.h"
#include "tp_cases5_3.h"

namespace {

int world_size() { return pa3test::mpi_world_for_tests()->size(); }

// ---- Task 5 ------------------------------------------------------------------------------

TEST(Task5_Mpi, EmbeddingBitIdenticalToOneProcess) { tptest::t53::embedding_case(world_size()); }

TEST(Task5_Mpi, CrossEntropyMatchesOneProcess) {
  tptest::t53::crossentropy_case(world_size(), 13, 16);
}

TEST(Task5_Mpi, BlockMatchesOneProcessWithTwoAllReducesEachWay) {
  tptest::t52::block_case(world_size(), tptest::tiny_config(), 3, 5, 20);
}

TEST(Task5_Mpi, ModelMatchesOneProcess) {
  tptest::t53::model_case(world_size(), tptest::tiny_config(), 4, 6);
}

TEST(Task5_Mpi, ModelTrafficPerStep) { tptest::t53::traffic_case(world_size()); }

TEST(Task5_Mpi, TrainingMatchesOneProcessAndReplicasStayIdentical) {
  tptest::t53::train_case(world_size());
}

// ---- Task 6 ------------------------------------------------------------------------------

TEST(Task6_Mpi, ActivationsAndGradientsReachTheRightMicroBatch) {
  for (pa3::PipeSchedule kind : {pa3::PipeSchedule::GPipe, pa3::PipeSchedule::OneFOneB}) {
    pptest::echo_case(kind, world_size(), 5);
  }
}

TEST(Task6_Mpi, GPTMatchesOneProcessBitForBit) {
  const int p = world_size();
  std::vector<pa3::LayerRange> layers;  // one layer per stage
  for (int s = 0; s < p; ++s) layers.push_back({s, s + 1});
  // m > p and m <= p, both schedules
  pptest::gpt_case(pa3::PipeSchedule::GPipe, p, p, 4, 2, layers);
  pptest::gpt_case(pa3::PipeSchedule::OneFOneB, p, p, p + 2, 1, layers);
  pptest::gpt_case(pa3::PipeSchedule::OneFOneB, p, p, p / 2, 2, layers);
}

}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  pa3::Communicator world = pa3::mpi_world();
  pa3test::mpi_world_for_tests() = &world;
  // Longer than the threads tests' 2 s: several processes share 2 cores here.
  pa3::set_deadline(20.0);
  int failed = RUN_ALL_TESTS();
  double any = failed != 0 ? 1.0 : 0.0;
  world.native_all_reduce(&any, 1);
  pa3test::mpi_world_for_tests() = nullptr;
  world = pa3::Communicator();
  pa3::mpi_finalize();
  return any > 0 ? 1 : 0;
}
