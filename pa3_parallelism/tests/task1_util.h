// Helpers of the PA3 Task 1 tests (public and hidden): inputs, the float64 reference sum with
// its float32 rounding bound, per-rank traffic, every case run again with its messages changed
// in transit, and what each case records for the grader.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "mlsys/recording.h"
#include "mlsys/tensor.h"
#include "mlsys/testing.h"
#include "pa3/backend.h"
#include "pa3/collectives.h"
#include "pa3/comm.h"

namespace pa3test {

using mlsys::Tensor;

// Every blocking call of a test fails after this many seconds: a collective that deadlocks
// fails fast, with the roll call of what each rank was waiting for.
constexpr double kDeadlineSeconds = 2.0;

class Task1Test : public ::testing::TestWithParam<int> {
 protected:
  pa3::ScopedDeadline deadline_{kDeadlineSeconds};
};

inline std::string where(const std::string& op, int p, int64_t n, int rank = -1) {
  return op + " p=" + std::to_string(p) + " n=" + std::to_string(n) +
         (rank >= 0 ? " rank " + std::to_string(rank) : "");
}

// A number for a failure message: 9 significant digits (std::to_string would print a bound of
// 3e-7 as 0.000000).
inline std::string num(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", x);
  return buf;
}

// run_ranks, with the case (`what`: collective, p, n) in front of any error a rank throws (a
// deadline, a size mismatch, NotImplemented), so that a test looping over lengths says which
// length failed.
template <typename Fn>
void run_case(const std::string& what, int p, Fn&& fn) {
  try {
    pa3::run_ranks(p, std::forward<Fn>(fn));
  } catch (const std::exception& e) {
    throw std::runtime_error(what + ": " + e.what());
  }
}

// got == want bit for bit (both the same dtype); otherwise says how many elements differ, the
// first few with the chunk they belong to (chunk_of(n, p, ·); p = 0: no chunks), and what a
// value of `fill` means.
inline ::testing::AssertionResult exact_match(const Tensor& got, const Tensor& want, int p,
                                              double fill, const std::string& what) {
  const std::vector<double> g = got.to_vector<double>(), w = want.to_vector<double>();
  if (g.size() != w.size())
    return ::testing::AssertionFailure() << what << ": " << g.size() << " elements, expected "
                                         << w.size();
  const int64_t n = static_cast<int64_t>(g.size());
  int64_t bad = 0;
  bool unwritten = false;
  std::string msg, chunks;
  int last_bad_chunk = -1;
  for (int64_t i = 0; i < n; ++i) {
    if (g[i] == w[i]) continue;
    unwritten |= g[i] == fill;
    int c = 0;
    while (p > 0 && pa3::chunk_of(n, p, c).end() <= i) ++c;
    if (p > 0 && c != last_bad_chunk) {
      chunks += (chunks.empty() ? "" : ", ") + std::to_string(c);
      last_bad_chunk = c;
    }
    if (++bad > 5) continue;
    msg += "\n  element " + std::to_string(i);
    if (p > 0) msg += " (chunk " + std::to_string(c) + ")";
    msg += ": got " + num(g[i]) + ", expected " + num(w[i]);
  }
  if (bad == 0) return ::testing::AssertionSuccess();
  ::testing::AssertionResult result = ::testing::AssertionFailure();
  result << what << ": " << bad << " of " << n << " element(s) differ";
  if (p > 0) result << ", in chunk(s) " << chunks;
  result << msg;
  if (unwritten)
    result << "\n  (" << num(fill) << " is what the test put there before the call: "
           << "those elements were never written)";
  return result;
}

// Rank r's input: seeded normal values, different on every rank and every seed.
inline std::vector<float> input(int rank, int64_t n, uint64_t seed) {
  if (n == 0) return {};
  return mlsys::randn({n}, seed + 7919 * static_cast<uint64_t>(rank)).to_vector<float>();
}

inline Tensor tensor_of(const std::vector<float>& v, mlsys::Shape shape) {
  if (v.empty()) return mlsys::zeros(shape);
  return mlsys::from_vector(v, shape);
}

// The sum over ranks in float64, and the bound on the float32 rounding error of any order of
// the p-1 additions: |fl(sum) - sum| <= (p-1) u sum_r |x_r| with u = 2^-24 (Higham, Accuracy and
// Stability of Numerical Algorithms, 2002, §4.2), times 1.01 for the second-order term.
struct SumReference {
  std::vector<double> sum, bound;
  double max_bound = 0;
};

inline SumReference sum_reference(int p, int64_t n, uint64_t seed) {
  SumReference ref{std::vector<double>(n, 0.0), std::vector<double>(n, 0.0), 0.0};
  std::vector<double> abs_sum(n, 0.0);
  for (int r = 0; r < p; ++r) {
    std::vector<float> x = input(r, n, seed);
    for (int64_t i = 0; i < n; ++i) {
      ref.sum[i] += x[i];
      abs_sum[i] += std::fabs(x[i]);
    }
  }
  const double u = std::ldexp(1.0, -24);
  for (int64_t i = 0; i < n; ++i) {
    ref.bound[i] = 1.01 * (p - 1) * u * abs_sum[i];
    ref.max_bound = std::max(ref.max_bound, ref.bound[i]);
  }
  return ref;
}

// got[i] against ref.sum[offset + i] within ref.bound; names the first bad elements.
inline ::testing::AssertionResult within_bound(const std::vector<float>& got,
                                               const SumReference& ref, int64_t offset,
                                               const std::string& what) {
  int bad = 0;
  ::testing::AssertionResult result = ::testing::AssertionSuccess();
  std::string msg;
  for (size_t i = 0; i < got.size(); ++i) {
    const double err = std::fabs(static_cast<double>(got[i]) - ref.sum[offset + i]);
    if (!(err <= ref.bound[offset + i])) {
      if (++bad <= 5)
        msg += "\n  element " + std::to_string(offset + i) + ": got " + num(got[i]) +
               ", float64 sum " + num(ref.sum[offset + i]) + ", error " + num(err) +
               " > bound " + num(ref.bound[offset + i]);
    }
  }
  if (bad == 0) return result;
  return ::testing::AssertionFailure()
         << what << ": " << bad << " element(s) off the sum over ranks by more than the float32 "
         << "rounding bound" << msg
         << "\n  hint: check which chunk each step sends and receives, and that every rank adds "
            "its own input exactly once";
}

// What one rank sent on its communicator, read right after the collective.
struct Sent {
  uint64_t bytes = 0, messages = 0, native_bytes = 0, native_messages = 0;
};

inline Sent sent_by(const pa3::Communicator& comm) {
  const pa3::CommStats s = comm.stats();
  Sent out{s.sent.bytes, s.sent.messages, 0, 0};
  for (const char* name : {"native_all_reduce", "native_reduce_scatter", "native_all_gather",
                           "native_broadcast"}) {
    out.native_bytes += s.sent_in_scope(name).bytes;
    out.native_messages += s.sent_in_scope(name).messages;
  }
  return out;
}

// Checks every rank's traffic against the expected bytes and messages, records both, and
// requires that no native_* collective was used.
inline void check_traffic(const std::string& what, const std::vector<Sent>& sent,
                          const std::vector<int64_t>& expected_bytes,
                          const std::vector<int64_t>& expected_messages) {
  std::vector<int64_t> bytes, messages;
  for (size_t r = 0; r < sent.size(); ++r) {
    bytes.push_back(static_cast<int64_t>(sent[r].bytes));
    messages.push_back(static_cast<int64_t>(sent[r].messages));
    EXPECT_EQ(sent[r].native_bytes + sent[r].native_messages, 0u)
        << what << " rank " << r << ": used a native_* collective; use send/recv/sendrecv only";
  }
  EXPECT_EQ(bytes, expected_bytes)
      << what << ": bytes sent by each rank (rank 0 first) differ from the algorithm's";
  EXPECT_EQ(messages, expected_messages)
      << what << ": messages sent by each rank (rank 0 first) differ from the algorithm's";
  mlsys::test::record_exact(what + " bytes", bytes);
  mlsys::test::record_exact(what + " messages", messages);
}

// |chunk i| of n over p (chunk_of, which the runtime's own tests check).
inline int64_t chunk(int64_t n, int p, int i) { return pa3::chunk_of(n, p, i).size; }

// ---- messages changed in transit -----------------------------------------------------------
//
// The checks above see a collective's result and its traffic, not where the result came from:
// on the threads backend every rank is a thread of one process, so a rank could read the other
// ranks' inputs from memory and send messages of the right sizes with anything in them. So
// every case runs a second time, on integer-valued inputs, through a Communicator whose backend
// changes every message on its way: each element of a payload arrives increased by `delta`,
// drawn at random for each run (code cannot know it in advance). Each element of the result
// then carries delta once per message it travelled in, exactly:
//   reduce-scatter  the sum + (p-1) delta                  (a chain of p-1 partial sums)
//   all-gather      chunk c on rank r: its values + ((r-c) mod p) delta   (c -> c+1 -> ... -> r)
//   all-reduce      chunk c on rank r: the sum + (p-1 + (r-c) mod p) delta   (the two composed)
//   broadcast       rank r: root's values + depth(r) delta, depth = popcount((r-root) mod p),
//                   the number of edges from the root in the binomial tree
// A result built from anything but the messages received misses these deltas. The same backend
// refuses the runtime's own collectives, however they are reached.

// Wraps a rank's real backend; user messages (send/recv/sendrecv and their i- and _bytes forms)
// are copied when posted, with delta added to every element of `dtype`.
class AddingBackend : public pa3::Backend {
 public:
  AddingBackend(pa3::Backend& inner, mlsys::DType dtype, int delta)
      : inner_(inner), dtype_(dtype), delta_(delta) {}

