// PA3 runtime, threads backend: point-to-point messages, ordering, sendrecv rings, split,
// traffic counters, deadlines and aborts.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <numeric>
#include <string>
#include <vector>

#include "mlsys/tensor.h"
#include "pa3/comm.h"

using mlsys::Tensor;
using pa3::Communicator;

namespace {

// A value no other (rank, index) pair produces, so a misrouted element is always visible.
float tag_value(int rank, int64_t i, int salt = 0) {
  return static_cast<float>(1000 * rank + i + 100000 * salt);
}

Tensor filled(int64_t n, int rank, int salt = 0) {
  std::vector<float> v(n);
  for (int64_t i = 0; i < n; ++i) v[i] = tag_value(rank, i, salt);
  return mlsys::from_vector(v, {n});
}

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

}  // namespace

// ============================================================================================
// Point-to-point
// ============================================================================================

TEST(CommP2P, RankAndSize) {
  std::vector<int> seen(5, -1);
  pa3::run_ranks(5, [&](Communicator& comm) {
    EXPECT_EQ(comm.size(), 5);
    EXPECT_STREQ(comm.backend_name(), "threads");
    EXPECT_EQ(comm.name(), "world");
    seen[comm.rank()] = comm.rank();
  });
  for (int r = 0; r < 5; ++r) EXPECT_EQ(seen[r], r);
}

TEST(CommP2P, SendRecvTensor) {
  pa3::run_ranks(2, [](Communicator& comm) {
    if (comm.rank() == 0) {
      comm.send(filled(7, 0).reshape({7}), 1);
    } else {
      Tensor got = mlsys::zeros({7});
      comm.recv(got, 0);
      EXPECT_EQ(got.to_vector<float>(), filled(7, 0).to_vector<float>());
    }
  });
}

TEST(CommP2P, RecvIntoContiguousSliceAndIntDtype) {
  pa3::run_ranks(2, [](Communicator& comm) {
    if (comm.rank() == 0) {
      comm.send(mlsys::from_vector<int64_t>({5, -6, 7}, {3}), 1, 3);
    } else {
      Tensor buf = mlsys::zeros({4, 3}, mlsys::DType::Int64);
      comm.recv(buf.select(0, 2), 0, 3);  // row 2 of a contiguous matrix is contiguous
      std::vector<int64_t> v = buf.to_vector<int64_t>();
      std::vector<int64_t> expected(12, 0);
      expected[6] = 5, expected[7] = -6, expected[8] = 7;
      EXPECT_EQ(v, expected);
    }
  });
}

TEST(CommP2P, BytesAndZeroLengthMessages) {
  pa3::run_ranks(3, [](Communicator& comm) {
    if (comm.rank() == 2) {
      const char text[] = "hello rank 0";
      comm.send_bytes(text, sizeof(text), 0, 9);
      comm.send_bytes(nullptr, 0, 1, 9);
    } else if (comm.rank() == 0) {
      char got[13] = {};
      comm.recv_bytes(got, sizeof(got), 2, 9);
      EXPECT_STREQ(got, "hello rank 0");
    } else {
      comm.recv_bytes(nullptr, 0, 2, 9);
    }
  });
}

// Tags select messages: rank 1 receives tag 2 before tag 1 although rank 0 posted tag 1 first.
TEST(CommP2P, TagsSelectMessages) {
  pa3::run_ranks(2, [](Communicator& comm) {
    if (comm.rank() == 0) {
      pa3::Request a = comm.isend(filled(4, 0, 1), 1, /*tag=*/1);
      pa3::Request b = comm.isend(filled(4, 0, 2), 1, /*tag=*/2);
      a.wait();
      b.wait();
    } else {
      Tensor t2 = mlsys::zeros({4}), t1 = mlsys::zeros({4});
      comm.recv(t2, 0, 2);
      comm.recv(t1, 0, 1);
      EXPECT_EQ(t2.to_vector<float>(), filled(4, 0, 2).to_vector<float>());
      EXPECT_EQ(t1.to_vector<float>(), filled(4, 0, 1).to_vector<float>());
    }
  });
}

