// The MPI backend (OpenMPI): one process per rank. Point-to-point messages are MPI_Isend /
// MPI_Irecv of bytes; the native collectives are MPI's own (non-blocking variants, so that
// every wait can have a deadline). Each communicator holds two MPI communicators: one for the
// user's messages and a duplicate for collectives and checks, so the two never match.
//
// Every wait polls MPI_Test and sleeps briefly between polls: with more ranks than cores
// (CI has 2) busy-waiting ranks would starve the ones doing work.
#include <mpi.h>

#include <chrono>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <sstream>
#include <thread>

#include "comm_internal.h"
#include "mlsys/memory_stats.h"
#include "pa3/backend.h"

namespace pa3 {
namespace {

using Clock = std::chrono::steady_clock;

bool mpi_finalized() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  return finalized != 0;
}

std::string mpi_error_text(int rc) {
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, text, &len);
  return std::string(text, static_cast<size_t>(len));
}

void check_mpi(int rc, const std::string& op, const char* call) {
  if (rc != MPI_SUCCESS)
    throw mlsys::Error("pa3::" + op + ": " + call + " failed: " + mpi_error_text(rc));
}

int checked_count(size_t count, const char* op) {
  if (count > static_cast<size_t>(INT_MAX))
    throw mlsys::Error(std::string("pa3::") + op + ": the MPI backend moves at most 2^31-1 "
                       "elements per call, got " + std::to_string(count));
  return static_cast<int>(count);
}

