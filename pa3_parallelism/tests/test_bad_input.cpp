// PA3 bad input across the pieces: the argument checks given in the student files (they run
// before your code), collectives called with different lengths on different ranks, ranks that
// disagree on the model or the options, bad DataParallel options. Each must be an mlsys::Error
// naming the op, the argument and the numbers, on every rank, never a hang or a crash. (The
// runtime's own checks are in test_comm_errors.cpp; the grid's in the Task 2 tests;
// train_single's in test_gpt_model.cpp.)
//
// Cases that need a task of yours to get as far as the error skip while that task is a stub.
#include <gtest/gtest.h>

#include <string>

#include "dp_test_util.h"
#include "pa3/collectives.h"

using mlsys::Tensor;
using pa3::Communicator;

namespace {

const char* const kNotImplemented = "NotImplemented";

// Runs fn on `world` ranks; returns the error run_ranks reports ("" when none), or
// kNotImplemented when the first failing rank hit a stub.
std::string run_error(int world, const std::function<void(Communicator&)>& fn) {
  pa3::ScopedDeadline deadline(5.0);  // a hang would become a deadline error, not pass
  try {
    pa3::run_ranks(world, fn);
  } catch (const pa3::RankFailed& e) {
    try {
      std::rethrow_exception(e.original());
    } catch (const mlsys::NotImplemented&) {
      return kNotImplemented;
    } catch (...) {
    }
    return e.what();
  }
  return "";
}

#define EXPECT_HAS(text, part) \
  EXPECT_NE(std::string(text).find(part), std::string::npos) << "message: " << (text)

#define SKIP_IF_STUB(msg, task) \
  if ((msg) == kNotImplemented) GTEST_SKIP() << "needs " task " (still a stub)"

}  // namespace

// ============================================================================================
// The student collectives: the given checks at the top of each function
// ============================================================================================

TEST(BadInput, CollectivesRejectWrongDtypeLayoutAndSize) {
  // Every rank gets the same bad argument, so every rank throws before sending anything.
  std::string msg = run_error(2, [](Communicator& comm) {
    pa3::ring_reduce_scatter(comm, mlsys::zeros({10}, mlsys::DType::Int32), mlsys::zeros({5}));
  });
  EXPECT_HAS(msg, "pa3::ring_reduce_scatter: argument 'in' must be float32, got int32[10]");
  msg = run_error(2, [](Communicator& comm) {
    pa3::ring_reduce_scatter(comm, mlsys::zeros({3, 4}).t(), mlsys::zeros({6}));
  });
  EXPECT_HAS(msg, "pa3::ring_reduce_scatter: argument 'in' must be a contiguous CPU tensor, got float32[4, 3]");
  msg = run_error(2, [](Communicator& comm) {
    pa3::ring_reduce_scatter(comm, mlsys::zeros({10}), mlsys::zeros({4}));
  });
  EXPECT_HAS(msg, "pa3::ring_reduce_scatter: argument 'out' must have 5 elements, got float32[4]");

  msg = run_error(3, [](Communicator& comm) {
    pa3::ring_all_gather(comm, mlsys::zeros({2}), mlsys::zeros({7}));
  });
  EXPECT_HAS(msg, "pa3::ring_all_gather: argument 'in' must have ");  // 3, 2, 2 elements
  EXPECT_HAS(msg, " elements, got float32[2]");
  msg = run_error(2, [](Communicator& comm) {
    pa3::ring_all_gather(comm, mlsys::zeros({2}), mlsys::zeros({4}, mlsys::DType::Int64));
  });
  EXPECT_HAS(msg, "pa3::ring_all_gather: argument 'in' must have out's dtype int64, got float32[2]");
  msg = run_error(2, [](Communicator& comm) {
    pa3::ring_all_gather(comm, mlsys::zeros({3}), mlsys::zeros({2, 3}).t());
  });
  EXPECT_HAS(msg, "pa3::ring_all_gather: argument 'out' must be a contiguous CPU tensor");

  msg = run_error(2, [](Communicator& comm) {
    pa3::ring_all_reduce(comm, mlsys::zeros({4}, mlsys::DType::Int32));
  });
  EXPECT_HAS(msg, "pa3::ring_all_reduce: argument 't' must be float32, got int32[4]");
  msg = run_error(2, [](Communicator& comm) { pa3::ring_all_reduce(comm, Tensor()); });
  EXPECT_HAS(msg, "pa3::ring_all_reduce: argument 't' is an undefined tensor");

  msg = run_error(3, [](Communicator& comm) { pa3::tree_broadcast(comm, mlsys::zeros({2}), 3); });
  EXPECT_HAS(msg, "pa3::tree_broadcast: argument 'root' must be in [0, 3), got 3");
  msg = run_error(3, [](Communicator& comm) { pa3::tree_broadcast(comm, mlsys::zeros({2}), -1); });
  EXPECT_HAS(msg, "got -1");
  msg = run_error(2, [](Communicator& comm) {
    pa3::tree_broadcast(comm, mlsys::zeros({2, 3}).t(), 0);
  });
  EXPECT_HAS(msg, "pa3::tree_broadcast: argument 't' must be a contiguous CPU tensor");
}