// MPI's non-overtaking rule: same source, same tag -> received in the order sent, whether the
// receives are posted before or after the sends.
TEST(CommP2P, SameTagMessagesArriveInOrder) {
  constexpr int kMessages = 50;
  for (bool receives_first : {false, true}) {
    pa3::run_ranks(2, [&](Communicator& comm) {
      std::vector<Tensor> bufs;
      std::vector<pa3::Request> reqs;
      if (comm.rank() == 0) {
        if (receives_first) comm.barrier();
        for (int m = 0; m < kMessages; ++m) {
          bufs.push_back(mlsys::full({3}, static_cast<float>(m)));
          reqs.push_back(comm.isend(bufs.back(), 1, 5));
        }
        if (!receives_first) comm.barrier();
      } else {
        if (!receives_first) comm.barrier();
        for (int m = 0; m < kMessages; ++m) {
          bufs.push_back(mlsys::full({3}, -1.f));
          reqs.push_back(comm.irecv(bufs.back(), 0, 5));
        }
        if (receives_first) comm.barrier();
      }
      for (auto& r : reqs) r.wait();
      if (comm.rank() == 1) {
        for (int m = 0; m < kMessages; ++m) {
          EXPECT_EQ(bufs[m].to_vector<float>(), std::vector<float>(3, static_cast<float>(m)))
              << "message " << m << (receives_first ? " (receives posted first)" : "");
        }
      }
    });
  }
}

TEST(CommP2P, TestReportsCompletion) {
  pa3::run_ranks(2, [](Communicator& comm) {
    Tensor t = mlsys::zeros({2});
    if (comm.rank() == 1) {
      pa3::Request r = comm.irecv(t, 0);
      EXPECT_FALSE(r.test());  // rank 0 waits for the barrier before sending
      comm.barrier();
      r.wait();
      EXPECT_TRUE(r.test());
      EXPECT_EQ(t.to_vector<float>(), std::vector<float>({3.f, 3.f}));
    } else {
      comm.barrier();
      comm.send(mlsys::full({2}, 3.f), 1);
    }
  });
}

// Every rank sends to its right and receives from its left at once: with synchronous sends a
// ring of plain send-then-recv would deadlock; sendrecv must not.
TEST(CommP2P, SendrecvRingNoDeadlock) {
  for (int p : {1, 2, 3, 4, 5, 8}) {
    pa3::run_ranks(p, [p](Communicator& comm) {
      const int r = comm.rank();
      Tensor mine = filled(6, r);
      for (int step = 0; step < p - 1; ++step) {  // pass every block once around the ring
        Tensor got = mlsys::zeros({6});
        comm.sendrecv(mine, (r + 1) % p, got, (r - 1 + p) % p, step);
        mine = got;
      }
      // After p-1 steps rank r holds the block of rank r+1 (mod p).
      EXPECT_EQ(mine.to_vector<float>(), filled(6, (r + 1) % p).to_vector<float>()) << "p=" << p;
    });
  }
}

// A matched pair is copied by whichever of its two ranks waits (or tests, or destroys its
// request) first. Each rank here posts a receive, then blocks in a send that only the other
// rank's receive can match, so each send must complete by its own rank's copy: if the copy
// waited for the receiver's wait, both ranks would wait forever.
TEST(CommP2P, PostedReceiveLetsABlockingSendComplete) {
  pa3::ScopedDeadline deadline(5);
  pa3::run_ranks(2, [](Communicator& comm) {
    const int r = comm.rank(), other = 1 - r;
    Tensor got = mlsys::zeros({1000});
    pa3::Request req = comm.irecv(got, other, 7);
    comm.barrier();                       // both receives are posted
    comm.send(filled(1000, r), other, 7);  // matched at once, copied here
    req.wait();
    EXPECT_EQ(got.to_vector<float>(), filled(1000, other).to_vector<float>());
  });
}

