// pa3/comm.h — the communication runtime of PA3 (given code: read it, do not edit it).
//
// A Communicator is one rank's handle on a group of `size()` ranks numbered 0..size()-1. It
// moves bytes between ranks (point-to-point send/recv, blocking or not), splits into
// sub-communicators (the rows and columns of a process grid), and offers reference
// collectives (`native_*`) that your own ring collectives are checked against. Every
// communicator counts the bytes and messages its rank sends, in total and per named scope, so
// that tests can compare traffic with the papers' formulas.
//
// Two backends run the same code:
//   threads  (default) one process, one thread per rank:   pa3::run_ranks(4, fn)
//   mpi      one process per rank (OpenMPI):               mpirun -n 4 prog --backend mpi
// A program picks one at run time with pa3::launch(argc, argv, fn) (see the end of this file).
//
// Rules that hold on both backends:
//   - Tensors sent or received must be defined, on the CPU and contiguous. A receive writes
//     into the tensor you pass (a view such as x.slice(0, a, b) of a contiguous x works).
//     The sizes must match exactly (the threads backend also checks the dtype).
//   - Messages from one rank to another with the same tag arrive in the order they were sent
//     (MPI's non-overtaking rule). Tags are 0..32767.
//   - A blocking send may wait until the receiver has posted the matching receive (the threads
//     backend always waits: it behaves like MPI_Ssend). So two ranks that both `send` first
//     and `recv` second deadlock. Use `sendrecv`, or isend/irecv and wait.
//   - Sending to yourself is an error (a blocking send to yourself could never complete;
//     copy the tensor instead).
//   - Every blocking call has a deadline (default 30 s, see set_deadline). When it expires the
//     call throws an mlsys::Error naming the rank, the peer, the tag, and (threads backend) a
//     roll call of what every rank was doing at that moment. The first rank that fails stops
//     all others: they throw "aborted because rank k failed" from their next blocking call.
#pragma once

#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "mlsys/error.h"
#include "mlsys/tensor.h"

namespace pa3 {

class Backend;
class RequestImpl;

// ============================================================================================
// Deadlines
// ============================================================================================

// The deadline of every blocking call, in seconds (default 30, or the environment variable
// MLSYS_PA3_DEADLINE_S when set). Applies to all ranks and all communicators of the process.
void set_deadline(double seconds);
double deadline();

// Sets the deadline for the lifetime of this object, then restores the previous one.
class ScopedDeadline {
 public:
  explicit ScopedDeadline(double seconds) : previous_(deadline()) { set_deadline(seconds); }
  ~ScopedDeadline() { set_deadline(previous_); }
  ScopedDeadline(const ScopedDeadline&) = delete;
  ScopedDeadline& operator=(const ScopedDeadline&) = delete;

 private:
  double previous_;
};

// ============================================================================================
// Partitioning: how n elements are split over p ranks
// ============================================================================================

// Chunk `index` of n elements split into `parts` nearly equal contiguous chunks: the first
// n % parts chunks have one element more. native_reduce_scatter and native_all_gather use
// this partition, and so should your ring collectives.
struct Chunk {
  int64_t begin = 0;
  int64_t size = 0;
  int64_t end() const { return begin + size; }
};
Chunk chunk_of(int64_t n, int parts, int index);

// ============================================================================================
// Traffic counters
// ============================================================================================

struct Counts {
  uint64_t bytes = 0;
  uint64_t messages = 0;
};

// What this rank sent and received on one communicator since it was created (or since
// reset_stats). Counted when a send or receive is posted: the payload of send/recv/isend/
// irecv/sendrecv and of the native collectives. Barrier, split and the consistency checks
// that the collectives run first are not counted. On the MPI backend the native collectives
// are counted as the ring algorithms of the threads backend would send (MPI's own traffic
// cannot be observed), so both backends report the same numbers.
struct CommStats {
  Counts sent;
  Counts received;
  // Sent while a CommScope of that name was open (every open scope counts, so nested scopes
  // each see the bytes). The native collectives open scopes named after themselves, e.g.
  // "native_all_reduce".
  std::map<std::string, Counts> sent_in;

