// The parts of every backend that are built on point-to-point messages: the traffic counters,
// the consistency check that runs before each collective, and the reference ring collectives.
#include "pa3/backend.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <sstream>

#include "comm_internal.h"

namespace pa3 {

const char* to_string(ElemType type) {
  switch (type) {
    case ElemType::Bytes: return "bytes";
    case ElemType::Float32: return "float32";
    case ElemType::Float64: return "float64";
    case ElemType::Int32: return "int32";
    case ElemType::Int64: return "int64";
  }
  return "?";
}

size_t elem_size(ElemType type) {
  switch (type) {
    case ElemType::Bytes: return 1;
    case ElemType::Float32: return 4;
    case ElemType::Float64: return 8;
    case ElemType::Int32: return 4;
    case ElemType::Int64: return 8;
  }
  return 1;
}

ElemType elem_type_of(mlsys::DType dtype) {
  switch (dtype) {
    case mlsys::DType::Float32: return ElemType::Float32;
    case mlsys::DType::Int32: return ElemType::Int32;
    case mlsys::DType::Int64: return ElemType::Int64;
  }
  return ElemType::Bytes;
}

const char* to_string(CollectiveKind kind) {
  switch (kind) {
    case CollectiveKind::AllReduce: return "native_all_reduce";
    case CollectiveKind::ReduceScatter: return "native_reduce_scatter";
    case CollectiveKind::AllGather: return "native_all_gather";
    case CollectiveKind::Broadcast: return "native_broadcast";
    case CollectiveKind::Barrier: return "barrier";
    case CollectiveKind::Split: return "split";
    case CollectiveKind::CheckSame: return "check_same";
  }
  return "?";
}

Chunk chunk_of(int64_t n, int parts, int index) {
  MLSYS_CHECK(n >= 0, "pa3::chunk_of", "argument 'n' must be >= 0, got ", n);
  MLSYS_CHECK(parts >= 1, "pa3::chunk_of", "argument 'parts' must be >= 1, got ", parts);
  MLSYS_CHECK(index >= 0 && index < parts, "pa3::chunk_of", "argument 'index' must be in 0..",
              parts - 1, ", got ", index);
  int64_t base = n / parts, extra = n % parts;
  Chunk c;
  c.begin = index * base + std::min<int64_t>(index, extra);
  c.size = base + (index < extra ? 1 : 0);
  return c;
}

Counts CommStats::sent_in_scope(const std::string& scope) const {
  auto it = sent_in.find(scope);
  return it == sent_in.end() ? Counts{} : it->second;
}

// ============================================================================================
// Counters and scopes
// ============================================================================================

void Backend::count_sent(uint64_t bytes, uint64_t messages) {
  std::lock_guard<std::mutex> lock(stats_mutex_);
  stats_.sent.bytes += bytes;
  stats_.sent.messages += messages;
  // Each distinct open scope counts once (a recursive scope of the same name is not doubled).
  for (size_t i = 0; i < scopes_.size(); ++i) {
    if (std::find(scopes_.begin(), scopes_.begin() + i, scopes_[i]) != scopes_.begin() + i)
      continue;
    Counts& c = stats_.sent_in[scopes_[i]];
    c.bytes += bytes;
    c.messages += messages;
  }
}

void Backend::count_received(uint64_t bytes, uint64_t messages) {
  std::lock_guard<std::mutex> lock(stats_mutex_);
  stats_.received.bytes += bytes;
  stats_.received.messages += messages;
}

void Backend::push_scope(const std::string& name) {
  std::lock_guard<std::mutex> lock(stats_mutex_);
  scopes_.push_back(name);
}

void Backend::pop_scope() {
  std::lock_guard<std::mutex> lock(stats_mutex_);
  if (!scopes_.empty()) scopes_.pop_back();
}

std::string Backend::current_scope() const {
  std::lock_guard<std::mutex> lock(stats_mutex_);
  return scopes_.empty() ? std::string() : scopes_.back();
}

CommStats Backend::stats() const {
  std::lock_guard<std::mutex> lock(stats_mutex_);
  return stats_;
}

void Backend::reset_stats() {
  std::lock_guard<std::mutex> lock(stats_mutex_);
  stats_ = CommStats{};
}

// ============================================================================================
// Point-to-point helpers
// ============================================================================================

void Backend::exchange(const void* send_data, size_t send_nbytes, int dst, void* recv_data,
                       size_t recv_nbytes, int src, int tag, ElemType type, bool counted,
                       const char* op) {
  auto r = irecv(recv_data, recv_nbytes, type, src, tag, Channel::Collective, op);
  auto s = isend(send_data, send_nbytes, type, dst, tag, Channel::Collective, op);
  if (counted) {
    count_sent(send_nbytes, 1);
    count_received(recv_nbytes, 1);
  }
  r->wait();
  s->wait();
}

namespace {
std::string describe_call(const CollectiveCall& c) {
  std::ostringstream os;
  os << to_string(c.kind);
  switch (c.kind) {
    case CollectiveKind::AllReduce:
    case CollectiveKind::ReduceScatter:
    case CollectiveKind::AllGather:
      os << " of n=" << c.count << " " << to_string(static_cast<ElemType>(c.elem));
      break;
    case CollectiveKind::Broadcast:
      os << " of " << c.count << " bytes from root " << c.root;
      break;
    case CollectiveKind::Split:
      os << "(color " << c.color << ", key " << c.key << ")";
      break;
    case CollectiveKind::CheckSame:
      os << "(" << c.count << ")";
      break;
    default:
      break;
  }
  return os.str();
}

bool same_call(const CollectiveCall& a, const CollectiveCall& b) {
  return a.kind == b.kind && a.elem == b.elem && a.count == b.count && a.root == b.root;
}
}  // namespace

// Every rank learns every rank's call (a ring all-gather of 32-byte records), so that every
// rank throws the same error on a mismatch: no rank is left waiting in the collective.
void Backend::check_consistent(const CollectiveCall& call, const char* op) {
  check_calls(gather_calls(call, op), op);
}

void Backend::check_calls(const std::vector<CollectiveCall>& calls, const char* op) const {
  for (int r = 0; r < size(); ++r) {
    if (same_call(calls[r], calls[0])) continue;
    std::ostringstream os;
    os << "pa3::" << op << ": the ranks of communicator '" << name()
       << "' made different collective calls (every rank must call the same collective with "
          "the same length and root):";
    for (int q = 0; q < size(); ++q) os << "\n  rank " << q << ": " << describe_call(calls[q]);
    throw mlsys::Error(os.str());
  }
}

void Backend::check_same(int64_t value, const char* what, const char* op) {
  CollectiveCall call{CollectiveKind::CheckSame, 0, value, -1, 0, 0};
  std::vector<CollectiveCall> calls = gather_calls(call, op);
  for (const CollectiveCall& c : calls) {
    if (c.kind != CollectiveKind::CheckSame) check_calls(calls, op);  // another collective
  }
  for (int r = 0; r < size(); ++r) {
    if (calls[r].count == calls[0].count) continue;
    std::ostringstream os;
    os << op << ": argument '" << what << "' must be the same on every rank of communicator '"
       << name() << "', got:";
    for (int q = 0; q < size(); ++q) os << "\n  rank " << q << ": " << calls[q].count;
    throw mlsys::Error(os.str());
  }
}

std::vector<CollectiveCall> Backend::gather_calls(const CollectiveCall& call, const char* op) {
  std::vector<CollectiveCall> calls(static_cast<size_t>(size()));
  calls[rank()] = call;
  ring_all_gather_inplace(reinterpret_cast<unsigned char*>(calls.data()), size(),
                          sizeof(CollectiveCall), kTagCheck, false, op);
  return calls;
}

// ============================================================================================
// Ring collectives
// ============================================================================================
//
// Ranks form a ring r -> r+1. The n elements are cut into p chunks (chunk_of). Reduce-scatter:
// in step s = 0..p-2, rank r sends chunk r-s-1 to r+1 and adds chunk r-s-2 received from
// r-1 into its own copy; after p-1 steps chunk r on rank r holds the sum of all ranks.
// All-gather: in step s, rank r sends chunk r-s (which it holds complete) and receives chunk
// r-s-1. All-reduce is reduce-scatter followed by all-gather.

namespace {
int mod(int a, int p) { return ((a % p) + p) % p; }

// Scratch memory of the native collectives: one growing buffer per thread and purpose, kept
// between calls so that repeated collectives neither allocate nor touch fresh pages (freed
// when the thread ends; the tensor memory accounting does not count them). Per thread, so
// that two threads of one rank (its own and a CommWorker) never share one.
enum Scratch { kIncoming = 0, kWork = 1 };
unsigned char* scratch(Scratch which, size_t bytes) {
  struct Buffer {
    std::unique_ptr<unsigned char[]> data;
    size_t size = 0;
  };
  thread_local Buffer buffers[2];
  Buffer& b = buffers[which];
  if (b.size < bytes) {
    b.data.reset(new unsigned char[bytes]);
    b.size = bytes;
  }
  return b.data.get();
}
}  // namespace


template <typename T>
void Backend::ring_reduce_scatter_inplace(T* data, int64_t n, const char* op) {
  const int p = size(), r = rank();
  if (p == 1) return;
  const ElemType type = sizeof(T) == 4 ? ElemType::Float32 : ElemType::Float64;
  T* incoming = reinterpret_cast<T*>(
      scratch(kIncoming, static_cast<size_t>(chunk_of(n, p, 0).size) * sizeof(T)));
  for (int s = 0; s < p - 1; ++s) {
    Chunk out = chunk_of(n, p, mod(r - s - 1, p));
    Chunk in = chunk_of(n, p, mod(r - s - 2, p));
    exchange(data + out.begin, out.size * sizeof(T), mod(r + 1, p), incoming,
             in.size * sizeof(T), mod(r - 1, p), kTagPayload, type, true, op);
    T* mine = data + in.begin;
    for (int64_t i = 0; i < in.size; ++i) mine[i] = incoming[i] + mine[i];
  }
}

void Backend::ring_all_gather_inplace(unsigned char* data, int64_t n, size_t elem_bytes,
                                      int tag, bool counted, const char* op) {
  const int p = size(), r = rank();
  for (int s = 0; s < p - 1; ++s) {
    Chunk out = chunk_of(n, p, mod(r - s, p));
    Chunk in = chunk_of(n, p, mod(r - s - 1, p));
    exchange(data + out.begin * elem_bytes, out.size * elem_bytes, mod(r + 1, p),
             data + in.begin * elem_bytes, in.size * elem_bytes, mod(r - 1, p), tag,
             ElemType::Bytes, counted, op);
  }
}

void Backend::all_reduce_sum(void* data, int64_t n, ElemType type) {
  const char* op = "native_all_reduce";
  detail::NativeScope scope(*this, op);
  check_consistent({CollectiveKind::AllReduce, static_cast<int32_t>(type), n, -1, 0, 0}, op);
  if (type == ElemType::Float32)
    ring_reduce_scatter_inplace(static_cast<float*>(data), n, op);
  else
    ring_reduce_scatter_inplace(static_cast<double*>(data), n, op);
  ring_all_gather_inplace(static_cast<unsigned char*>(data), n, elem_size(type), kTagPayload,
                          true, op);
}

void Backend::reduce_scatter_sum(const void* in, void* out, int64_t n, ElemType type) {
  const char* op = "native_reduce_scatter";
  detail::NativeScope scope(*this, op);
  check_consistent({CollectiveKind::ReduceScatter, static_cast<int32_t>(type), n, -1, 0, 0}, op);
  const size_t es = elem_size(type);
  unsigned char* work = scratch(kWork, static_cast<size_t>(n) * es);
  if (n > 0) std::memcpy(work, in, static_cast<size_t>(n) * es);
  if (type == ElemType::Float32)
    ring_reduce_scatter_inplace(reinterpret_cast<float*>(work), n, op);
  else
    ring_reduce_scatter_inplace(reinterpret_cast<double*>(work), n, op);
  Chunk mine = chunk_of(n, size(), rank());
  if (mine.size > 0) std::memcpy(out, work + mine.begin * es, mine.size * es);
}

void Backend::all_gather(const void* in, void* out, int64_t n, ElemType type) {
  const char* op = "native_all_gather";
  detail::NativeScope scope(*this, op);
  check_consistent({CollectiveKind::AllGather, static_cast<int32_t>(type), n, -1, 0, 0}, op);
  const size_t es = elem_size(type);
  Chunk mine = chunk_of(n, size(), rank());
  auto* bytes = static_cast<unsigned char*>(out);
  if (mine.size > 0) std::memmove(bytes + mine.begin * es, in, mine.size * es);
  ring_all_gather_inplace(bytes, n, es, kTagPayload, true, op);
}

// A chain along the ring: root -> root+1 -> ... -> root-1.
void Backend::broadcast(void* data, size_t nbytes, int root) {
  const char* op = "native_broadcast";
  detail::NativeScope scope(*this, op);
  check_consistent({CollectiveKind::Broadcast, static_cast<int32_t>(ElemType::Bytes),
                    static_cast<int64_t>(nbytes), root, 0, 0},
                   op);
  const int p = size(), r = rank();
  const int rel = mod(r - root, p);
  if (rel > 0) {
    auto req = irecv(data, nbytes, ElemType::Bytes, mod(r - 1, p), kTagPayload,
                     Channel::Collective, op);
    count_received(nbytes, 1);
    req->wait();
  }
  if (rel < p - 1) {
    auto req = isend(data, nbytes, ElemType::Bytes, mod(r + 1, p), kTagPayload,
                     Channel::Collective, op);
    count_sent(nbytes, 1);
    req->wait();
  }
}

// Dissemination barrier: in round k every rank signals rank r + 2^k and waits for r - 2^k;
// after ceil(log2 p) rounds every rank has (transitively) heard from every other.
void Backend::barrier() {
  const char* op = "barrier";
  check_consistent({CollectiveKind::Barrier, 0, 0, -1, 0, 0}, op);
  const int p = size(), r = rank();
  for (int k = 1; k < p; k *= 2) {
    exchange(nullptr, 0, mod(r + k, p), nullptr, 0, mod(r - k, p), kTagBarrier,
             ElemType::Bytes, false, op);
  }
}

std::shared_ptr<Backend> Backend::split(int color, int key) {
  const char* op = "split";
  CollectiveCall call{CollectiveKind::Split, 0, 0, -1, color, key};
  std::vector<CollectiveCall> calls = gather_calls(call, op);
  check_calls(calls, op);
  // Keys must differ within a color: two equal keys almost always mean a wrong grid formula.
  for (int a = 0; a < size(); ++a) {
    for (int b = a + 1; b < size(); ++b) {
      if (calls[a].color == calls[b].color && calls[a].key == calls[b].key) {
        std::ostringstream os;
        os << "pa3::split: ranks " << a << " and " << b << " of communicator '" << name()
           << "' both passed color " << calls[a].color << " and key " << calls[a].key
           << "; keys must differ within a color (they give the ranks' order in the new "
              "communicator). All (color, key):";
        for (int q = 0; q < size(); ++q)
          os << "\n  rank " << q << ": (" << calls[q].color << ", " << calls[q].key << ")";
        throw mlsys::Error(os.str());
      }
    }
  }
  std::vector<int64_t> colors_keys;
  for (const auto& c : calls) {
    colors_keys.push_back(c.color);
    colors_keys.push_back(c.key);
  }
  return make_split(color, key, colors_keys);
}

void Backend::count_ring_traffic(CollectiveKind kind, int64_t n, size_t elem_bytes, int root) {
  const int p = size(), r = rank();
  if (p == 1) return;
  auto c = [&](int i) { return static_cast<uint64_t>(chunk_of(n, p, mod(i, p)).size); };
  const uint64_t N = static_cast<uint64_t>(n), m = static_cast<uint64_t>(p - 1);
  switch (kind) {
    case CollectiveKind::AllReduce:
      count_sent(((N - c(r)) + (N - c(r + 1))) * elem_bytes, 2 * m);
      count_received(((N - c(r - 1)) + (N - c(r))) * elem_bytes, 2 * m);
      break;
    case CollectiveKind::ReduceScatter:
      count_sent((N - c(r)) * elem_bytes, m);
      count_received((N - c(r - 1)) * elem_bytes, m);
      break;
    case CollectiveKind::AllGather:
      count_sent((N - c(r + 1)) * elem_bytes, m);
      count_received((N - c(r)) * elem_bytes, m);
      break;
    case CollectiveKind::Broadcast: {
      const int rel = mod(r - root, p);
      if (rel < p - 1) count_sent(N * elem_bytes, 1);
      if (rel > 0) count_received(N * elem_bytes, 1);
      break;
    }
    default:
      break;
  }
}

}  // namespace pa3