// test() copies a matched pair too, and a request destroyed after its match delivers the
// message (as if waited for) so that the peer's blocking call completes.
TEST(CommP2P, TestAndDestructionCompleteAMatchedPair) {
  pa3::ScopedDeadline deadline(5);
  pa3::run_ranks(2, [](Communicator& comm) {
    if (comm.rank() == 0) {
      Tensor got = mlsys::zeros({300});
      pa3::Request req = comm.irecv(got, 1, 1);
      while (!req.test()) {
      }  // rank 1's isend matches, then one of the two copies; test() must get there
      EXPECT_EQ(got.to_vector<float>(), filled(300, 1).to_vector<float>());
      Tensor second = mlsys::zeros({300});
      {
        pa3::Request dropped = comm.irecv(second, 1, 2);
        comm.barrier();  // rank 1 posts its send after this: matched, not yet copied
        comm.barrier();
      }  // destroyed matched: delivers
      EXPECT_EQ(second.to_vector<float>(), filled(300, 1, 2).to_vector<float>());
    } else {
      pa3::Request s = comm.isend(filled(300, 1), 0, 1);
      s.wait();
      comm.barrier();
      Tensor payload = filled(300, 1, 2);
      pa3::Request s2 = comm.isend(payload, 0, 2);
      comm.barrier();
      s2.wait();  // completes whether rank 0's destructor or this wait made the copy
    }
  });
}

// Many ranks exchanging large messages at once, repeatedly: every byte arrives (the copies of
// different pairs run concurrently, outside the runtime's lock).
TEST(CommP2P, ConcurrentLargeExchangesDeliverEveryByte) {
  for (int p : {2, 3, 8}) {
    pa3::run_ranks(p, [p](Communicator& comm) {
      const int r = comm.rank();
      const int64_t n = 200003;
      for (int round = 0; round < 3; ++round) {
        Tensor got = mlsys::zeros({n});
        comm.sendrecv(filled(n, r, round), (r + 1) % p, got, (r - 1 + p) % p, round);
        std::vector<float> want = filled(n, (r - 1 + p) % p, round).to_vector<float>();
        ASSERT_EQ(got.to_vector<float>(), want) << "p=" << p << " round " << round;
      }
    });
  }
}

// ============================================================================================
// split: rows and columns of a grid
// ============================================================================================

// 6 ranks as a 2x3 grid, rank = row * 3 + col. Rows group ranks of one row (ordered by col),
// columns group ranks of one column (ordered by row).
TEST(CommSplit, GridRowsAndColumns) {
  static constexpr int kRows = 2, kCols = 3;
  pa3::run_ranks(kRows * kCols, [](Communicator& world) {
    const int row = world.rank() / kCols, col = world.rank() % kCols;
    Communicator row_comm = world.split(/*color=*/row, /*key=*/col);
    Communicator col_comm = world.split(/*color=*/col, /*key=*/row);
    EXPECT_EQ(row_comm.size(), kCols);
    EXPECT_EQ(row_comm.rank(), col);
    EXPECT_EQ(col_comm.size(), kRows);
    EXPECT_EQ(col_comm.rank(), row);

    // Sum of world ranks within each group, by an all-reduce on the sub-communicator.
    Tensor v = mlsys::full({1}, static_cast<float>(world.rank()));
    row_comm.native_all_reduce(v);
    EXPECT_EQ(v.item(), static_cast<float>(3 * row * kCols + 0 + 1 + 2));  // row*3+{0,1,2}
    Tensor w = mlsys::full({1}, static_cast<float>(world.rank()));
    col_comm.native_all_reduce(w);
    EXPECT_EQ(w.item(), static_cast<float>(col + (col + kCols)));

    // Point-to-point inside a column reaches the right world rank.
    Tensor t = mlsys::full({1}, static_cast<float>(world.rank()));
    if (col_comm.rank() == 0) {
      col_comm.send(t, 1);
    } else {
      col_comm.recv(t, 0);
      EXPECT_EQ(t.item(), static_cast<float>(col));  // world rank of (row 0, col)
    }
  });
}

// Keys order the new ranks: reversed keys give reversed ranks. Messages on a sub-communicator
// never match messages with the same tag on its parent.
TEST(CommSplit, KeysOrderRanksAndContextsAreSeparate) {
  pa3::run_ranks(4, [](Communicator& world) {
    Communicator rev = world.split(0, 3 - world.rank());
    EXPECT_EQ(rev.rank(), 3 - world.rank());
    EXPECT_EQ(rev.size(), 4);
    // world rank 0 is rev rank 3 and world rank 3 is rev rank 0.
    if (world.rank() == 0) {
      pa3::Request a = world.isend(mlsys::full({1}, 1.f), 3, 0);
      pa3::Request b = rev.isend(mlsys::full({1}, 2.f), 0, 0);  // rev rank 0 = world rank 3
      a.wait();
      b.wait();
    } else if (world.rank() == 3) {
      Tensor a = mlsys::zeros({1}), b = mlsys::zeros({1});
      rev.recv(b, 3, 0);  // posted first, but must only match the rev message
      world.recv(a, 0, 0);
      EXPECT_EQ(a.item(), 1.f);
      EXPECT_EQ(b.item(), 2.f);
    }
  });
}

