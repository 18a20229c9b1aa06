// mlsys/memory_stats.h — host memory held by tensors, counted per tag.
//
// Each thread has a current tag (an int; kUntagged by default). Every CPU Storage allocated
// while a tag is set is charged to that tag, and credited back to the same tag when it is
// freed, on whichever thread. Views share storage and cost nothing; only new storages count,
// at their requested size (nbytes, not the allocator's rounding). Untagged allocations are not
// tracked and cost one thread-local read.
//
// PA3's run_ranks tags every rank thread with its rank, so a test can compare the memory a
// rank holds with a formula:
//
//   auto before = mlsys::memory::usage(comm.rank()).live_bytes;
//   Tensor shard = mlsys::zeros({n / p});
//   EXPECT_EQ(mlsys::memory::usage(comm.rank()).live_bytes - before, 4 * (n / p));
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace mlsys::memory {

constexpr int kUntagged = -1;

struct Usage {
  int64_t live_bytes = 0;   // bytes of storages charged to the tag and not yet freed
  int64_t peak_bytes = 0;   // the largest live_bytes since the tag was first used or reset_peak
  int64_t live_blocks = 0;  // number of such storages
};

// The calling thread's tag (>= 0, or kUntagged to stop counting).
void set_thread_tag(int tag);
int thread_tag();

// Sets the calling thread's tag for the lifetime of the object, then restores the previous one.
class ScopedTag {
 public:
  explicit ScopedTag(int tag) : previous_(thread_tag()) { set_thread_tag(tag); }
  ~ScopedTag() { set_thread_tag(previous_); }
  ScopedTag(const ScopedTag&) = delete;
  ScopedTag& operator=(const ScopedTag&) = delete;

 private:
  int previous_;
};

Usage usage(int tag);
// Sets the tag's peak to its current live bytes.
void reset_peak(int tag);

// ---- hooks called by Storage (CPU storages only) ------------------------------------------
namespace detail {
inline thread_local int current_tag = kUntagged;
inline std::atomic<int64_t> tagged_blocks{0};  // live tagged storages, over all tags
void record_alloc(const void* data, size_t nbytes, int tag);
void record_free(const void* data);
}  // namespace detail

inline void on_alloc(const void* data, size_t nbytes) {
  if (detail::current_tag != kUntagged) detail::record_alloc(data, nbytes, detail::current_tag);
}
inline void on_free(const void* data) {
  if (detail::tagged_blocks.load(std::memory_order_relaxed) > 0) detail::record_free(data);
}

}  // namespace mlsys::memory