  int rank() const override { return inner_.rank(); }
  int size() const override { return inner_.size(); }
  const char* backend_name() const override { return inner_.backend_name(); }
  std::string name() const override { return inner_.name(); }

  std::unique_ptr<pa3::RequestImpl> isend(const void* data, size_t nbytes, pa3::ElemType type,
                                          int dst, int tag, pa3::Channel channel,
                                          const char* op) override {
    if (channel != pa3::Channel::User)
      return inner_.isend(data, nbytes, type, dst, tag, channel, op);
    auto req = std::make_unique<ChangedSend>();
    req->payload.resize(nbytes);
    if (nbytes > 0) std::memcpy(req->payload.data(), data, nbytes);
    add_delta(req->payload, op);
    req->inner = inner_.isend(req->payload.data(), nbytes, type, dst, tag, channel, op);
    return req;
  }
  std::unique_ptr<pa3::RequestImpl> irecv(void* data, size_t nbytes, pa3::ElemType type, int src,
                                          int tag, pa3::Channel channel,
                                          const char* op) override {
    return inner_.irecv(data, nbytes, type, src, tag, channel, op);
  }

  std::shared_ptr<pa3::Backend> split(int, int) override { refuse("split"); }
  void all_reduce_sum(void*, int64_t, pa3::ElemType) override { refuse("native_all_reduce"); }
  void reduce_scatter_sum(const void*, void*, int64_t, pa3::ElemType) override {
    refuse("native_reduce_scatter");
  }
  void all_gather(const void*, void*, int64_t, pa3::ElemType) override {
    refuse("native_all_gather");
  }
  void broadcast(void*, size_t, int) override { refuse("native_broadcast"); }