// ============================================================================================
// Traffic counters
// ============================================================================================

TEST(CommStats, PointToPointCountsExact) {
  pa3::run_ranks(3, [](Communicator& comm) {
    const int r = comm.rank();
    if (r == 0) {
      comm.send(mlsys::zeros({10}), 1);                          // 40 bytes
      comm.send(mlsys::zeros({2, 3}, mlsys::DType::Int64), 2);  // 48 bytes
      char b[5] = {};
      comm.send_bytes(b, 5, 2, 1);
    } else if (r == 1) {
      comm.recv(mlsys::zeros({10}), 0);
    } else {
      comm.recv(mlsys::zeros({2, 3}, mlsys::DType::Int64), 0);
      char b[5];
      comm.recv_bytes(b, 5, 0, 1);
    }
    pa3::CommStats s = comm.stats();
    uint64_t sent[] = {93, 0, 0}, sent_msgs[] = {3, 0, 0};
    uint64_t recv[] = {0, 40, 53}, recv_msgs[] = {0, 1, 2};
    EXPECT_EQ(s.sent.bytes, sent[r]);
    EXPECT_EQ(s.sent.messages, sent_msgs[r]);
    EXPECT_EQ(s.received.bytes, recv[r]);
    EXPECT_EQ(s.received.messages, recv_msgs[r]);
    comm.reset_stats();
    EXPECT_EQ(comm.stats().sent.bytes, 0u);
  });
}

TEST(CommStats, ScopesAttributeBytes) {
  pa3::run_ranks(2, [](Communicator& comm) {
    const int other = 1 - comm.rank();
    Tensor a = mlsys::zeros({8}), b = mlsys::zeros({8});
    {
      pa3::CommScope outer(comm, "step");
      {
        pa3::CommScope inner(comm, "halo");
        comm.sendrecv(a, other, b, other);  // 32 bytes
      }
      comm.sendrecv(a.slice(0, 0, 2), other, b.slice(0, 0, 2), other);  // 8 bytes
    }
    comm.sendrecv(a, other, b, other);  // 32 bytes, no scope
    pa3::CommStats s = comm.stats();
    EXPECT_EQ(s.sent.bytes, 72u);
    EXPECT_EQ(s.sent.messages, 3u);
    EXPECT_EQ(s.sent_in_scope("step").bytes, 40u);
    EXPECT_EQ(s.sent_in_scope("step").messages, 2u);
    EXPECT_EQ(s.sent_in_scope("halo").bytes, 32u);
    EXPECT_EQ(s.sent_in_scope("never").bytes, 0u);
  });
}

// Each communicator counts its own traffic; the world does not see a sub-communicator's bytes.
TEST(CommStats, PerCommunicator) {
  pa3::run_ranks(4, [](Communicator& world) {
    Communicator pair = world.split(world.rank() / 2, world.rank());
    Tensor t = mlsys::zeros({3});
    Tensor u = mlsys::zeros({3});
    pair.sendrecv(t, 1 - pair.rank(), u, 1 - pair.rank());
    EXPECT_EQ(pair.stats().sent.bytes, 12u);
    EXPECT_EQ(world.stats().sent.bytes, 0u);  // split and barrier are not counted
  });
}

// ============================================================================================
// Deadlines and aborts: a bug is an error message, never a hang
// ============================================================================================

// Both ranks receive first: a deadlock. It must fail within the deadline, and the message must
// say what both ranks were doing.
TEST(CommDeadline, DeadlockNamesBothRanks) {
  pa3::ScopedDeadline deadline(1.0);
  std::string msg = message_of([] {
    pa3::run_ranks(2, [](Communicator& comm) {
      Tensor t = mlsys::zeros({4});
      comm.recv(t, 1 - comm.rank(), 7);
      comm.send(t, 1 - comm.rank(), 7);
    });
  });
  ASSERT_FALSE(msg.empty()) << "the deadlock was not reported";
  EXPECT_NE(msg.find("deadline of 1 s exceeded"), std::string::npos) << msg;
  EXPECT_NE(msg.find("rank 0: in recv, receiving from rank 1 (tag 7"), std::string::npos) << msg;
  EXPECT_NE(msg.find("rank 1: in recv, receiving from rank 0 (tag 7"), std::string::npos) << msg;
}

