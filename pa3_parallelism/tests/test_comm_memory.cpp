// Per-rank memory accounting: the tensor library charges every CPU storage to the allocating
// thread's tag (mlsys/memory_stats.h) and run_ranks tags each rank thread with its rank.
// Expected values are sizes computed from shapes (numel * dtype size).
#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "mlsys/memory_stats.h"
#include "mlsys/tensor.h"
#include "pa3/comm.h"

using mlsys::Tensor;
namespace memory = mlsys::memory;

namespace {
constexpr int kTag = 4242;  // not a rank any test uses
}

TEST(MemoryStats, LiveAndPeakPerTag) {
  memory::ScopedTag tag(kTag);
  memory::Usage start = memory::usage(kTag);
  memory::reset_peak(kTag);
  {
    Tensor a = mlsys::zeros({1000});                      // 4000 bytes
    Tensor b = mlsys::zeros({4}, mlsys::DType::Int64);    // 32 bytes (inline storage)
    Tensor view = a.reshape({10, 100}).slice(0, 2, 5);    // a view: no new storage
    memory::Usage u = memory::usage(kTag);
    EXPECT_EQ(u.live_bytes - start.live_bytes, 4032);
    EXPECT_EQ(u.live_blocks - start.live_blocks, 2);
    a = Tensor();                                         // view still holds a's storage
    EXPECT_EQ(memory::usage(kTag).live_bytes - start.live_bytes, 4032);
    view = Tensor();                                      // now it is freed
    u = memory::usage(kTag);
    EXPECT_EQ(u.live_bytes - start.live_bytes, 32);
    EXPECT_EQ(u.peak_bytes - start.live_bytes, 4032);
  }
  memory::Usage end = memory::usage(kTag);
  EXPECT_EQ(end.live_bytes, start.live_bytes);
  memory::reset_peak(kTag);
  EXPECT_EQ(memory::usage(kTag).peak_bytes, end.live_bytes);
}

// Untagged threads are not counted; a block freed on another thread is credited to the tag it
// was charged to.
TEST(MemoryStats, UntaggedAndCrossThreadFree) {
  memory::Usage start = memory::usage(kTag + 1);
  Tensor t;
  std::thread producer([&] {
    memory::ScopedTag tag(kTag + 1);
    t = mlsys::zeros({256});  // 1024 bytes
    Tensor untagged;
    {
      memory::ScopedTag off(memory::kUntagged);
      untagged = mlsys::zeros({512});
    }
    EXPECT_EQ(memory::usage(kTag + 1).live_bytes - start.live_bytes, 1024);
  });
  producer.join();
  EXPECT_EQ(memory::thread_tag(), memory::kUntagged);
  EXPECT_EQ(memory::usage(kTag + 1).live_bytes - start.live_bytes, 1024);
  t = Tensor();  // freed on this (untagged) thread
  EXPECT_EQ(memory::usage(kTag + 1).live_bytes, start.live_bytes);
  EXPECT_THROW(memory::set_thread_tag(-5), mlsys::Error);
}

// Each rank holds a shard of 1/p of a vector of n floats: its live bytes grow by 4 n / p, and
// the peak of a rank that also briefly held the full vector is 4 n above its start.
TEST(MemoryStats, RunRanksTagsEachRank) {
  constexpr int64_t n = 12000;
  constexpr int p = 4;
  pa3::run_ranks(p, [](pa3::Communicator& comm) {
    const int r = comm.rank();
    EXPECT_EQ(memory::thread_tag(), r);
    memory::Usage start = memory::usage(r);
    EXPECT_EQ(start.peak_bytes, start.live_bytes);  // run_ranks reset the peak
    Tensor shard = mlsys::zeros({n / p});
    EXPECT_EQ(memory::usage(r).live_bytes - start.live_bytes, 4 * n / p);
    if (r == 0) {
      Tensor full = mlsys::zeros({n});
    }
    comm.barrier();
    memory::Usage now = memory::usage(r);
    EXPECT_EQ(now.live_bytes - start.live_bytes, 4 * n / p);
    EXPECT_EQ(now.peak_bytes - start.live_bytes, r == 0 ? 4 * n + 4 * n / p : 4 * n / p);
  });
}