// Polls `req` until it completes or the deadline passes, then throws the message `describe`
// gives. A point-to-point request is cancelled first; a collective one cannot be (MPI forbids
// it) and is left to MPI_Abort, which launch calls after the error.
void poll(MPI_Request& req, MPI_Status* status, const std::string& op,
          const std::function<std::string()>& describe, bool cancellable = true) {
  const double seconds = deadline();
  const auto start = Clock::now();
  for (int spins = 0;; ++spins) {
    int flag = 0;
    int rc = MPI_Test(&req, &flag, status);
    if (rc != MPI_SUCCESS) {
      int cls = 0;
      MPI_Error_class(rc, &cls);
      if (cls == MPI_ERR_TRUNCATE)
        throw mlsys::Error("pa3::" + op + ": " + describe() +
                           ": the message is larger than the receive buffer; sender and "
                           "receiver must agree on the size");
      check_mpi(rc, op, "MPI_Test");
    }
    if (flag) return;
    if (std::chrono::duration<double>(Clock::now() - start).count() > seconds) {
      if (cancellable) {
        MPI_Cancel(&req);
        MPI_Request_free(&req);
      }
      std::ostringstream os;
      os << "pa3::" << op << ": deadline of " << seconds << " s exceeded: " << describe()
         << ". (The MPI backend cannot see the other processes; run the same program with "
            "--backend threads for a roll call of every rank.) Ranks waiting for each other "
            "are a deadlock: use sendrecv, or isend/irecv and wait. The deadline is set with "
            "pa3::set_deadline or MLSYS_PA3_DEADLINE_S.";
      throw mlsys::Error(os.str());
    }
    if (spins < 64)
      std::this_thread::yield();
    else
      std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
}

class MpiRequest : public RequestImpl {
 public:
  MpiRequest(MPI_Request req, bool is_send, size_t nbytes, std::string op, std::string what)
      : req_(req), is_send_(is_send), nbytes_(nbytes), op_(std::move(op)), what_(std::move(what)) {}

  ~MpiRequest() override {
    if (req_ != MPI_REQUEST_NULL && !mpi_finalized()) {
      MPI_Cancel(&req_);
      MPI_Request_free(&req_);
    }
  }

  void wait() override {
    if (req_ == MPI_REQUEST_NULL) return;
    MPI_Status status;
    poll(req_, &status, op_, [this] { return what_; });
    finish(status);
  }

  bool test() override {
    if (req_ == MPI_REQUEST_NULL) return true;
    int flag = 0;
    MPI_Status status;
    check_mpi(MPI_Test(&req_, &flag, &status), op_, "MPI_Test");
    if (flag) finish(status);
    return flag != 0;
  }

 private:
  void finish(MPI_Status& status) {
    req_ = MPI_REQUEST_NULL;
    if (is_send_) return;
    int count = 0;
    MPI_Get_count(&status, MPI_BYTE, &count);
    if (static_cast<size_t>(count) != nbytes_)
      throw mlsys::Error("pa3::" + op_ + ": " + what_ + ": expected " + std::to_string(nbytes_) +
                         " bytes, got " + std::to_string(count) +
                         "; sender and receiver must agree on the size");
  }

  MPI_Request req_;
  bool is_send_;
  size_t nbytes_;
  std::string op_;
  std::string what_;
};

MPI_Datatype mpi_type(ElemType type) {
  return type == ElemType::Float32 ? MPI_FLOAT : MPI_DOUBLE;
}

class MpiBackend : public Backend {
 public:
  // Takes ownership of `comm`.
  MpiBackend(MPI_Comm comm, std::string name) : user_(comm), name_(std::move(name)) {
    check_mpi(MPI_Comm_set_errhandler(user_, MPI_ERRORS_RETURN), "mpi", "MPI_Comm_set_errhandler");
    check_mpi(MPI_Comm_dup(user_, &coll_), "mpi", "MPI_Comm_dup");
    check_mpi(MPI_Comm_set_errhandler(coll_, MPI_ERRORS_RETURN), "mpi", "MPI_Comm_set_errhandler");
    MPI_Comm_rank(user_, &rank_);
    MPI_Comm_size(user_, &size_);
  }
  ~MpiBackend() override {
    if (!mpi_finalized()) {
      MPI_Comm_free(&coll_);
      MPI_Comm_free(&user_);
    }
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  const char* backend_name() const override { return "mpi"; }
  std::string name() const override { return name_; }

  std::unique_ptr<RequestImpl> isend(const void* data, size_t nbytes, ElemType type, int dst,
                                     int tag, Channel channel, const char* op) override {
    (void)type;
    MPI_Request req;
    check_mpi(MPI_Isend(data, checked_count(nbytes, op), MPI_BYTE, dst, tag, comm(channel), &req),
              op, "MPI_Isend");
    return std::make_unique<MpiRequest>(req, true, nbytes, op, where("rank", dst, "to", tag));
  }

  std::unique_ptr<RequestImpl> irecv(void* data, size_t nbytes, ElemType type, int src, int tag,
                                     Channel channel, const char* op) override {
    (void)type;
    MPI_Request req;
    check_mpi(MPI_Irecv(data, checked_count(nbytes, op), MPI_BYTE, src, tag, comm(channel), &req),
              op, "MPI_Irecv");
    return std::make_unique<MpiRequest>(req, false, nbytes, op, where("rank", src, "from", tag));
  }

  void barrier() override {
    check_consistent({CollectiveKind::Barrier, 0, 0, -1, 0, 0}, "barrier");
    MPI_Request req;
    check_mpi(MPI_Ibarrier(coll_, &req), "barrier", "MPI_Ibarrier");
    wait_collective(req, "barrier");
  }

  void all_reduce_sum(void* data, int64_t n, ElemType type) override {
    const char* op = "native_all_reduce";
    detail::NativeScope scope(*this, op);
    check_consistent({CollectiveKind::AllReduce, static_cast<int32_t>(type), n, -1, 0, 0}, op);
    MPI_Request req;
    check_mpi(MPI_Iallreduce(MPI_IN_PLACE, data, checked_count(n, op), mpi_type(type), MPI_SUM,
                             coll_, &req),
              op, "MPI_Iallreduce");
    wait_collective(req, op);
    count_ring_traffic(CollectiveKind::AllReduce, n, elem_size(type), -1);
  }

  void reduce_scatter_sum(const void* in, void* out, int64_t n, ElemType type) override {
    const char* op = "native_reduce_scatter";
    detail::NativeScope scope(*this, op);
    check_consistent({CollectiveKind::ReduceScatter, static_cast<int32_t>(type), n, -1, 0, 0}, op);
    checked_count(n, op);
    std::vector<int> counts(size_);
    for (int r = 0; r < size_; ++r) counts[r] = static_cast<int>(chunk_of(n, size_, r).size);
    MPI_Request req;
    check_mpi(MPI_Ireduce_scatter(in, out, counts.data(), mpi_type(type), MPI_SUM, coll_, &req),
              op, "MPI_Ireduce_scatter");
    wait_collective(req, op);
    count_ring_traffic(CollectiveKind::ReduceScatter, n, elem_size(type), -1);
  }

  void all_gather(const void* in, void* out, int64_t n, ElemType type) override {
    const char* op = "native_all_gather";
    detail::NativeScope scope(*this, op);
    check_consistent({CollectiveKind::AllGather, static_cast<int32_t>(type), n, -1, 0, 0}, op);
    checked_count(n, op);
    // Gathered as bytes: any dtype works.
    const int es = static_cast<int>(elem_size(type));
    std::vector<int> counts(size_), displs(size_);
    for (int r = 0; r < size_; ++r) {
      Chunk c = chunk_of(n, size_, r);
      counts[r] = static_cast<int>(c.size) * es;
      displs[r] = static_cast<int>(c.begin) * es;
    }
    checked_count(static_cast<size_t>(n) * es, op);
    const void* send = in;
    if (in == static_cast<const char*>(out) + displs[rank_]) send = MPI_IN_PLACE;
    MPI_Request req;
    check_mpi(MPI_Iallgatherv(send, counts[rank_], MPI_BYTE, out, counts.data(), displs.data(),
                              MPI_BYTE, coll_, &req),
              op, "MPI_Iallgatherv");
    wait_collective(req, op);
    count_ring_traffic(CollectiveKind::AllGather, n, elem_size(type), -1);
  }

  void broadcast(void* data, size_t nbytes, int root) override {
    const char* op = "native_broadcast";
    detail::NativeScope scope(*this, op);
    check_consistent({CollectiveKind::Broadcast, static_cast<int32_t>(ElemType::Bytes),
                      static_cast<int64_t>(nbytes), root, 0, 0},
                     op);
    MPI_Request req;
    check_mpi(MPI_Ibcast(data, checked_count(nbytes, op), MPI_BYTE, root, coll_, &req), op,
              "MPI_Ibcast");
    wait_collective(req, op);
    count_ring_traffic(CollectiveKind::Broadcast, static_cast<int64_t>(nbytes), 1, root);
  }

 protected:
  std::shared_ptr<Backend> make_split(int color, int key, const std::vector<int64_t>&) override {
    MPI_Comm sub;
    // Every rank passed the consistency check in Backend::split, so all of them get here.
    check_mpi(MPI_Comm_split(user_, color, key, &sub), "split", "MPI_Comm_split");
    return std::make_shared<MpiBackend>(sub, name_ + ".split(color " + std::to_string(color) + ")");
  }

 private:
  MPI_Comm comm(Channel channel) const { return channel == Channel::User ? user_ : coll_; }

  std::string where(const char* who, int peer, const char* dir, int tag) const {
    std::ostringstream os;
    os << "rank " << rank_ << " (mpi) " << (dir[0] == 't' ? "sending to " : "receiving from ")
       << who << " " << peer << " (tag " << tag << ", communicator '" << name_ << "')";
    return os.str();
  }

  void wait_collective(MPI_Request& req, const char* op) {
    poll(
        req, MPI_STATUS_IGNORE, op,
        [&] {
          return "rank " + std::to_string(rank_) + " (mpi) in " + op + " on communicator '" +
                 name_ + "'";
        },
        /*cancellable=*/false);
  }

  MPI_Comm user_;
  MPI_Comm coll_ = MPI_COMM_NULL;
  int rank_ = 0, size_ = 1;
  std::string name_;
};

std::shared_ptr<Backend>& world_backend() {
  static std::shared_ptr<Backend> world;
  return world;
}

void finalize_at_exit() { mpi_finalize(); }

}  // namespace

bool mpi_built() { return true; }

Communicator mpi_world() {
  auto& world = world_backend();
  if (!world) {
    MLSYS_CHECK(!mpi_finalized(), "pa3::mpi_world", "MPI was already finalized");
    int initialized = 0;
    MPI_Initialized(&initialized);
    if (!initialized) {
      int provided = 0;
      check_mpi(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_MULTIPLE, &provided), "mpi_world",
                "MPI_Init_thread");
      if (provided < MPI_THREAD_MULTIPLE)
        std::fprintf(stderr, "pa3: warning: this MPI provides thread level %d, not "
                             "MPI_THREAD_MULTIPLE; call the communicator from one thread only\n",
                     provided);
      std::atexit(finalize_at_exit);
    }
    MPI_Comm comm;
    check_mpi(MPI_Comm_dup(MPI_COMM_WORLD, &comm), "mpi_world", "MPI_Comm_dup");
    world = std::make_shared<MpiBackend>(comm, "world");
  }
  return Communicator(world);
}

void mpi_finalize() {
  world_backend().reset();
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (initialized && !mpi_finalized()) MPI_Finalize();
}

namespace detail {
int launch_mpi(const LaunchOptions& options, const std::function<void(Communicator&)>& fn) {
  Communicator world = mpi_world();
  if (options.world > 0 && options.world != world.size()) {
    if (world.rank() == 0)
      std::fprintf(stderr,
                   "pa3::launch: --world %d but mpirun started %d processes; start it with "
                   "mpirun -n %d, or leave --world out\n",
                   options.world, world.size(), options.world);
    world = Communicator();
    mpi_finalize();
    return 1;
  }
  mlsys::memory::ScopedTag memory_tag(world.rank());
  try {
    fn(world);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "rank %d: %s\n", world.rank(), e.what());
    std::fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  world = Communicator();
  mpi_finalize();
  return 0;
}
}  // namespace detail

}  // namespace pa3