 protected:
  std::shared_ptr<pa3::Backend> make_split(int, int, const std::vector<int64_t>&) override {
    refuse("split");
  }

 private:
  // The copy a send delivers; it lives until the send completes.
  struct ChangedSend : pa3::RequestImpl {
    std::vector<unsigned char> payload;
    std::unique_ptr<pa3::RequestImpl> inner;
    ~ChangedSend() override { inner.reset(); }  // before the payload it points into
    void wait() override { inner->wait(); }
    bool test() override { return inner->test(); }
  };

  template <typename T>
  void add(std::vector<unsigned char>& bytes) const {
    for (size_t at = 0; at < bytes.size(); at += sizeof(T)) {
      T x;
      std::memcpy(&x, bytes.data() + at, sizeof(T));
      x = static_cast<T>(x + static_cast<T>(delta_));
      std::memcpy(bytes.data() + at, &x, sizeof(T));
    }
  }

  void add_delta(std::vector<unsigned char>& bytes, const char* op) const {
    const size_t es = mlsys::dtype_size(dtype_);
    if (bytes.size() % es != 0)
      throw mlsys::Error(std::string("pa3::") + op + ": a message of " +
                         std::to_string(bytes.size()) + " bytes is not a whole number of " +
                         mlsys::to_string(dtype_) + " elements (this case sends " +
                         mlsys::to_string(dtype_) + " data only)");
    switch (dtype_) {
      case mlsys::DType::Float32: add<float>(bytes); break;
      case mlsys::DType::Int32: add<int32_t>(bytes); break;
      case mlsys::DType::Int64: add<int64_t>(bytes); break;
    }
  }