  // sent_in[scope], or zeros when the scope never sent anything.
  Counts sent_in_scope(const std::string& scope) const;
};

// ============================================================================================
// Requests (non-blocking operations)
// ============================================================================================

// The handle of an isend/irecv. wait() blocks (with the deadline) until the operation is
// complete and throws if it failed; test() says whether it is complete without blocking.
// A request destroyed before it completed is cancelled if its message was not matched yet
// (its peer will then wait in vain); on the threads backend, one whose message was already
// matched delivers it first. Either way, wait for your requests.
// The buffer of an isend/irecv must stay valid until wait() returns (a Tensor's storage is
// kept alive by the request).
class Request {
 public:
  Request();
  explicit Request(std::unique_ptr<RequestImpl> impl);
  Request(Request&&) noexcept;
  Request& operator=(Request&&) noexcept;
  ~Request();

  void wait();
  bool test();
  bool valid() const { return impl_ != nullptr; }

 private:
  std::unique_ptr<RequestImpl> impl_;
};

// ============================================================================================
// Communicator
// ============================================================================================

class Communicator {
 public:
  Communicator() = default;  // not usable until assigned
  explicit Communicator(std::shared_ptr<Backend> backend);

  bool valid() const { return backend_ != nullptr; }
  int rank() const;
  int size() const;
  const char* backend_name() const;  // "threads" or "mpi"
  std::string name() const;          // "world", or the split it came from

  // ---- point-to-point: tensors (contiguous, CPU) -----------------------------------------
  void send(const mlsys::Tensor& tensor, int dst, int tag = 0);
  void recv(const mlsys::Tensor& tensor, int src, int tag = 0);  // written in place
  Request isend(const mlsys::Tensor& tensor, int dst, int tag = 0);
  Request irecv(const mlsys::Tensor& tensor, int src, int tag = 0);
  // Sends `send_tensor` to dst and receives `recv_tensor` from src at the same time; never
  // deadlocks when every rank of a ring calls it. dst and src may be the same rank.
  void sendrecv(const mlsys::Tensor& send_tensor, int dst, const mlsys::Tensor& recv_tensor,
                int src, int tag = 0);

  // ---- point-to-point: raw bytes ---------------------------------------------------------
  void send_bytes(const void* data, size_t nbytes, int dst, int tag = 0);
  void recv_bytes(void* data, size_t nbytes, int src, int tag = 0);
  Request isend_bytes(const void* data, size_t nbytes, int dst, int tag = 0);
  Request irecv_bytes(void* data, size_t nbytes, int src, int tag = 0);
  void sendrecv_bytes(const void* send_data, size_t send_nbytes, int dst, void* recv_data,
                      size_t recv_nbytes, int src, int tag = 0);

  // ---- groups ----------------------------------------------------------------------------
  // Collective over this communicator: ranks that pass the same color form one new
  // communicator, ranked by key (keys must differ within a color). color >= 0, key >= 0.
  Communicator split(int color, int key) const;
  void barrier() const;
  // Collective: throws the same clear mlsys::Error on every rank ("<op>: argument '<what>'
  // must be the same on every rank ..., got: rank 0: .., rank 1: ..") unless every rank passed
  // the same value. Not counted in the traffic statistics. For the given engines' checks that
  // the ranks agree on a size (e.g. the global batch's rows).
  void check_same(int64_t value, const char* what, const char* op) const;

  // ---- reference collectives (sum reduction) ---------------------------------------------
  // Every rank must call the same collective with the same length (and root); a mismatch is
  // an mlsys::Error, not a hang. Threads backend: ring algorithms over send/recv, so each rank
  // sends (counting n elements of size s, chunks from chunk_of(n, p, ·)):
  //   all_reduce      2n - |chunk r| - |chunk r+1| elements, 2(p-1) messages  (= 2(p-1)/p n)
  //   reduce_scatter  n - |chunk r|                 elements,  p-1  messages  (= (p-1)/p n)
  //   all_gather      n - |chunk r+1|               elements,  p-1  messages  (= (p-1)/p n)
  //   broadcast       n elements, 1 message, except the rank just before the root in the ring
  //                   (a chain root -> root+1 -> ... -> root-1)
  // MPI backend: MPI's collectives, counted with the same formulas.
  //
  // In place: t (float32, CPU, contiguous) becomes the elementwise sum over ranks.
  void native_all_reduce(const mlsys::Tensor& t) const;
  // in: n elements (the same n on every rank); out: chunk_of(n, size(), rank()).size elements,
  // set to that chunk of the sum over ranks. float32.
  void native_reduce_scatter(const mlsys::Tensor& in, const mlsys::Tensor& out) const;
  // in: chunk_of(n, size(), rank()).size elements; out: n elements, every rank's chunk in
  // rank order. Any dtype (the same on both).
  void native_all_gather(const mlsys::Tensor& in, const mlsys::Tensor& out) const;
  // t on `root` is copied into t on every rank. Any dtype.
  void native_broadcast(const mlsys::Tensor& t, int root) const;

