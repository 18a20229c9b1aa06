// pa3/backend.h — the interface a communication backend implements (threads, MPI; NCCL could
// be added behind the same interface). Student code uses pa3::Communicator (pa3/comm.h), which
// checks arguments, counts traffic and forwards to a Backend.
//
// A backend provides point-to-point messages on two channels that never match each other
// (User for send/recv, Collective for the runtime's own collectives), requests that wait with
// the deadline, and split. The reference collectives, barrier and the consistency checks have
// default implementations over point-to-point messages (ring algorithms); a backend may
// override them with its library's own (MPI does).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "pa3/comm.h"

namespace pa3 {

enum class Channel { User, Collective };

// What a message holds; checked between sender and receiver where the backend can.
enum class ElemType : uint8_t { Bytes, Float32, Float64, Int32, Int64 };
const char* to_string(ElemType type);
size_t elem_size(ElemType type);
ElemType elem_type_of(mlsys::DType dtype);

class RequestImpl {
 public:
  virtual ~RequestImpl() = default;  // cancels the operation when it has not completed
  virtual void wait() = 0;           // deadline-bounded; throws mlsys::Error on failure
  virtual bool test() = 0;
};

// The kinds of collective, exchanged by the consistency check so that a rank in all_reduce
// and a rank in barrier get an error instead of a hang.
enum class CollectiveKind : int32_t {
  AllReduce = 1,
  ReduceScatter,
  AllGather,
  Broadcast,
  Barrier,
  Split,
  CheckSame  // Communicator::check_same (count = the value every rank must agree on)
};
const char* to_string(CollectiveKind kind);

// What one rank passed to a collective; every rank must pass the same.
struct CollectiveCall {
  CollectiveKind kind = CollectiveKind::Barrier;
  int32_t elem = 0;      // ElemType
  int64_t count = 0;     // elements (bytes for broadcast)
  int32_t root = -1;
  int32_t color = 0;     // split only
  int32_t key = 0;       // split only
  int32_t pad = 0;
};

class Backend {
 public:
  virtual ~Backend() = default;

  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual const char* backend_name() const = 0;
  virtual std::string name() const = 0;

  // Arguments are already checked by Communicator (ranks in range, not self, tag range).
  // `op` names the user-level call for error messages ("send", "recv", "native_all_reduce").
  virtual std::unique_ptr<RequestImpl> isend(const void* data, size_t nbytes, ElemType type,
                                             int dst, int tag, Channel channel,
                                             const char* op) = 0;
  virtual std::unique_ptr<RequestImpl> irecv(void* data, size_t nbytes, ElemType type,
                                             int src, int tag, Channel channel,
                                             const char* op) = 0;

  // split: the default gathers every rank's (color, key), checks them, then calls make_split.
  virtual std::shared_ptr<Backend> split(int color, int key);
  virtual void barrier();
  virtual void all_reduce_sum(void* data, int64_t n, ElemType type);
  virtual void reduce_scatter_sum(const void* in, void* out, int64_t n, ElemType type);
  virtual void all_gather(const void* in, void* out, int64_t n, ElemType type);
  virtual void broadcast(void* data, size_t nbytes, int root);
  // Throws a clear error on every rank unless every rank passed the same value (uncounted).
  void check_same(int64_t value, const char* what, const char* op);

  // ---- traffic counters and scopes (per communicator, used by Communicator) --------------
  void count_sent(uint64_t bytes, uint64_t messages);
  void count_received(uint64_t bytes, uint64_t messages);
  void push_scope(const std::string& name);
  void pop_scope();
  std::string current_scope() const;  // innermost open scope, "" when none
  CommStats stats() const;
  void reset_stats();

 protected:
  // (color, key) of every rank, indexed by rank; the new communicator for this rank.
  virtual std::shared_ptr<Backend> make_split(int color, int key,
                                              const std::vector<int64_t>& colors_keys) = 0;

  // Exchanges `call` with the ring neighbours (uncounted) and throws a clear error when a
  // neighbour called a different collective or passed a different length or root.
  void check_consistent(const CollectiveCall& call, const char* op);
  // Throws when the calls differ in kind, element type, length or root.
  void check_calls(const std::vector<CollectiveCall>& calls, const char* op) const;
  // Every rank's call, indexed by rank (a ring all-gather, uncounted).
  std::vector<CollectiveCall> gather_calls(const CollectiveCall& call, const char* op);
  // Blocking exchange on the Collective channel: send to dst and receive from src at once.
  void exchange(const void* send_data, size_t send_nbytes, int dst, void* recv_data,
                size_t recv_nbytes, int src, int tag, ElemType type, bool counted,
                const char* op);
  // Traffic the ring algorithms send and receive, for backends that run another algorithm
  // but report the same numbers.
  void count_ring_traffic(CollectiveKind kind, int64_t n, size_t elem_bytes, int root);

 private:
  template <typename T>
  void ring_reduce_scatter_inplace(T* data, int64_t n, const char* op);
  void ring_all_gather_inplace(unsigned char* data, int64_t n, size_t elem_bytes, int tag,
                               bool counted, const char* op);

  mutable std::mutex stats_mutex_;
  CommStats stats_;
  std::vector<std::string> scopes_;
};

// Tags of the Collective channel (user tags live on the User channel and never match these).
constexpr int kTagCheck = 1;
constexpr int kTagPayload = 2;
constexpr int kTagBarrier = 3;
constexpr int kTagSplit = 4;
constexpr int kMaxTag = 32767;

}  // namespace pa3
