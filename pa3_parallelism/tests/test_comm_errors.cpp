// PA3 runtime: every misuse is a clear mlsys::Error naming the op and the argument, never a
// hang or a crash.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "mlsys/tensor.h"
#include "pa3/comm.h"

using mlsys::Tensor;
using pa3::Communicator;

namespace {

// Runs fn on `world` ranks and returns the error run_ranks reports ("" when none).
std::string run_error(int world, const std::function<void(Communicator&)>& fn) {
  pa3::ScopedDeadline deadline(5.0);  // a hang would become a deadline error, not pass
  try {
    pa3::run_ranks(world, fn);
  } catch (const pa3::RankFailed& e) {
    return e.what();
  }
  return "";
}

#define EXPECT_HAS(text, part) \
  EXPECT_NE(std::string(text).find(part), std::string::npos) << "message: " << (text)

}  // namespace

TEST(CommErrors, WorldSize) {
  for (int bad : {0, -1, 5000}) {
    try {
      pa3::run_ranks(bad, [](Communicator&) {});
      ADD_FAILURE() << "run_ranks(" << bad << ") did not throw";
    } catch (const mlsys::Error& e) {
      EXPECT_HAS(e.what(), "run_ranks: argument 'world' must be in 1..1024, got " + std::to_string(bad));
    }
  }
}

TEST(CommErrors, LaunchArguments) {
  auto parse = [](std::vector<std::string> args) {
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    int argc = static_cast<int>(args.size());
    pa3::LaunchOptions o = pa3::parse_launch_args(argc, argv.data());
    EXPECT_EQ(argc, 2) << "the program's own argument must stay";
    EXPECT_STREQ(argv[1], "--mine");
    return o;
  };
  pa3::LaunchOptions o = parse({"prog", "--world", "3", "--mine", "--backend=threads"});
  EXPECT_EQ(o.world, 3);
  EXPECT_EQ(o.backend, "threads");
  try {
    parse({"prog", "--world", "0", "--mine"});
    ADD_FAILURE() << "--world 0 accepted";
  } catch (const mlsys::Error& e) {
    EXPECT_HAS(e.what(), "--world must be a number of ranks in 1..1024, got '0'");
  }
  try {
    parse({"prog", "--backend", "nccl", "--mine"});
    ADD_FAILURE() << "--backend nccl accepted";
  } catch (const mlsys::Error& e) {
    EXPECT_HAS(e.what(), "--backend must be 'threads' or 'mpi', got 'nccl'");
  }
}

TEST(CommErrors, LaunchRunsThreadsAndReportsFailure) {
  std::string a0 = "prog", a1 = "--world", a2 = "3";
  char* argv[] = {a0.data(), a1.data(), a2.data(), nullptr};
  int ranks = 0;
  std::mutex mu;
  EXPECT_EQ(pa3::launch(3, argv, [&](Communicator& comm) {
              std::lock_guard<std::mutex> lock(mu);
              ranks += comm.size();
            }),
            0);
  EXPECT_EQ(ranks, 9);
  char* argv2[] = {a0.data(), nullptr};
  EXPECT_EQ(pa3::launch(1, argv2, [](Communicator& comm) {
              if (comm.rank() == 1) throw mlsys::Error("expected failure");
            }),
            1);
}

TEST(CommErrors, RankOutOfRangeAndSelf) {
  std::string msg = run_error(3, [](Communicator& comm) {
    if (comm.rank() == 1) comm.send(mlsys::zeros({1}), 3);
  });
  EXPECT_HAS(msg, "rank 1: pa3::send: argument 'dst' must be a rank in 0..2 of communicator 'world' (size 3), got 3");
  msg = run_error(3, [](Communicator& comm) {
    if (comm.rank() == 0) comm.recv(mlsys::zeros({1}), -1);
  });
  EXPECT_HAS(msg, "pa3::recv: argument 'src' must be a rank in 0..2");
  msg = run_error(2, [](Communicator& comm) {
    if (comm.rank() == 1) comm.isend_bytes("x", 1, 1);
  });
  EXPECT_HAS(msg, "pa3::isend_bytes: rank 1 names itself as 'dst'");
  msg = run_error(2, [](Communicator& comm) {
    Tensor t = mlsys::zeros({1});
    comm.sendrecv(t, 1 - comm.rank(), t, comm.rank());
  });
  EXPECT_HAS(msg, "names itself as 'src'");
  msg = run_error(2, [](Communicator& comm) {
    if (comm.rank() == 0) comm.send(mlsys::zeros({1}), 1, 40000);
  });
  EXPECT_HAS(msg, "pa3::send: argument 'tag' must be in 0..32767, got 40000");
  msg = run_error(2, [](Communicator& comm) { comm.native_broadcast(mlsys::zeros({1}), 2); });
  EXPECT_HAS(msg, "pa3::native_broadcast: argument 'root' must be a rank in 0..1, got 2");
}

