// node_pool.h — where graph nodes live (staff code, internal).
//
// Every node is one allocation (the Node and its shared_ptr control block, through
// std::allocate_shared). A 100,000-node chain and its gradient make ~275,000 of them, and at
// that count general-purpose malloc costs a lot: the blocks are too large for glibc's fast
// bins, so every free coalesces neighbours and every large request consolidates. NodeAllocator
// hands out fixed-size blocks from 2 MiB slabs (2 MiB-aligned, huge pages where Linux allows)
// instead:
//   - each thread keeps its own free list, so the hot path takes no lock;
//   - a block freed on another thread joins that thread's list;
//   - when a thread ends, its list goes to a shared list that other threads refill from;
//   - slabs are kept for the life of the process (freed nodes are reused by later graphs, so
//     memory stays at the peak number of live nodes, which is what malloc would keep too).
// Nodes made one after another sit next to each other in memory, which also helps every walk
// along a chain (topological sort, gradients, planning, destruction).
//
// Under AddressSanitizer the pool steps aside (plain new/delete), so that ASan still sees every
// use after free of a node.
#pragma once

#include <cstddef>
#include <mutex>
#include <new>
#include <vector>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace pa1::detail {

#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kUseNodePool = false;
#else
inline constexpr bool kUseNodePool = true;
#endif

template <size_t kSize, size_t kAlign>
class BlockPool {
  struct FreeBlock {
    FreeBlock* next;
  };
  static constexpr size_t kAlignment = kAlign < alignof(FreeBlock) ? alignof(FreeBlock) : kAlign;
  static constexpr size_t kBlock =
      ((kSize < sizeof(FreeBlock) ? sizeof(FreeBlock) : kSize) + kAlignment - 1) / kAlignment * kAlignment;
  static constexpr size_t kSlabBytes = 2 * 1024 * 1024;
  static constexpr size_t kPerSlab = kSlabBytes / kBlock;
  static_assert(kPerSlab >= 16, "BlockPool is for small objects");

  // Blocks handed back by threads that ended, and every slab (reachable, for leak checkers).
  struct Shared {
    std::mutex mu;
    FreeBlock* head = nullptr;
    std::vector<void*> slabs;
  };
  static Shared& shared() {
    static Shared* s = new Shared;  // never destroyed: threads may free nodes during exit
    return *s;
  }

  // Per thread: a free list and the unused tail of the current slab. Trivially destructible,
  // so it stays usable while static objects (a global NodePtr) are destroyed at exit.
  struct Local {
    FreeBlock* head;
    char* cur;
    char* end;
    bool registered;  // the ThreadExit below exists for this thread
    bool exited;      // it has run: go through the shared list from now on
  };
  static inline thread_local Local local_{nullptr, nullptr, nullptr, false, false};

  // Hands the thread's free list to the shared list when the thread ends.
  struct ThreadExit {
    ~ThreadExit() {
      Local& l = local_;
      l.exited = true;
      if (l.head == nullptr) return;
      FreeBlock* tail = l.head;
      while (tail->next != nullptr) tail = tail->next;
      Shared& s = shared();
      std::lock_guard<std::mutex> lock(s.mu);
      tail->next = s.head;
      s.head = l.head;
      l.head = nullptr;
    }
  };
  static void register_thread(Local& l) {
    thread_local ThreadExit exit_hook;
    (void)exit_hook;
    l.registered = true;
  }

  static void* refill(Local& l) {
    Shared& s = shared();
    std::lock_guard<std::mutex> lock(s.mu);
    if (s.head != nullptr) {
      FreeBlock* b = s.head;
      s.head = b->next;
      if (!l.exited) {  // take the rest of the shared list too
        l.head = s.head;
        s.head = nullptr;
      }
      return b;
    }
    char* slab = static_cast<char*>(::operator new(kSlabBytes, std::align_val_t(kSlabBytes)));
#if defined(MADV_HUGEPAGE)
    // One 2 MiB page per slab where the kernel allows it (transparent huge pages in "madvise"
    // mode, the common default): a walk over 100,000 nodes then misses the TLB ~30 times, not
    // ~15,000. Only a hint; nothing depends on it.
    madvise(slab, kSlabBytes, MADV_HUGEPAGE);
#endif
    s.slabs.push_back(slab);
    if (l.exited) {  // no thread-local slab any more: put the rest on the shared list
      for (size_t i = 1; i < kPerSlab; ++i) {
        auto* b = reinterpret_cast<FreeBlock*>(slab + i * kBlock);
        b->next = s.head;
        s.head = b;
      }
      return slab;
    }
    l.cur = slab + kBlock;
    l.end = slab + kPerSlab * kBlock;
    return slab;
  }

 public:
  static void* allocate() {
    Local& l = local_;
    if (l.head != nullptr) {
      FreeBlock* b = l.head;
      l.head = b->next;
      return b;
    }
    if (l.cur != l.end) {
      void* p = l.cur;
      l.cur += kBlock;
      return p;
    }
    if (!l.registered && !l.exited) register_thread(l);
    return refill(l);
  }

  static void deallocate(void* p) {
    Local& l = local_;
    auto* b = static_cast<FreeBlock*>(p);
    if (l.exited) {
      Shared& s = shared();
      std::lock_guard<std::mutex> lock(s.mu);
      b->next = s.head;
      s.head = b;
      return;
    }
    if (!l.registered) register_thread(l);
    b->next = l.head;
    l.head = b;
  }
};

// The allocator std::allocate_shared<Node> is given: single objects come from the BlockPool of
// their size, anything else from operator new.
template <typename T>
struct NodeAllocator {
  using value_type = T;
  NodeAllocator() = default;
  template <typename U>
  NodeAllocator(const NodeAllocator<U>&) {}

  T* allocate(size_t n) {
    if (kUseNodePool && n == 1) return static_cast<T*>(BlockPool<sizeof(T), alignof(T)>::allocate());
    return static_cast<T*>(::operator new(n * sizeof(T), std::align_val_t(alignof(T))));
  }
  void deallocate(T* p, size_t n) {
    if (kUseNodePool && n == 1) return BlockPool<sizeof(T), alignof(T)>::deallocate(p);
    ::operator delete(p, std::align_val_t(alignof(T)));
  }
  template <typename U>
  bool operator==(const NodeAllocator<U>&) const { return true; }
  template <typename U>
  bool operator!=(const NodeAllocator<U>&) const { return false; }
};

}  // namespace pa1::detail