  [[noreturn]] static void refuse(const char* what) {
    throw mlsys::Error(std::string("pa3 Task 1 test: ") + what +
                       " of the runtime was called; Task 1's collectives use only send, recv "
                       "and sendrecv (handouts/pa3.md, Task 1 rules)");
  }

  pa3::Backend& inner_;
  mlsys::DType dtype_;
  int delta_;
};

// 1..31, different from run to run.
inline int random_delta() { return 1 + static_cast<int>(std::random_device{}() % 31); }

// Rank r's input rounded to integers (|x| < 10^4: every sum and delta stays exact in float32).
inline std::vector<float> integer_input(int rank, int64_t n, uint64_t seed) {
  std::vector<float> v = input(rank, n, seed);
  for (float& x : v) x = std::round(x * 1000.f);
  return v;
}

// The chunk of each element of n over p.
inline std::vector<int> chunk_index(int64_t n, int p) {
  std::vector<int> of(static_cast<size_t>(n));
  for (int c = 0; c < p; ++c)
    for (int64_t i = pa3::chunk_of(n, p, c).begin; i < pa3::chunk_of(n, p, c).end(); ++i)
      of[i] = c;
  return of;
}

// Runs fn on p ranks, each with a Communicator that adds delta to every element of every
// message, and returns what fn returned on each rank.
template <typename Fn>
std::vector<Tensor> run_changed(const std::string& what, int p, mlsys::DType dtype, int delta,
                                Fn&& fn) {
  std::vector<Tensor> out(p);
  run_case(what, p, [&](pa3::Communicator& world) {
    pa3::Communicator comm(std::make_shared<AddingBackend>(world.backend(), dtype, delta));
    out[comm.rank()] = fn(comm);
  });
  return out;
}

// got[r][i] == value[r][i] + hops[r][i] * delta for every rank, exactly. Records got - hops *
// delta of every rank (the same numbers whatever delta was drawn).
inline void expect_changed(const std::string& what, int delta, const std::vector<Tensor>& got,
                           const std::vector<std::vector<double>>& value,
                           const std::vector<std::vector<int64_t>>& hops) {
  std::vector<int64_t> recorded;
  int64_t bad = 0;
  bool without_messages = false;
  std::string msg;
  for (size_t r = 0; r < got.size(); ++r) {
    const std::vector<double> g = got[r].to_vector<double>();
    if (g.size() != value[r].size()) {
      ADD_FAILURE() << what << " rank " << r << ": " << g.size() << " elements, expected "
                    << value[r].size();
      recorded.push_back(-1);
      continue;
    }
    for (size_t i = 0; i < g.size(); ++i) {
      const double want = value[r][i] + static_cast<double>(hops[r][i] * delta);
      const double less = g[i] - static_cast<double>(hops[r][i] * delta);
      recorded.push_back(std::isfinite(less) && std::fabs(less) < 1e15 ? std::llround(less)
                                                                        : INT64_MIN);
      if (g[i] == want) continue;
      without_messages |= hops[r][i] > 0 && g[i] == value[r][i];
      if (++bad <= 5)
        msg += "\n  rank " + std::to_string(r) + " element " + std::to_string(i) + ": got " +
               num(g[i]) + ", expected " + num(want) + " = " + num(value[r][i]) + " + " +
               std::to_string(hops[r][i]) + " message(s) x delta";
    }
  }
  if (bad > 0)
    ADD_FAILURE() << what << ": every message was changed in transit (each element arrives "
                  << "increased by delta = " << delta << "), so each result element must carry "
                  << "delta once per message it travelled in; " << bad << " element(s) do not"
                  << msg
                  << (without_messages
                          ? "\n  some hold the value without any delta: they were not taken "
                            "from the messages received"
                          : "");
  mlsys::test::record_exact(what + " less delta per message", recorded);
}

// The sum over ranks 0..p-1 of integer_input(r, n, seed), exact in float64.
inline std::vector<double> integer_sum(int p, int64_t n, uint64_t seed) {
  std::vector<double> sum(n, 0.0);
  for (int r = 0; r < p; ++r) {
    const std::vector<float> x = integer_input(r, n, seed);
    for (int64_t i = 0; i < n; ++i) sum[i] += x[i];
  }
  return sum;
}

inline void check_reduce_scatter_changed(int p, mlsys::Shape shape, uint64_t seed) {
  const int64_t n = mlsys::numel(shape);
  const std::string what = where("ring_reduce_scatter", p, n) + " messages changed in transit";
  const std::vector<double> sum = integer_sum(p, n, seed);
  const int delta = random_delta();
  std::vector<Tensor> got =
      run_changed(what, p, mlsys::DType::Float32, delta, [&](pa3::Communicator& comm) {
        Tensor in = tensor_of(integer_input(comm.rank(), n, seed), shape);
        Tensor out = mlsys::full({chunk(n, p, comm.rank())}, -7.f);
        pa3::ring_reduce_scatter(comm, in, out);
        return out;
      });
  std::vector<std::vector<double>> value(p);
  std::vector<std::vector<int64_t>> hops(p);
  for (int r = 0; r < p; ++r) {
    const pa3::Chunk c = pa3::chunk_of(n, p, r);
    value[r].assign(sum.begin() + c.begin, sum.begin() + c.end());
    hops[r].assign(c.size, p - 1);
  }
  expect_changed(what, delta, got, value, hops);
}

inline void check_all_gather_changed(int p, int64_t n, mlsys::DType dtype, uint64_t seed) {
  const std::string what =
      where(std::string("ring_all_gather ") + mlsys::to_string(dtype), p, n) +
      " messages changed in transit";
  const std::vector<float> full = integer_input(0, n, seed);
  const Tensor full_t = tensor_of(full, {n}).astype(dtype);
  const int delta = random_delta();
  std::vector<Tensor> got = run_changed(what, p, dtype, delta, [&](pa3::Communicator& comm) {
    const pa3::Chunk c = pa3::chunk_of(n, p, comm.rank());
    Tensor in = full_t.slice(0, c.begin, c.end()).clone();
    Tensor out = mlsys::full({n}, -7, dtype);
    pa3::ring_all_gather(comm, in, out);
    return out;
  });
  const std::vector<int> of = chunk_index(n, p);
  std::vector<std::vector<double>> value(p, std::vector<double>(full.begin(), full.end()));
  std::vector<std::vector<int64_t>> hops(p, std::vector<int64_t>(n));
  for (int r = 0; r < p; ++r)
    for (int64_t i = 0; i < n; ++i) hops[r][i] = ((r - of[i]) % p + p) % p;
  expect_changed(what, delta, got, value, hops);
}

inline void check_all_reduce_changed(int p, mlsys::Shape shape, uint64_t seed) {
  const int64_t n = mlsys::numel(shape);
  const std::string what = where("ring_all_reduce", p, n) + " messages changed in transit";
  const std::vector<double> sum = integer_sum(p, n, seed);
  const int delta = random_delta();
  std::vector<Tensor> got =
      run_changed(what, p, mlsys::DType::Float32, delta, [&](pa3::Communicator& comm) {
        Tensor t = tensor_of(integer_input(comm.rank(), n, seed), shape);
        pa3::ring_all_reduce(comm, t);
        return t;
      });
  const std::vector<int> of = chunk_index(n, p);
  std::vector<std::vector<double>> value(p, sum);
  std::vector<std::vector<int64_t>> hops(p, std::vector<int64_t>(n));
  for (int r = 0; r < p; ++r)
    for (int64_t i = 0; i < n; ++i) hops[r][i] = (p - 1) + ((r - of[i]) % p + p) % p;
  expect_changed(what, delta, got, value, hops);
}

inline void check_broadcast_changed(int p, mlsys::Shape shape, int root, mlsys::DType dtype,
                                    uint64_t seed) {
  const int64_t n = mlsys::numel(shape);
  const std::string what = where(std::string("tree_broadcast ") + mlsys::to_string(dtype) +
                                     " root " + std::to_string(root),
                                 p, n) +
                           " messages changed in transit";
  auto values = [&](int r) { return tensor_of(integer_input(r, n, seed), shape).astype(dtype); };
  const int delta = random_delta();
  std::vector<Tensor> got = run_changed(what, p, dtype, delta, [&](pa3::Communicator& comm) {
    Tensor t = values(comm.rank());
    pa3::tree_broadcast(comm, t, root);
    return t;
  });
  const std::vector<double> root_values = values(root).to_vector<double>();
  std::vector<std::vector<double>> value(p, root_values);
  std::vector<std::vector<int64_t>> hops(p);
  for (int r = 0; r < p; ++r) {
    int depth = 0;
    for (int v = ((r - root) % p + p) % p; v > 0; v &= v - 1) ++depth;
    hops[r].assign(n, depth);
  }
  expect_changed(what, delta, got, value, hops);
}

// ---- each collective, run on p ranks, checked, recorded, then run with messages changed -----

// Reduce-scatter of `shape`-shaped inputs (the same numel on every rank).
inline void check_reduce_scatter(int p, mlsys::Shape shape, uint64_t seed) {
  const int64_t n = mlsys::numel(shape);
  const std::string what = where("ring_reduce_scatter", p, n);
  const SumReference ref = sum_reference(p, n, seed);
  std::vector<std::vector<float>> out(p), in_after(p);
  std::vector<Sent> sent(p);
  run_case(what, p, [&](pa3::Communicator& comm) {
    const int r = comm.rank();
    Tensor in = tensor_of(input(r, n, seed), shape);
    Tensor o = mlsys::full({chunk(n, p, r)}, -7.f);
    pa3::ring_reduce_scatter(comm, in, o);
    sent[r] = sent_by(comm);
    out[r] = o.to_vector<float>();
    in_after[r] = in.to_vector<float>();
  });
  std::vector<float> all;
  std::vector<int64_t> expected_bytes, expected_messages;
  for (int r = 0; r < p; ++r) {
    EXPECT_EQ(static_cast<int64_t>(out[r].size()), chunk(n, p, r));
    EXPECT_TRUE(within_bound(out[r], ref, pa3::chunk_of(n, p, r).begin, what + " rank " +
                                                                              std::to_string(r)));
    EXPECT_EQ(in_after[r], input(r, n, seed)) << what << " rank " << r << ": `in` was modified";
    all.insert(all.end(), out[r].begin(), out[r].end());
    expected_bytes.push_back(p == 1 ? 0 : 4 * (n - chunk(n, p, r)));
    expected_messages.push_back(p - 1);
  }
  mlsys::test::record(what + " chunks in rank order", tensor_of(all, {n}), 0, ref.max_bound);
  check_traffic(what, sent, expected_bytes, expected_messages);
  check_reduce_scatter_changed(p, shape, seed);
}

// All-gather of every rank's chunk of a seeded vector, in `dtype`: out must be exact.
inline void check_all_gather(int p, int64_t n, mlsys::DType dtype, uint64_t seed) {
  const std::string what = where(std::string("ring_all_gather ") + mlsys::to_string(dtype), p, n);
  // The full vector: rank r contributes elements [begin_r, end_r) of it.
  std::vector<float> full = input(0, n, seed);
  for (float& x : full) x = std::round(x * 1000.f);  // exact in every dtype
  const Tensor full_t = tensor_of(full, {n}).astype(dtype);
  std::vector<Tensor> out(p);
  std::vector<Sent> sent(p);
  run_case(what, p, [&](pa3::Communicator& comm) {
    const int r = comm.rank();
    const pa3::Chunk c = pa3::chunk_of(n, p, r);
    Tensor in = full_t.slice(0, c.begin, c.end()).clone();
    Tensor o = mlsys::full({n}, -7, dtype);
    pa3::ring_all_gather(comm, in, o);
    sent[r] = sent_by(comm);
    out[r] = o;
  });
  const int64_t size = dtype == mlsys::DType::Float32 || dtype == mlsys::DType::Int32 ? 4 : 8;
  std::vector<int64_t> expected_bytes, expected_messages;
  for (int r = 0; r < p; ++r) {
    EXPECT_TRUE(exact_match(out[r], full_t, p, -7,
                            what + " rank " + std::to_string(r) +
                                ": out must hold every rank's chunk, in rank order"));
    expected_bytes.push_back(p == 1 ? 0 : size * (n - chunk(n, p, (r + 1) % p)));
    expected_messages.push_back(p - 1);
  }
  std::vector<double> joined;
  for (int r = 0; r < p; ++r) {
    std::vector<double> v = out[r].to_vector<double>();
    joined.insert(joined.end(), v.begin(), v.end());
  }
  std::vector<int64_t> exact(joined.begin(), joined.end());
  mlsys::test::record_exact(what + " out of every rank", exact);
  check_traffic(what, sent, expected_bytes, expected_messages);
  check_all_gather_changed(p, n, dtype, seed);
}

// All-reduce in place: every rank within the bound of the float64 sum, and all ranks equal
// bit for bit.
inline void check_all_reduce(int p, mlsys::Shape shape, uint64_t seed) {
  const int64_t n = mlsys::numel(shape);
  const std::string what = where("ring_all_reduce", p, n);
  const SumReference ref = sum_reference(p, n, seed);
  std::vector<std::vector<float>> out(p);
  std::vector<mlsys::Shape> shapes(p);
  std::vector<Sent> sent(p);
  run_case(what, p, [&](pa3::Communicator& comm) {
    const int r = comm.rank();
    Tensor t = tensor_of(input(r, n, seed), shape);
    pa3::ring_all_reduce(comm, t);
    sent[r] = sent_by(comm);
    out[r] = t.to_vector<float>();
    shapes[r] = t.shape();
  });
  std::vector<int64_t> expected_bytes, expected_messages;
  for (int r = 0; r < p; ++r) {
    EXPECT_EQ(shapes[r], shape);
    EXPECT_TRUE(within_bound(out[r], ref, 0, what + " rank " + std::to_string(r)));
    if (r > 0) {
      // Bit-identical, not merely close: compare the bit patterns (NaN-safe).
      bool same = out[r].size() == out[0].size() &&
                  std::equal(out[r].begin(), out[r].end(), out[0].begin(),
                             [](float a, float b) { return std::memcmp(&a, &b, 4) == 0; });
      EXPECT_TRUE(same) << what << ": rank " << r << " does not hold the same bits as rank 0 "
                        << "(the all-gather must copy each chunk's owner's bits)";
    }
    expected_bytes.push_back(p == 1 ? 0
                                    : 4 * (2 * n - chunk(n, p, r) - chunk(n, p, (r + 1) % p)));
    expected_messages.push_back(2 * (p - 1));
  }
  mlsys::test::record(what + " rank 0", tensor_of(out[0], {n}), 0, ref.max_bound);
  int64_t identical = 1;
  for (int r = 1; r < p && n > 0; ++r)
    identical &= std::memcmp(out[r].data(), out[0].data(), 4 * n) == 0;
  mlsys::test::record_exact(what + " ranks identical", identical);
  check_traffic(what, sent, expected_bytes, expected_messages);
  check_all_reduce_changed(p, shape, seed);
}

// The binomial tree's message count of each rank, computed round by round: in the round of
// mask m (the largest power of two below p first, then halving), every virtual rank v that is
// a multiple of 2m sends to v + m when v + m < p. (Independent of the lowbit formulation the
// contract gives.)
inline std::vector<int64_t> binomial_sends(int p, int root) {
  std::vector<int64_t> sends(p, 0);
  int top = 1;
  while (top * 2 < p) top *= 2;
  for (int m = top; m >= 1 && p > 1; m /= 2)
    for (int v = 0; v + m < p; v += 2 * m) ++sends[(v + root) % p];
  return sends;
}

// Broadcast from `root` of a seeded tensor of `shape` in `dtype`: every rank gets root's exact
// values; each rank sends as many full copies as its children in the tree.
inline void check_broadcast(int p, mlsys::Shape shape, int root, mlsys::DType dtype,
                            uint64_t seed) {
  const int64_t n = mlsys::numel(shape);
  const std::string what =
      where(std::string("tree_broadcast ") + mlsys::to_string(dtype) + " root " + std::to_string(root), p, n);
  auto values = [&](int r) {
    std::vector<float> v = input(r, n, seed);
    for (float& x : v) x = std::round(x * 1000.f);
    return tensor_of(v, shape).astype(dtype);
  };
  const Tensor expected = values(root);
  std::vector<Tensor> out(p);
  std::vector<Sent> sent(p);
  run_case(what, p, [&](pa3::Communicator& comm) {
    Tensor t = values(comm.rank());
    pa3::tree_broadcast(comm, t, root);
    sent[comm.rank()] = sent_by(comm);
    out[comm.rank()] = t;
  });
  const int64_t size = dtype == mlsys::DType::Float32 || dtype == mlsys::DType::Int32 ? 4 : 8;
  const std::vector<int64_t> sends = binomial_sends(p, root);
  std::vector<int64_t> expected_bytes;
  std::vector<double> joined;
  for (int r = 0; r < p; ++r) {
    EXPECT_TRUE(exact_match(out[r], expected, 0, std::nan(""),
                            what + " rank " + std::to_string(r) + ": t must hold root's values"));
    expected_bytes.push_back(sends[r] * n * size);
    std::vector<double> v = out[r].to_vector<double>();
    joined.insert(joined.end(), v.begin(), v.end());
  }
  uint64_t total = 0;
  for (const Sent& s : sent) total += s.messages;
  EXPECT_EQ(total, static_cast<uint64_t>(p - 1))
      << what << ": messages sent by all ranks together; a broadcast tree has p-1 edges";
  mlsys::test::record_exact(what + " t of every rank",
                            std::vector<int64_t>(joined.begin(), joined.end()));
  check_traffic(what, sent, expected_bytes, sends);
  check_broadcast_changed(p, shape, root, dtype, seed);
}

}  // namespace pa3test