TEST(CommErrors, BadTensors) {
  std::string msg = run_error(2, [](Communicator& comm) {
    if (comm.rank() == 0) comm.send(mlsys::zeros({3, 4}).t(), 1);
  });
  EXPECT_HAS(msg, "pa3::send: argument 'tensor' must be contiguous, got float32[4, 3] cpu");
  msg = run_error(2, [](Communicator& comm) {
    if (comm.rank() == 1) comm.recv(Tensor(), 0);
  });
  EXPECT_HAS(msg, "pa3::recv: argument 'tensor' is an undefined tensor");
  msg = run_error(2, [](Communicator& comm) {
    comm.native_all_reduce(mlsys::zeros({4}, mlsys::DType::Int32));
  });
  EXPECT_HAS(msg, "pa3::native_all_reduce: argument 't' must be float32");
  msg = run_error(2, [](Communicator& comm) {
    comm.native_reduce_scatter(mlsys::zeros({10}), mlsys::zeros({4}));
  });
  EXPECT_HAS(msg, "argument 'out' must have chunk_of(n=10, p=2, rank=");
  msg = run_error(3, [](Communicator& comm) {
    comm.native_all_gather(mlsys::zeros({2}), mlsys::zeros({7}));
  });
  EXPECT_HAS(msg, "argument 'in' must have chunk_of(n=7, p=3, rank=");
  msg = run_error(2, [](Communicator& comm) {
    comm.native_all_gather(mlsys::zeros({2}), mlsys::zeros({4}, mlsys::DType::Int32));
  });
  EXPECT_HAS(msg, "arguments 'in' and 'out' must have the same dtype");
}

// Sender and receiver disagree on the size or dtype: both sides get an error naming both.
TEST(CommErrors, MessageSizeAndDtypeMismatch) {
  std::string msg = run_error(2, [](Communicator& comm) {
    if (comm.rank() == 0)
      comm.send(mlsys::zeros({5}), 1, 3);
    else
      comm.recv(mlsys::zeros({4}), 0, 3);
  });
  // Whichever side reports first, the message names both sizes and the tag.
  EXPECT_HAS(msg, "16 bytes (4 float32)");
  EXPECT_HAS(msg, "20 bytes (5 float32)");
  EXPECT_HAS(msg, "(tag 3, communicator 'world')");
  msg = run_error(2, [](Communicator& comm) {
    if (comm.rank() == 0)
      comm.send(mlsys::zeros({4}), 1);
    else
      comm.recv(mlsys::zeros({4}, mlsys::DType::Int32), 0);
  });
  EXPECT_HAS(msg, "(4 int32)");
  EXPECT_HAS(msg, "(4 float32)");
}

// Ranks disagree on the length (or the collective): every rank gets the same error listing
// what each rank called, instead of a hang.
TEST(CommErrors, CollectiveLengthMismatch) {
  std::string msg = run_error(4, [](Communicator& comm) {
    comm.native_all_reduce(mlsys::zeros({comm.rank() == 2 ? 9 : 8}));
  });
  EXPECT_HAS(msg, "made different collective calls");
  EXPECT_HAS(msg, "rank 1: native_all_reduce of n=8 float32");
  EXPECT_HAS(msg, "rank 2: native_all_reduce of n=9 float32");
  msg = run_error(3, [](Communicator& comm) {
    if (comm.rank() == 0)
      comm.barrier();
    else
      comm.native_broadcast(mlsys::zeros({2}), 1);
  });
  EXPECT_HAS(msg, "rank 0: barrier");
  EXPECT_HAS(msg, "rank 1: native_broadcast of 8 bytes from root 1");
  msg = run_error(2, [](Communicator& comm) {
    comm.native_broadcast(mlsys::zeros({2}), comm.rank());
  });
  EXPECT_HAS(msg, "made different collective calls");
  msg = run_error(3, [](Communicator& comm) {
    std::vector<double> x(static_cast<size_t>(comm.rank() + 1) * 3, 1.0);
    std::vector<double> y(comm.rank() + 1);
    comm.native_reduce_scatter(x.data(), y.data(), static_cast<int64_t>(x.size()));
  });
  EXPECT_HAS(msg, "native_reduce_scatter of n=3 float64");
  EXPECT_HAS(msg, "native_reduce_scatter of n=9 float64");
}

