// Running a test case's per-rank function on either backend. The threads tests run p ranks as
// threads of one process; the MPI test program (test_tp_pp_mpi.cpp) runs one rank per process
// under mpirun. on_ranks(p, fn) returns every rank's result in rank order in both cases, so one
// test case checks both backends: on MPI, each process runs fn on its own rank, then the ranks
// exchange their results (native broadcasts, after fn: the traffic fn measured is unchanged).
//
// A result type R crosses processes as bytes (Archive): trivially copyable values (numbers,
// Traffic, TimelineEvent) as they are, vectors and strings with their length first, and a
// struct through its `void io(pa3test::Archive& a, R& r) { a(r.x, r.y, ...); }`, declared next
// to the struct (found by argument-dependent lookup).
#pragma once

#include <cstdint>
#include <cstring>
#include <functional>
#include <mutex>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "mlsys/error.h"
#include "pa3/comm.h"

namespace pa3test {

// The MPI world while an MPI test program runs (its main sets it), null otherwise.
inline pa3::Communicator*& mpi_world_for_tests() {
  static pa3::Communicator* world = nullptr;
  return world;
}

// Writes the fields given to operator() into bytes, or reads them back in the same order.
class Archive {
 public:
  Archive() = default;  // writing
  explicit Archive(std::vector<char> bytes) : bytes_(std::move(bytes)), reading_(true) {}
  const std::vector<char>& bytes() const { return bytes_; }

  template <typename... T>
  void operator()(T&... fields) {
    (item(fields), ...);
  }

 private:
  template <typename T>
  void item(T& v) {
    if constexpr (std::is_trivially_copyable_v<T>) {
      raw(&v, sizeof(T));
    } else {
      io(*this, v);
    }
  }
  template <typename T>
  void item(std::vector<T>& v) {
    uint64_t n = v.size();
    raw(&n, sizeof n);
    v.resize(n);
    if constexpr (std::is_trivially_copyable_v<T>) {
      raw(v.data(), n * sizeof(T));
    } else {
      for (T& e : v) item(e);
    }
  }
  void item(std::string& s) {
    uint64_t n = s.size();
    raw(&n, sizeof n);
    s.resize(n);
    raw(s.data(), n);
  }
  void raw(void* p, size_t n) {
    if (n == 0) return;
    if (!reading_) {
      const char* c = static_cast<const char*>(p);
      bytes_.insert(bytes_.end(), c, c + n);
      return;
    }
    if (pos_ + n > bytes_.size()) {
      throw mlsys::Error("pa3test::Archive: reading " + std::to_string(n) + " bytes at offset " +
                         std::to_string(pos_) + " of a result of " +
                         std::to_string(bytes_.size()) + " bytes");
    }
    std::memcpy(p, bytes_.data() + pos_, n);
    pos_ += n;
  }

  std::vector<char> bytes_;
  size_t pos_ = 0;
  bool reading_ = false;
};

// Every rank's `mine`, in rank order, on every rank (each result decoded from its bytes, this
// rank's own included).
template <typename R>
std::vector<R> all_gather_results(const pa3::Communicator& comm, R& mine) {
  Archive out;
  out(mine);
  std::vector<R> all(static_cast<size_t>(comm.size()));
  for (int q = 0; q < comm.size(); ++q) {
    std::vector<char> bytes = q == comm.rank() ? out.bytes() : std::vector<char>();
    uint64_t n = bytes.size();
    comm.native_broadcast(&n, sizeof n, q);
    bytes.resize(n);
    if (n > 0) comm.native_broadcast(bytes.data(), n, q);
    Archive in(std::move(bytes));
    in(all[q]);
  }
  return all;
}

// Runs fn(comm) on `p` ranks and returns each rank's result. Threads backend: p threads of this
// process (pa3::run_ranks). MPI (mpi_world_for_tests() set): this process's rank only, p must be
// the number of processes; the results of the other ranks come from them.
template <typename R>
std::vector<R> on_ranks(int p, const std::function<R(pa3::Communicator&)>& fn) {
  if (pa3::Communicator* world = mpi_world_for_tests()) {
    if (world->size() != p) {
      throw mlsys::Error("pa3test::on_ranks: this case runs on " + std::to_string(p) +
                         " ranks, but mpirun started " + std::to_string(world->size()) +
                         " processes");
    }
    R mine = fn(*world);
    return all_gather_results(*world, mine);
  }
  std::vector<R> out(static_cast<size_t>(p));
  std::mutex mu;
  pa3::run_ranks(p, [&](pa3::Communicator& comm) {
    R r = fn(comm);
    std::lock_guard<std::mutex> lock(mu);
    out[comm.rank()] = std::move(r);
  });
  return out;
}

}  // namespace pa3test