// Ranks that pass different lengths: the first message whose size differs from what its
// receiver expects fails on both sides, naming both sizes (the runtime checks every message).
TEST(BadInput, CollectivesWithDifferentLengthsOnDifferentRanks) {
  std::string msg = run_error(2, [](Communicator& comm) {
    pa3::ring_all_reduce(comm, mlsys::zeros({comm.rank() == 0 ? 8 : 10}));
  });
  SKIP_IF_STUB(msg, "Tasks 1.1-1.3");
  EXPECT_HAS(msg, "(4 float32)");
  EXPECT_HAS(msg, "(5 float32)");
  msg = run_error(3, [](Communicator& comm) {
    pa3::tree_broadcast(comm, mlsys::zeros({comm.rank() == 2 ? 6 : 5}), 0);
  });
  SKIP_IF_STUB(msg, "Task 1.4");
  EXPECT_HAS(msg, "(5 float32)");
  EXPECT_HAS(msg, "(6 float32)");
}

// ============================================================================================
// Data parallelism: bad options, and ranks that disagree
// ============================================================================================

TEST(BadInput, DataParallelOptionsNameTheOption) {
  const pa3::GPTConfig c = dptest::tiny_config();
  auto error_of = [&](const pa3::DPOptions& o) {
    return run_error(2, [&](Communicator& comm) { pa3::DataParallel dp(comm, c, o); });
  };
  pa3::DPOptions o;
  o.zero = 4;
  EXPECT_HAS(error_of(o), "DataParallel: argument 'options.zero': expected 0, 1, 2 or 3, got 4");
  o = pa3::DPOptions();
  o.bucket_cap_bytes = 0;
  EXPECT_HAS(error_of(o), "argument 'options.bucket_cap_bytes': expected > 0, got 0");
  o = pa3::DPOptions();
  o.num_micro = -1;
  EXPECT_HAS(error_of(o), "argument 'options.num_micro': expected > 0, got -1");
  o = pa3::DPOptions();
  o.frozen = {"h.0.qkv_weight_typo"};
  EXPECT_HAS(error_of(o), "argument 'options.frozen': no parameter named 'h.0.qkv_weight_typo'");
  pa3::GPTConfig bad = c;
  bad.n_head = 3;  // does not divide n_embd = 8
  std::string msg = run_error(2, [&](Communicator& comm) { pa3::DataParallel dp(comm, bad, {}); });
  EXPECT_HAS(msg, "n_head");
}

// A model of another width on one rank: the first broadcast of the parameters has different
// lengths, and every rank gets the runtime's "different collective calls" error at once.
TEST(BadInput, DataParallelRanksWithDifferentModels) {
  std::string msg = run_error(2, [](Communicator& comm) {
    pa3::GPTConfig c = dptest::tiny_config();
    if (comm.rank() == 1) c.n_embd = 12;
    pa3::DataParallel dp(comm, c, {});
  });
  SKIP_IF_STUB(msg, "Task 3.1");
  EXPECT_HAS(msg, "made different collective calls");
  EXPECT_HAS(msg, "rank 0: native_broadcast of 256 bytes");  // wte: 8 x 8 floats
  EXPECT_HAS(msg, "rank 1: native_broadcast of 384 bytes");  // 8 x 12
}

// Different bucket caps (or ZeRO stages) on different ranks: the first bucket's reduction has
// different lengths (or is another collective), an error on every rank, not a wrong sum.
TEST(BadInput, DataParallelRanksWithDifferentOptions) {
  const pa3::GPTConfig c = dptest::tiny_config();
  const std::vector<int32_t> tokens = dptest::token_stream(2000, 7);
  std::string msg = run_error(2, [&](Communicator& comm) {
    pa3::DPOptions o;
    o.bucket_cap_bytes = comm.rank() == 0 ? 4 * 900 : 4 * 1936;
    pa3::DataParallel dp(comm, c, o);
    dp.step(pa3::global_batch(tokens, 0, 42, 8, 6));
  });
  SKIP_IF_STUB(msg, "Task 3");
  EXPECT_HAS(msg, "made different collective calls");
  EXPECT_HAS(msg, "native_all_reduce of n=");
}

// A global batch with other rows (or positions) on one rank: each rank's share of the mean loss
// 1 / (B T) would be silently wrong, so the engine compares B and T across ranks first.
TEST(BadInput, DataParallelRanksWithDifferentGlobalBatches) {
  const pa3::GPTConfig c = dptest::tiny_config();
  const std::vector<int32_t> tokens = dptest::token_stream(2000, 7);
  std::string msg = run_error(2, [&](Communicator& comm) {
    pa3::DataParallel dp(comm, c, {});
    dp.step(pa3::global_batch(tokens, 0, 42, comm.rank() == 1 ? 4 : 8, 6));
  });
  SKIP_IF_STUB(msg, "Task 3.1");
  EXPECT_HAS(msg, "DataParallel::step: argument 'global_batch rows' must be the same on every rank");
  EXPECT_HAS(msg, "rank 0: 8");
  EXPECT_HAS(msg, "rank 1: 4");
  msg = run_error(2, [&](Communicator& comm) {
    pa3::DataParallel dp(comm, c, {});
    dp.step(pa3::global_batch(tokens, 0, 42, 8, comm.rank() == 0 ? 6 : 5));
  });
  SKIP_IF_STUB(msg, "Task 3.1");
  EXPECT_HAS(msg, "argument 'global_batch positions' must be the same on every rank");
}
