// Per-tag accounting of host tensor memory (see mlsys/memory_stats.h). One mutex guards a
// table from storage address to (tag, bytes); it is only touched when some thread has a tag.
#include "mlsys/memory_stats.h"

#include <algorithm>
#include <mutex>
#include <unordered_map>
#include <utility>

#include "mlsys/error.h"

namespace mlsys::memory {
namespace {
struct Table {
  std::mutex mu;
  std::unordered_map<const void*, std::pair<int, size_t>> blocks;
  std::unordered_map<int, Usage> usage;
};

Table& table() {
  static Table* t = new Table();  // never destroyed: storages may outlive statics
  return *t;
}
}  // namespace

void set_thread_tag(int tag) {
  MLSYS_CHECK(tag >= kUntagged, "memory::set_thread_tag",
              "argument 'tag' must be >= 0 (or kUntagged = -1), got ", tag);
  detail::current_tag = tag;
}

int thread_tag() { return detail::current_tag; }

Usage usage(int tag) {
  Table& t = table();
  std::lock_guard<std::mutex> lock(t.mu);
  auto it = t.usage.find(tag);
  return it == t.usage.end() ? Usage{} : it->second;
}

void reset_peak(int tag) {
  Table& t = table();
  std::lock_guard<std::mutex> lock(t.mu);
  Usage& u = t.usage[tag];
  u.peak_bytes = u.live_bytes;
}

namespace detail {
void record_alloc(const void* data, size_t nbytes, int tag) {
  Table& t = table();
  std::lock_guard<std::mutex> lock(t.mu);
  t.blocks[data] = {tag, nbytes};
  Usage& u = t.usage[tag];
  u.live_bytes += static_cast<int64_t>(nbytes);
  u.live_blocks += 1;
  u.peak_bytes = std::max(u.peak_bytes, u.live_bytes);
  tagged_blocks.fetch_add(1, std::memory_order_relaxed);
}

void record_free(const void* data) {
  Table& t = table();
  std::lock_guard<std::mutex> lock(t.mu);
  auto it = t.blocks.find(data);
  if (it == t.blocks.end()) return;  // allocated untagged
  Usage& u = t.usage[it->second.first];
  u.live_bytes -= static_cast<int64_t>(it->second.second);
  u.live_blocks -= 1;
  t.blocks.erase(it);
  tagged_blocks.fetch_sub(1, std::memory_order_relaxed);
}
}  // namespace detail

}  // namespace mlsys::memory