  // The same on raw arrays, float32 or float64.
  void native_all_reduce(float* data, int64_t n) const;
  void native_all_reduce(double* data, int64_t n) const;
  void native_reduce_scatter(const float* in, float* out, int64_t n) const;
  void native_reduce_scatter(const double* in, double* out, int64_t n) const;
  void native_all_gather(const float* in, float* out, int64_t n) const;
  void native_all_gather(const double* in, double* out, int64_t n) const;
  void native_broadcast(void* data, size_t nbytes, int root) const;

  // ---- traffic counters (this rank, this communicator) -----------------------------------
  CommStats stats() const;
  void reset_stats() const;

  // The backend behind this handle (for runtime code; students need not use it).
  Backend& backend() const;

 private:
  Backend& checked(const char* op) const;
  std::shared_ptr<Backend> backend_;
};

// Attributes the bytes this rank sends on `comm` to `name` while the object lives:
//
//   { pa3::CommScope scope(comm, "all_reduce"); my_ring_all_reduce(comm, grad); }
//   comm.stats().sent_in_scope("all_reduce").bytes   // bytes my_ring_all_reduce sent
class CommScope {
 public:
  CommScope(const Communicator& comm, std::string name);
  ~CommScope();
  CommScope(const CommScope&) = delete;
  CommScope& operator=(const CommScope&) = delete;

 private:
  Backend* backend_;
};

// ============================================================================================
// Running ranks
// ============================================================================================

// The error run_ranks throws when a rank failed: "rank k: <the rank's error message>".
// original() is the exception the rank threw.
class RankFailed : public mlsys::Error {
 public:
  RankFailed(int rank, const std::string& message, std::exception_ptr original)
      : mlsys::Error("rank " + std::to_string(rank) + ": " + message),
        rank_(rank),
        original_(std::move(original)) {}
  int rank() const { return rank_; }
  const std::exception_ptr& original() const { return original_; }

 private:
  int rank_;
  std::exception_ptr original_;
};

// Threads backend: runs fn on `world` ranks, one thread each, and returns when all are done.
// If any rank throws, the others are stopped and the first failure is rethrown as RankFailed.
// Each rank thread runs with memory tag = its rank (mlsys/memory_stats.h), its peak reset at
// the start: mlsys::memory::usage(comm.rank()) is the host tensor memory that rank holds.
// (launch on the MPI backend tags the process with its rank the same way.)
void run_ranks(int world, const std::function<void(Communicator&)>& fn);

// MPI backend. mpi_built() says whether this build has it (CMake option MLSYS_MPI and an
// OpenMPI installation). mpi_world() initializes MPI (MPI_THREAD_MULTIPLE) on first use and
// returns the communicator of all processes; mpi_finalize() shuts MPI down (also done at exit).
bool mpi_built();
Communicator mpi_world();
void mpi_finalize();

// ============================================================================================
// Launching a program on either backend
// ============================================================================================
//
//   int main(int argc, char** argv) {
//     return pa3::launch(argc, argv, [](pa3::Communicator& comm) { ... });
//   }
//
//   ./prog --world 4                      threads backend, 4 ranks (the default backend)
//   OMPI_MCA_mpi_yield_when_idle=1 mpirun --allow-run-as-root --oversubscribe --timeout 120
//       -n 4 ./prog --backend mpi          MPI backend, one process per rank
//
// --backend may also come from the environment variable MLSYS_PA3_BACKEND. With mpi, --world
// (when given) must equal the number of processes mpirun started. launch returns 0 when every
// rank succeeded; otherwise it prints the first failure and returns 1 (threads) or calls
// MPI_Abort, which stops every process (mpi).
struct LaunchOptions {
  std::string backend = "threads";
  int world = 0;  // 0: not given (threads then uses default_world)
};
// Reads and removes --backend X / --backend=X / --world N / --world=N from argv.
LaunchOptions parse_launch_args(int& argc, char** argv);
int launch(int argc, char** argv, const std::function<void(Communicator&)>& fn,
           int default_world = 4);

}  // namespace pa3
