// NodeMap<V>: a map from node to a value, for walks that visit the nodes of a graph once (the
// executor's planning; topological_sort and gradients() may use it instead of
// std::unordered_map):
//
//   NodeMap<int32_t> pos;                       // empty
//   auto [p, fresh] = pos.emplace(n.get(), 7);  // p -> the value (the old one when !fresh)
//   if (int32_t* q = pos.find(n.get())) ...     // nullptr when absent
//
// Values never move: pointers returned by find/emplace stay valid as long as the map. Entries
// cannot be erased.
//
// How it works (staff): keyed by the node's id. Ids are unique and increase in creation
// order, and a graph's nodes are mostly made one after the other, so the map is a table of
// pages, each a flat array over kPageSize consecutive ids: a lookup is one probe into a small
// page table (which stays in cache) and one array access next to the previous one.
// std::unordered_map keyed by address allocates a list node per entry and lands on a random
// cache line per lookup. Memory is one page (kPageSize = 64 values and flags) per run of 64
// ids that holds any key: at worst one page per key, for a graph whose nodes were each made
// far apart from the others.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "pa1/graph.h"

namespace pa1 {

template <typename V>
class NodeMap {
 public:
  NodeMap() { table_.assign(16, Slot{}); }

  V* find(const Node* n) {
    Page* p = page(n->id >> kPageBits, false);
    const size_t i = static_cast<size_t>(n->id) & (kPageSize - 1);
    return p != nullptr && p->used[i] ? &p->vals[i] : nullptr;
  }

  // Adds n -> value unless n is there; returns the entry's value and whether it was added.
  std::pair<V*, bool> emplace(const Node* n, V value) {
    Page* p = page(n->id >> kPageBits, true);
    const size_t i = static_cast<size_t>(n->id) & (kPageSize - 1);
    if (p->used[i]) return {&p->vals[i], false};
    p->used[i] = true;
    p->vals[i] = std::move(value);
    ++size_;
    return {&p->vals[i], true};
  }

  size_t size() const { return size_; }

 private:
  static constexpr int kPageBits = 6;
  static constexpr size_t kPageSize = size_t{1} << kPageBits;
  struct Page {
    V vals[kPageSize];
    bool used[kPageSize] = {};
  };
  struct Slot {
    int64_t key = -1;  // page number (id >> kPageBits); -1: empty
    Page* page = nullptr;
  };

  // The page holding ids [key << kPageBits, (key + 1) << kPageBits), made when `create`.
  // Open addressing with linear probing over page numbers; the last page found is cached.
  Page* page(int64_t key, bool create) {
    if (key == last_key_) return last_page_;
    const size_t mask = table_.size() - 1;
    size_t s = static_cast<size_t>(static_cast<uint64_t>(key) * 0x9E3779B97F4A7C15ull >> 20) & mask;
    for (; table_[s].key != -1; s = (s + 1) & mask) {
      if (table_[s].key == key) {
        last_key_ = key;
        return last_page_ = table_[s].page;
      }
    }
    if (!create) return nullptr;
    Page* fresh = new_page();
    table_[s] = Slot{key, fresh};
    if (2 * n_pages_ > table_.size()) grow();
    last_key_ = key;
    return last_page_ = fresh;
  }
  // Pages come in chunks that double in size (up to 256 pages), not one allocation each: a
  // stream of 1 KiB allocations would make glibc consolidate its fast bins every time.
  Page* new_page() {
    if (chunk_left_ == 0) {
      const size_t n = std::min<size_t>(256, std::max<size_t>(4, n_pages_));
      chunks_.push_back(std::make_unique<Page[]>(n));
      chunk_next_ = chunks_.back().get();
      chunk_left_ = n;
    }
    --chunk_left_;
    ++n_pages_;
    return chunk_next_++;
  }
  void grow() {
    std::vector<Slot> old = std::move(table_);
    table_.assign(old.size() * 2, Slot{});
    const size_t mask = table_.size() - 1;
    for (const Slot& e : old) {
      if (e.key == -1) continue;
      size_t s = static_cast<size_t>(static_cast<uint64_t>(e.key) * 0x9E3779B97F4A7C15ull >> 20) & mask;
      while (table_[s].key != -1) s = (s + 1) & mask;
      table_[s] = e;
    }
  }

  std::vector<Slot> table_;
  std::vector<std::unique_ptr<Page[]>> chunks_;
  Page* chunk_next_ = nullptr;
  size_t chunk_left_ = 0;
  size_t n_pages_ = 0;
  int64_t last_key_ = -1;
  Page* last_page_ = nullptr;
  size_t size_ = 0;
};

}  // namespace pa1