// Both ranks send first: synchronous sends deadlock too (as MPI may with large messages).
TEST(CommDeadline, SendSendDeadlockIsReported) {
  pa3::ScopedDeadline deadline(1.0);
  std::string msg = message_of([] {
    pa3::run_ranks(2, [](Communicator& comm) {
      Tensor t = mlsys::zeros({4});
      comm.send(t, 1 - comm.rank());
      comm.recv(t, 1 - comm.rank());
    });
  });
  EXPECT_NE(msg.find("rank 0: in send, sending to rank 1"), std::string::npos) << msg;
  EXPECT_NE(msg.find("rank 1: in send, sending to rank 0"), std::string::npos) << msg;
}

// The roll call also names ranks that finished or are computing, and the collective a rank
// waits in.
TEST(CommDeadline, RollCallShowsEveryRank) {
  pa3::ScopedDeadline deadline(1.0);
  std::string msg = message_of([] {
    pa3::run_ranks(3, [](Communicator& comm) {
      if (comm.rank() == 2) return;  // leaves early
      Tensor t = mlsys::zeros({5});
      comm.native_all_reduce(t);  // ranks 0 and 1 wait for rank 2 forever
    });
  });
  EXPECT_NE(msg.find("rank 2: finished"), std::string::npos) << msg;
  EXPECT_NE(msg.find("native_all_reduce"), std::string::npos) << msg;
}

// One rank throws; the others are blocked in receives with a long deadline. They must be
// stopped at once (an "aborted" error, not a deadline error), and run_ranks must rethrow the
// first failure with its rank.
TEST(CommAbort, ThrowingRankStopsAllOthers) {
  pa3::ScopedDeadline deadline(60.0);
  std::mutex mu;
  std::vector<std::string> others;
  std::string msg;
  try {
    pa3::run_ranks(4, [&](Communicator& comm) {
      if (comm.rank() == 2) throw mlsys::Error("boom in rank 2");
      try {
        Tensor t = mlsys::zeros({1});
        comm.recv(t, (comm.rank() + 1) % 4 == 2 ? 3 : 2);  // nobody ever sends
      } catch (const mlsys::Error& e) {
        std::lock_guard<std::mutex> lock(mu);
        others.push_back(e.what());
        throw;
      }
    });
  } catch (const pa3::RankFailed& e) {
    msg = e.what();
    EXPECT_EQ(e.rank(), 2);
  }
  EXPECT_EQ(msg, "rank 2: boom in rank 2");
  ASSERT_EQ(others.size(), 3u);
  for (const auto& m : others) {
    EXPECT_NE(m.find("aborted because rank 2 failed"), std::string::npos) << m;
    EXPECT_EQ(m.find("deadline"), std::string::npos) << m;
  }
}

// Collectives are stopped by an abort too; a rank that fails while the others wait in a
// collective is the error reported.
TEST(CommAbort, AbortReachesRanksInCollectives) {
  pa3::ScopedDeadline deadline(60.0);
  std::atomic<int> aborted{0};
  std::string msg = message_of([&] {
    pa3::run_ranks(5, [&](Communicator& comm) {
      if (comm.rank() == 4) throw std::runtime_error("rank 4 gives up");
      try {
        comm.native_all_reduce(mlsys::ones({1000}));
      } catch (const mlsys::Error& e) {
        if (std::string(e.what()).find("aborted because rank 4 failed") != std::string::npos)
          ++aborted;
        throw;
      }
    });
  });
  EXPECT_EQ(msg, "rank 4: rank 4 gives up");
  EXPECT_EQ(aborted.load(), 4);
}

// After a failed run, the next run_ranks starts clean.
TEST(CommAbort, NextRunIsIndependent) {
  EXPECT_THROW(pa3::run_ranks(2, [](Communicator&) { throw mlsys::Error("x"); }),
               pa3::RankFailed);
  pa3::run_ranks(2, [](Communicator& comm) {
    Tensor t = mlsys::full({1}, 1.f);
    comm.native_all_reduce(t);
    EXPECT_EQ(t.item(), 2.f);
  });
}