// check_same: the same value passes, uncounted; another value fails on every rank, naming it;
// a rank in another collective gets the "different collective calls" error.
TEST(CommErrors, CheckSame) {
  pa3::run_ranks(3, [](Communicator& comm) {
    comm.check_same(42, "rows", "test");
    EXPECT_EQ(comm.stats().sent.bytes, 0u);
    EXPECT_EQ(comm.stats().sent.messages, 0u);
  });
  std::string msg = run_error(3, [](Communicator& comm) {
    comm.check_same(comm.rank() == 2 ? 7 : 8, "rows", "my_op");
  });
  EXPECT_HAS(msg, "my_op: argument 'rows' must be the same on every rank");
  EXPECT_HAS(msg, "rank 1: 8");
  EXPECT_HAS(msg, "rank 2: 7");
  msg = run_error(2, [](Communicator& comm) {
    if (comm.rank() == 0)
      comm.barrier();
    else
      comm.check_same(1, "rows", "my_op");
  });
  EXPECT_HAS(msg, "made different collective calls");
  EXPECT_HAS(msg, "rank 1: check_same(1)");
}

TEST(CommErrors, SplitArguments) {
  std::string msg = run_error(2, [](Communicator& comm) { comm.split(-1, comm.rank()); });
  EXPECT_HAS(msg, "pa3::split: argument 'color' must be >= 0, got -1");
  msg = run_error(2, [](Communicator& comm) { comm.split(0, -2); });
  EXPECT_HAS(msg, "pa3::split: argument 'key' must be >= 0, got -2");
  // Two ranks of one color with the same key: a wrong grid formula.
  msg = run_error(4, [](Communicator& comm) { comm.split(comm.rank() % 2, comm.rank() / 3); });
  EXPECT_HAS(msg, "pa3::split: ranks 0 and 2 of communicator 'world' both passed color 0 and key 0");
  // One rank calls something else.
  msg = run_error(3, [](Communicator& comm) {
    if (comm.rank() == 1)
      comm.barrier();
    else
      comm.split(0, comm.rank());
  });
  EXPECT_HAS(msg, "made different collective calls");
  EXPECT_HAS(msg, "rank 0: split(color 0, key 0)");
  EXPECT_HAS(msg, "rank 1: barrier");
}

TEST(CommErrors, EmptyHandlesAndBadDeadline) {
  Communicator none;
  EXPECT_FALSE(none.valid());
  try {
    none.rank();
    ADD_FAILURE() << "no throw";
  } catch (const mlsys::Error& e) {
    EXPECT_HAS(e.what(), "pa3::Communicator::rank: this Communicator is empty");
  }
  pa3::Request r;
  EXPECT_THROW(r.wait(), mlsys::Error);
  EXPECT_THROW(pa3::set_deadline(0), mlsys::Error);
  EXPECT_THROW(pa3::set_deadline(-3), mlsys::Error);
}

// A request dropped before it completed is cancelled: the peer then waits in vain and gets a
// deadline error (with a roll call), not a crash on freed memory.
TEST(CommErrors, DroppedRequestIsCancelled) {
  pa3::ScopedDeadline deadline(1.0);
  std::string msg;
  try {
    pa3::run_ranks(2, [](Communicator& comm) {
      if (comm.rank() == 0) {
        std::vector<float> buf(4, 1.f);
        { pa3::Request dropped = comm.isend_bytes(buf.data(), 16, 1); }
        comm.barrier();
      } else {
        comm.barrier();
        std::vector<float> buf(4);
        comm.recv_bytes(buf.data(), 16, 0);
      }
    });
  } catch (const mlsys::Error& e) {
    msg = e.what();
  }
  EXPECT_HAS(msg, "deadline of 1 s exceeded");
  EXPECT_HAS(msg, "rank 0: finished");
}

TEST(CommErrors, MpiUnavailableIsClear) {
  if (pa3::mpi_built()) GTEST_SKIP() << "this build has the MPI backend (tested under mpirun)";
  try {
    pa3::mpi_world();
    ADD_FAILURE() << "no throw";
  } catch (const mlsys::Error& e) {
    EXPECT_HAS(e.what(), "this build has no MPI backend");
  }
}
