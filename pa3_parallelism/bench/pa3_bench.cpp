// pa3_bench — PA3 benchmarks: the all-reduce table (nccl-tests style) and the data-parallel step.
//
//   pa3_bench                      threads backend: the all-reduce table at p = 2 and 4, then
//                                  the data-parallel step (tokens/s)
//   OMPI_MCA_mpi_yield_when_idle=1 mpirun --allow-run-as-root --oversubscribe -n 2
//       pa3_bench --backend mpi    (one command line) MPI backend: the same with p = the
//                                  number of processes
//   pa3_bench --item ID            one graded item (threads backend; the grader runs them so)
//   --quick                        sizes up to 4 MiB, fewer repeats (the notebook uses it)
//   --world P                      threads backend: only p = P (default: 2 and 4)
//   --json PATH                    the all-reduce rows as a JSON list (below)
//   --list                         the item names
//
// The all-reduce table. For each size from 4 KiB to 64 MiB (float32, in place) and each
// implementation, every rank checks the result once (small integers, so the sum is exact),
// then times `iters` calls back to back after a warm-up, five times; a sample's time is the
// slowest rank's, the row's time the median sample. Columns as nccl-tests prints them:
//   algbw = bytes / time,   busbw = algbw * 2(p-1)/p   (the rate each rank's link carried data)
// Implementations: ring = your ring_all_reduce (Task 1.3); native = Communicator::
// native_all_reduce (threads backend: the runtime's in-place ring; MPI backend: MPI_Iallreduce,
// OpenMPI's own choice of algorithm); memcpy = one std::memcpy of the same bytes on one thread
// (p = 1), the yardstick of the threads backend, which moves every message with one memcpy.
//
// --json PATH writes every all-reduce row (memcpy rows included) as
//   [{"backend": "threads", "p": 2, "bytes": 4096, "impl": "ring", "time_us": 12.3,
//     "algbw_GBps": 0.33, "busbw_GBps": 0.33}, ...]
// (GB = 1e9 bytes; on the MPI backend rank 0 writes it).
//
// The data-parallel step. A GPT (C = 64, L = 2, NH = 4, untied) on a global batch of B = 8
// rows of T = 64 synthetic tokens: one process (N = 1), then N = 2 (and 4 on the threads
// backend) three ways: the whole backward, then one all-reduce per gradient tensor (Task 3.1's
// all_reduce_gradients); the engine's buckets reduced synchronously, each in the rank's own
// thread as soon as it is complete (DPOptions::overlap = false); and the bucketed asynchronous
// all-reduce (overlap = true: the reductions run on the rank's CommWorker while backward goes
// on). tokens/s = B T / step time; the variants take turns step by step. Before timing, the
// two engines must hold identical parameters after one step (overlap changes when a bucket is
// reduced, never what is added), and the per-tensor variant must agree with them within 1e-5.
//
// Items (threads backend; mlsys/bench.h Side: the grader times each side from outside):
//   allreduce_ring_16MiB_p4   Task 1.3: ring_all_reduce vs native_all_reduce, 16 MiB, p = 4.
//                             Graded (autograder/rubrics/pa3.json, CPU clock).
//   dp_overlap                Task 3.2: DP step with overlap vs without, N = 2. Not graded: on
//                             a machine with few cores its ratio is within the noise.
// Each validates first and exits 1 when the result is wrong (the starter code: NotImplemented).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "mlsys/bench.h"
#include "mlsys/error.h"
#include "pa3/collectives.h"
#include "pa3/comm.h"
#include "pa3/data.h"
#include "pa3/data_parallel.h"

namespace {

using mlsys::Tensor;
using Clock = std::chrono::steady_clock;

[[noreturn]] void invalid(const std::string& what) {
  throw mlsys::Error("pa3_bench: validation failed: " + what);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// ============================================================================================
// All-reduce table
// ============================================================================================

struct ArRow {
  std::string backend, impl;
  int p = 1;
  int64_t bytes = 0;
  double time_us = 0, algbw = 0, busbw = 0;  // GB/s (1e9 bytes)
};

struct Settings {
  bool quick = false;
  std::vector<ArRow> rows;  // filled on rank 0 only
};

std::vector<int64_t> sizes(bool quick) {
  std::vector<int64_t> out;
  for (int64_t b = 4 << 10; b <= (quick ? (4 << 20) : (64 << 20)); b *= 4) out.push_back(b);
  return out;
}

int iters_for(int64_t bytes, bool quick) {
  int it = bytes <= (64 << 10) ? 50 : bytes <= (1 << 20) ? 20 : bytes <= (16 << 20) ? 5 : 2;
  return quick ? std::max(1, it / 2) : it;
}

void print_ar_header() {
  std::printf("%-8s %3s %12s %-7s %12s %12s %12s\n", "backend", "p", "size (B)", "impl",
              "time (us)", "algbw (GB/s)", "busbw (GB/s)");
}

void print_ar_row(const ArRow& r) {
  std::printf("%-8s %3d %12lld %-7s %12.1f %12.3f %12.3f\n", r.backend.c_str(), r.p,
              static_cast<long long>(r.bytes), r.impl.c_str(), r.time_us, r.algbw, r.busbw);
  std::fflush(stdout);
}

ArRow make_row(const std::string& backend, const std::string& impl, int p, int64_t bytes,
               double us) {
  ArRow r{backend, impl, p, bytes, us, 0, 0};
  r.algbw = static_cast<double>(bytes) / (us * 1e3);
  r.busbw = p > 1 ? r.algbw * 2.0 * (p - 1) / p : r.algbw;
  return r;
}

// One std::memcpy of `bytes` on this thread: microseconds per copy (median of samples).
double time_memcpy(int64_t bytes, bool quick) {
  std::vector<char> src(static_cast<size_t>(bytes), 1), dst(static_cast<size_t>(bytes), 0);
  const int iters = iters_for(bytes, quick) * 2;
  std::vector<double> samples;
  std::memcpy(dst.data(), src.data(), src.size());
  for (int s = 0; s < (quick ? 3 : 5); ++s) {
    const auto t0 = Clock::now();
    for (int i = 0; i < iters; ++i) {
      std::memcpy(dst.data(), src.data(), src.size());
      src[static_cast<size_t>(i) % src.size()] ^= dst[0];  // keeps the copies from being merged
    }
    samples.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count() / iters);
  }
  return median(samples);
}

// Checks one all-reduce implementation on a buffer of n floats (rank r holds (i + r) mod 5;
// the sum is a small integer, exact in float32), then times it. Returns microseconds per call
// (the slowest rank of each sample, median over samples); the same on every rank.
double time_all_reduce(pa3::Communicator& comm, int64_t n, bool quick, const std::string& impl,
                       const std::function<void(const Tensor&)>& op) {
  const int p = comm.size(), r = comm.rank();
  Tensor t = mlsys::empty({n});
  float* x = t.data<float>();
  for (int64_t i = 0; i < n; ++i) x[i] = static_cast<float>((i + r) % 5);
  op(t);
  for (int64_t i = 0; i < n; ++i) {
    int64_t expect = 0;
    for (int q = 0; q < p; ++q) expect += (i + q) % 5;
    if (x[i] != static_cast<float>(expect)) {
      invalid(impl + " all-reduce of " + std::to_string(n) + " floats on " + std::to_string(p) +
              " ranks: rank " + std::to_string(r) + " element " + std::to_string(i) + " is " +
              std::to_string(x[i]) + ", expected " + std::to_string(expect) +
              " (run the Task 1.3 tests)");
    }
  }
  // Timed on zeros: the same work for any finite values, and repeated sums never overflow.
  std::fill(x, x + n, 0.f);
  const int iters = iters_for(4 * n, quick);
  for (int i = 0; i < 2; ++i) op(t);
  std::vector<double> samples;
  std::vector<double> mine(1), all(static_cast<size_t>(p));
  for (int s = 0; s < (quick ? 3 : 5); ++s) {
    comm.barrier();
    const auto t0 = Clock::now();
    for (int i = 0; i < iters; ++i) op(t);
    mine[0] = std::chrono::duration<double, std::micro>(Clock::now() - t0).count() / iters;
    comm.native_all_gather(mine.data(), all.data(), p);
    samples.push_back(*std::max_element(all.begin(), all.end()));
  }
  return median(samples);
}

// The table for one communicator (every rank calls it; rank 0 prints and keeps the rows).
void all_reduce_table(pa3::Communicator& comm, Settings& settings,
                      const std::vector<double>& memcpy_us) {
  const std::string backend = comm.backend_name();
  const int p = comm.size();
  const std::vector<int64_t> list = sizes(settings.quick);
  for (size_t k = 0; k < list.size(); ++k) {
    const int64_t bytes = list[k], n = bytes / 4;
    const double ring = time_all_reduce(comm, n, settings.quick, "ring",
                                        [&](const Tensor& t) { pa3::ring_all_reduce(comm, t); });
    const double native = time_all_reduce(comm, n, settings.quick, "native",
                                          [&](const Tensor& t) { comm.native_all_reduce(t); });
    if (comm.rank() == 0) {
      for (const ArRow& row : {make_row(backend, "ring", p, bytes, ring),
                               make_row(backend, "native", p, bytes, native),
                               make_row(backend, "memcpy", 1, bytes, memcpy_us[k])}) {
        print_ar_row(row);
        settings.rows.push_back(row);
      }
    }
  }
}

void write_json(const std::string& path, const std::vector<ArRow>& rows) {
  std::ofstream f(path);
  MLSYS_CHECK(f.good(), "pa3_bench", "cannot open '", path, "' for writing");
  f << "[\n";
  for (size_t i = 0; i < rows.size(); ++i) {
    const ArRow& r = rows[i];
    char line[320];
    std::snprintf(line, sizeof line,
                  "  {\"backend\": \"%s\", \"p\": %d, \"bytes\": %lld, \"impl\": \"%s\", "
                  "\"time_us\": %.3f, \"algbw_GBps\": %.5f, \"busbw_GBps\": %.5f}%s\n",
                  r.backend.c_str(), r.p, static_cast<long long>(r.bytes), r.impl.c_str(),
                  r.time_us, r.algbw, r.busbw, i + 1 < rows.size() ? "," : "");
    f << line;
  }
  f << "]\n";
}

// Ratios at the sizes the targets name: ring / native at >= 4 MiB, busbw / memcpy bandwidth.
void print_targets(const std::vector<ArRow>& rows) {
  std::printf("\nYour ring against the targets (ratios from the table above):\n");
  for (const ArRow& ring : rows) {
    if (ring.impl != "ring" || ring.bytes < (4 << 20)) continue;
    const ArRow* native = nullptr;
    const ArRow* copy = nullptr;
    for (const ArRow& o : rows) {
      if (o.bytes != ring.bytes || o.backend != ring.backend) continue;
      if (o.impl == "native" && o.p == ring.p) native = &o;
      if (o.impl == "memcpy") copy = &o;
    }
    std::printf("  %-7s p=%d %5lld MiB: ring busbw / native busbw = %.2f", ring.backend.c_str(),
                ring.p, static_cast<long long>(ring.bytes >> 20),
                native ? ring.busbw / native->busbw : 0.0);
    if (ring.backend == "mpi" && ring.p == 2) std::printf(" (target >= 0.7)");
    if (ring.backend == "threads") std::printf(" (a good ring: about 0.6 or more)");
    if (copy) std::printf(", ring busbw / memcpy bandwidth = %.2f", ring.busbw / copy->busbw);
    std::printf("\n");
  }
}

// ============================================================================================
// Data-parallel step
// ============================================================================================

struct DpSetup {
  pa3::GPTConfig config;
  int64_t B = 8, T = 64;
  std::vector<int32_t> tokens;
  DpSetup() {
    config.n_layer = 2;
    config.n_head = 4;
    config.n_embd = 64;
    config.block_size = 64;
    // Synthetic tokens (a fixed LCG): the benchmark needs no data file.
    uint64_t s = 12345;
    tokens.resize(20000);
    for (int32_t& tok : tokens) {
      s = s * 6364136223846793005ULL + 1442695040888963407ULL;
      tok = static_cast<int32_t>((s >> 33) % static_cast<uint64_t>(config.vocab_size));
    }
  }
  pa3::Batch batch(int64_t step) const { return pa3::global_batch(tokens, step, 42, B, T); }
};

pa3::DPOptions dp_options(bool overlap) {
  pa3::DPOptions o;
  o.overlap = overlap;
  return o;
}

// Task 3.1's data parallelism, without buckets: the whole forward and backward, then one
// native_all_reduce per gradient tensor (all_reduce_gradients), then AdamW.
class AfterBackward {
 public:
  AfterBackward(const pa3::Communicator& comm, const DpSetup& setup)
      : comm_(comm), setup_(setup), params_(pa3::gpt_init(setup.config, pa3::DPOptions().model_seed)),
        grads_(pa3::gpt_zeros_like(params_)), adamw_(params_.list(), pa3::AdamWConfig()) {
    pa3::broadcast_params(comm_, params_.list(), 0);
    trainable_.assign(params_.list().size(), true);
  }
  float step(const pa3::Batch& global) {
    const pa3::Batch local = pa3::batch_shard(global, comm_.rank(), comm_.size());
    pa3::zero_grads(grads_);
    double loss = pa3::gpt_forward(acts_, params_, setup_.config, local.inputs, local.targets);
    pa3::gpt_backward(grads_, acts_, params_, setup_.config, local.inputs, local.targets,
                      1.0f / static_cast<float>(setup_.B * setup_.T));
    pa3::all_reduce_gradients(comm_, grads_.list(), trainable_);
    adamw_.step(grads_.list());
    comm_.native_all_reduce(&loss, 1);
    return static_cast<float>(loss / comm_.size());
  }
  const pa3::GPTParams& params() const { return params_; }

 private:
  pa3::Communicator comm_;
  const DpSetup& setup_;
  pa3::GPTParams params_, grads_;
  pa3::GPTActs acts_;
  pa3::AdamW adamw_;
  std::vector<bool> trainable_;
};

// One data-parallel variant: 0 = all-reduce after backward (AfterBackward), 1 = the engine's
// buckets reduced synchronously (overlap = false), 2 = the engine with overlap.
enum class DpKind { AfterBackward = 0, Buckets = 1, Overlap = 2 };
const char* dp_name(DpKind k) {
  return k == DpKind::AfterBackward ? "all-reduce after backward (3.1)"
         : k == DpKind::Buckets     ? "buckets, no overlap (3.2 sync)"
                                    : "buckets, async overlap (3.2)";
}

// Every rank: after one step, the overlapped and the synchronous engine hold identical
// parameters (overlap changes when a bucket is reduced, never what is added), and the
// per-tensor all-reduce after backward agrees with them within 1e-5 (the ring adds N > 2
// terms in another order; handouts/pa3.md, section 5).
void validate_dp(const pa3::Communicator& comm, const DpSetup& setup) {
  pa3::DataParallel a(comm, setup.config, dp_options(true));
  pa3::DataParallel b(comm, setup.config, dp_options(false));
  AfterBackward c(comm, setup);
  const pa3::Batch batch = setup.batch(0);
  const float la = a.step(batch), lb = b.step(batch), lc = c.step(batch);
  if (!std::isfinite(la) || la != lb || std::fabs(la - lc) > 1e-5f * std::fabs(la)) {
    invalid("DP step loss " + std::to_string(la) + " with overlap, " + std::to_string(lb) +
            " without, " + std::to_string(lc) + " after backward (run the Task 3 tests)");
  }
  const std::vector<pa3::NamedTensor> pa = a.full_params().list(), pb = b.full_params().list(),
                                      pc = c.params().list();
  for (size_t i = 0; i < pa.size(); ++i) {
    const float* x = pa[i].tensor.data<float>();
    const float* y = pb[i].tensor.data<float>();
    const float* z = pc[i].tensor.data<float>();
    if (std::memcmp(x, y, sizeof(float) * pa[i].tensor.numel()) != 0)
      invalid("DP step: parameter " + pa[i].name + " differs with and without overlap after one "
              "step (run the Task 3 tests)");
    for (int64_t k = 0; k < pa[i].tensor.numel(); ++k)
      if (!(std::fabs(x[k] - z[k]) <= 1e-5f))
        invalid("DP step: parameter " + pa[i].name + " of the bucketed engine differs from the "
                "all-reduce after backward by more than 1e-5 (run the Task 3 tests)");
  }
}

// Milliseconds per step, median over `steps` rounds (rank 0's clock; every step ends with the
// loss all-reduce, so the ranks leave it together): [0] one process (rank 0 alone on a
// communicator of its own while the others wait in a barrier), then DpKind 0, 1, 2 on every
// rank. The variants take turns within each round, so a machine that gets busier or quieter
// during the run slows them all alike.
std::vector<double> time_dp(const pa3::Communicator& comm, const DpSetup& setup, int steps) {
  validate_dp(comm, setup);
  const pa3::Communicator solo = comm.split(comm.rank() == 0 ? 0 : 1, comm.rank());
  std::unique_ptr<pa3::DataParallel> single;
  if (comm.rank() == 0) single = std::make_unique<pa3::DataParallel>(solo, setup.config, dp_options(false));
  AfterBackward after(comm, setup);
  pa3::DataParallel sync(comm, setup.config, dp_options(false));
  pa3::DataParallel overlap(comm, setup.config, dp_options(true));
  const std::function<void(const pa3::Batch&)> variants[] = {
      [&](const pa3::Batch& b) { after.step(b); }, [&](const pa3::Batch& b) { sync.step(b); },
      [&](const pa3::Batch& b) { overlap.step(b); }};
  const pa3::Batch batch = setup.batch(1);
  std::vector<std::vector<double>> ms(4);
  for (int round = -2; round < steps; ++round) {  // two warm-up rounds
    if (comm.rank() == 0) {
      const auto t0 = Clock::now();
      single->step(batch);
      if (round >= 0) ms[0].push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    }
    for (int k = 0; k < 3; ++k) {
      comm.barrier();
      const auto t0 = Clock::now();
      variants[k](batch);
      if (round >= 0) ms[k + 1].push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    }
  }
  comm.barrier();
  std::vector<double> out;
  for (const std::vector<double>& v : ms) out.push_back(v.empty() ? 0.0 : median(v));
  return out;
}

void print_dp_row(const std::string& backend, const std::string& what, int N, double ms,
                  const DpSetup& setup, double single_ms) {
  const double tokens = static_cast<double>(setup.B * setup.T);
  std::printf("%-8s %-34s %3d %10.2f %12.0f %8.2fx\n", backend.c_str(), what.c_str(), N, ms,
              tokens / (ms * 1e-3), single_ms / ms);
  std::fflush(stdout);
}

void print_dp_header(const DpSetup& setup, int64_t params) {
  std::printf("\nData-parallel step: GPT C=%lld L=%lld NH=%lld (%lld parameters), global batch "
              "B=%lld x T=%lld tokens; speedup = single-process time / this time\n",
              static_cast<long long>(setup.config.n_embd), static_cast<long long>(setup.config.n_layer),
              static_cast<long long>(setup.config.n_head), static_cast<long long>(params),
              static_cast<long long>(setup.B), static_cast<long long>(setup.T));
  std::printf("%-8s %-34s %3s %10s %12s %9s\n", "backend", "step", "N", "ms/step", "tokens/s",
              "speedup");
}

// ============================================================================================
// Items (threads backend)
// ============================================================================================
//
// Each rank times the same calls with mlsys::bench::time_cpu, so that under the grader's
// outside measurement (exactly R repeats of one side) every rank runs the same number of
// collectives. Rank 0's statistics are reported.

constexpr int64_t kItemAllReduceFloats = (16 << 20) / 4;  // 16 MiB
constexpr int kItemAllReduceRanks = 4;
constexpr int kItemDpRanks = 2;

void item_all_reduce() {
  mlsys::bench::Stats ours, ref;
  pa3::run_ranks(kItemAllReduceRanks, [&](pa3::Communicator& comm) {
    const int64_t n = kItemAllReduceFloats;
    // Validation (exact integers), as in the table.
    time_all_reduce(comm, 4099, true, "ring", [&](const Tensor& t) { pa3::ring_all_reduce(comm, t); });
    Tensor t = mlsys::empty({n});
    float* x = t.data<float>();
    for (int64_t i = 0; i < n; ++i) x[i] = static_cast<float>((i + comm.rank()) % 5);
    pa3::ring_all_reduce(comm, t);
    for (int64_t i = 0; i < n; i += 9973) {
      int64_t expect = 0;
      for (int q = 0; q < comm.size(); ++q) expect += (i + q) % 5;
      if (x[i] != static_cast<float>(expect))
        invalid("ring all-reduce of 16 MiB: element " + std::to_string(i) + " is " +
                std::to_string(x[i]) + ", expected " + std::to_string(expect));
    }
    // The timed calls reduce the checked sums scaled by 2^-120 (never zeros, which a ring could
    // detect and skip): each call multiplies them by p = 4, exactly, and they are checked again
    // after the timing. Before each call every rank doubles one element of its own (a different
    // one each call and rank), so no call's input is its previous output on every rank (a ring
    // that caches its output and multiplies by p when it sees it again is wrong there): that
    // element's sum becomes (p - 1 + 2)/p = 5/4 of what it would have been.
    for (int64_t i = 0; i < n; ++i) x[i] = std::ldexp(x[i], -120);
    const int p = comm.size();
    auto perturbed = [&](int call, int rank) { return 1 + 7 * (int64_t{call} * p + rank); };
    int calls = 0;
    auto perturb = [&] { x[perturbed(calls, comm.rank())] *= 2.f; };
    mlsys::bench::Options o;
    o.warmup = 2;
    o.repeats = 10;
    // expected = sum * factor * 4^calls * 2^-120; factor 1 or 5/4 (exact in float).
    auto check = [&](int64_t i, float factor) {
      int64_t sum = 0;
      for (int q = 0; q < p; ++q) sum += (i + q) % 5;
      const float expect = std::ldexp(static_cast<float>(sum) * factor, -120 + 2 * calls);
      if (x[i] != expect)
        invalid("ring all-reduce of 16 MiB, after " + std::to_string(calls) + " timed calls: " +
                "element " + std::to_string(i) + " is " + std::to_string(x[i] / expect) +
                (factor == 1.f ? " times the sum"
                               : " times 5/4 of the sum (one rank doubled it before a call)"));
    };
    static_assert(kItemAllReduceRanks == 4, "the 5/4 of a doubled element assumes p = 4");
    auto check_all = [&] {
      for (int64_t i = 0; i < n && calls <= 120; i += 9973) check(i, 1.f);
      for (int k = 0; k < calls && calls <= 120; ++k)
        for (int q = 0; q < p; ++q) check(perturbed(k, q), 1.25f);
    };
    // Checked right after the ring's calls too: the native calls that follow would sum the
    // ranks' different values into the right ones again.
    mlsys::bench::Stats s_ours = mlsys::bench::time_cpu(
        [&] { perturb(); pa3::ring_all_reduce(comm, t); ++calls; }, o);
    check_all();
    mlsys::bench::Stats s_ref = mlsys::bench::time_cpu(
        [&] { perturb(); comm.native_all_reduce(t); ++calls; }, mlsys::bench::reference(o));
    check_all();
    if (comm.rank() == 0) {
      ours = s_ours;
      ref = s_ref;
    }
  });
  const double bytes = 4.0 * kItemAllReduceFloats, factor = 2.0 * (kItemAllReduceRanks - 1) / kItemAllReduceRanks;
  char extra[160];
  std::snprintf(extra, sizeof extra, "threads, p=%d, 16 MiB; busbw GB/s ring %.2f, native %.2f",
                kItemAllReduceRanks, bytes * factor / (ours.median_ms * 1e6),
                bytes * factor / (ref.median_ms * 1e6));
  mlsys::bench::report("allreduce_ring_16MiB_p4", ours, ref, "native_all_reduce", 0.7, extra);
}

void item_dp_overlap() {
  const DpSetup setup;
  mlsys::bench::Stats ours, ref;
  pa3::run_ranks(kItemDpRanks, [&](pa3::Communicator& comm) {
    validate_dp(comm, setup);
    pa3::DataParallel with(comm, setup.config, dp_options(true));
    pa3::DataParallel without(comm, setup.config, dp_options(false));
    const pa3::Batch batch = setup.batch(1);
    mlsys::bench::Options o;
    o.warmup = 2;
    o.repeats = 10;
    mlsys::bench::Stats s_ours = mlsys::bench::time_cpu([&] { with.step(batch); }, o);
    mlsys::bench::Stats s_ref =
        mlsys::bench::time_cpu([&] { without.step(batch); }, mlsys::bench::reference(o));
    if (comm.rank() == 0) {
      ours = s_ours;
      ref = s_ref;
    }
  });
  const double tokens = static_cast<double>(setup.B * setup.T);
  char extra[160];
  std::snprintf(extra, sizeof extra, "threads, N=%d; tokens/s overlap %.0f, no overlap %.0f",
                kItemDpRanks, tokens / (ours.median_ms * 1e-3), tokens / (ref.median_ms * 1e-3));
  mlsys::bench::report("dp_overlap", ours, ref, "DP step without overlap", 1.0, extra);
}

// ============================================================================================
// Driver
// ============================================================================================

int64_t count_params(const pa3::GPTConfig& config) { return pa3::gpt_init(config, 1).num_params(); }

// The data-parallel section on one communicator (MPI) or on run_ranks (threads).
void print_dp_rows(const std::string& backend, int N, const std::vector<double>& ms,
                   const DpSetup& setup) {
  print_dp_row(backend, "single process (N = 1)", 1, ms[0], setup, ms[0]);
  for (int k = 0; k < 3; ++k) print_dp_row(backend, dp_name(static_cast<DpKind>(k)), N, ms[k + 1], setup, ms[0]);
}

void dp_section_threads(bool quick) {
  const DpSetup setup;
  print_dp_header(setup, count_params(setup.config));
  for (int N : {2, 4}) {
    if (quick && N == 4) continue;
    std::vector<double> ms;
    pa3::run_ranks(N, [&](pa3::Communicator& comm) {
      std::vector<double> t = time_dp(comm, setup, quick ? 3 : 10);
      if (comm.rank() == 0) ms = t;
    });
    print_dp_rows("threads", N, ms, setup);
  }
}

void dp_section_mpi(pa3::Communicator& world, bool quick) {
  const DpSetup setup;
  if (world.rank() == 0) print_dp_header(setup, count_params(setup.config));
  const std::vector<double> ms = time_dp(world, setup, quick ? 3 : 10);
  if (world.rank() == 0) print_dp_rows("mpi", world.size(), ms, setup);
}

int usage() {
  std::fprintf(stderr,
               "usage: pa3_bench [--backend threads|mpi] [--world P] [--quick] [--json PATH]\n"
               "                 [--item allreduce_ring_16MiB_p4|dp_overlap] [--list]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  pa3::LaunchOptions launch;
  try {
    launch = pa3::parse_launch_args(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return usage();
  }
  std::string item, json;
  Settings settings;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--item" && i + 1 < argc) item = argv[++i];
    else if (a == "--json" && i + 1 < argc) json = argv[++i];
    else if (a == "--quick") settings.quick = true;
    else if (a == "--list") {
      std::printf("allreduce_ring_16MiB_p4\ndp_overlap\n");
      return 0;
    } else return usage();
  }
  const std::vector<std::string> items = {"allreduce_ring_16MiB_p4", "dp_overlap"};
  if (!item.empty() && std::find(items.begin(), items.end(), item) == items.end()) {
    std::fprintf(stderr, "pa3_bench: unknown item '%s' (--list shows them)\n", item.c_str());
    return 2;
  }

  // ---- one graded item (threads backend) -----------------------------------------------------
  if (!item.empty()) {
    if (launch.backend != "threads") {
      std::fprintf(stderr, "pa3_bench: --item runs on the threads backend only\n");
      return 2;
    }
    try {
      mlsys::bench::print_header();
      if (item == "allreduce_ring_16MiB_p4") item_all_reduce();
      else item_dp_overlap();
    } catch (const std::exception& e) {
      std::printf("%-36s FAILED: %s\n", item.c_str(), e.what());
      return 1;
    }
    return 0;
  }

  // ---- the tables ----------------------------------------------------------------------------
  std::vector<double> memcpy_us;
  auto measure_memcpy = [&] {
    for (int64_t bytes : sizes(settings.quick)) memcpy_us.push_back(time_memcpy(bytes, settings.quick));
  };
  if (launch.backend == "mpi") {
    // A fresh argv for launch(): it only needs the backend (and checks --world if given).
    std::string world_arg = std::to_string(launch.world);
    std::vector<char*> args = {argv[0], const_cast<char*>("--backend"), const_cast<char*>("mpi")};
    if (launch.world > 0) {
      args.push_back(const_cast<char*>("--world"));
      args.push_back(&world_arg[0]);
    }
    args.push_back(nullptr);
    int n = static_cast<int>(args.size()) - 1;
    return pa3::launch(n, args.data(), [&](pa3::Communicator& comm) {
      if (comm.rank() == 0) {
        std::printf("pa3_bench: MPI backend, p = %d processes%s\n\n", comm.size(),
                    settings.quick ? "; --quick" : "");
        measure_memcpy();
        print_ar_header();
      }
      comm.barrier();
      memcpy_us.resize(sizes(settings.quick).size());
      comm.native_broadcast(memcpy_us.data(), memcpy_us.size() * sizeof(double), 0);
      all_reduce_table(comm, settings, memcpy_us);
      if (comm.rank() == 0) print_targets(settings.rows);
      // The JSON before the data-parallel table: it needs Task 1 only (Task 3 may be missing).
      if (comm.rank() == 0 && !json.empty()) {
        write_json(json, settings.rows);
        std::printf("\nwrote %s\n", json.c_str());
      }
      dp_section_mpi(comm, settings.quick);
    });
  }

  try {
    std::printf("pa3_bench: threads backend (one process, one thread per rank)%s\n\n",
                settings.quick ? "; --quick" : "");
    measure_memcpy();
    print_ar_header();
    std::vector<int> worlds = {2, 4};
    if (launch.world > 0) worlds = {launch.world};
    for (int p : worlds)
      pa3::run_ranks(p, [&](pa3::Communicator& comm) { all_reduce_table(comm, settings, memcpy_us); });
    print_targets(settings.rows);
    // The JSON before the data-parallel table: it needs Task 1 only (Task 3 may be missing).
    if (!json.empty()) {
      write_json(json, settings.rows);
      std::printf("\nwrote %s\n", json.c_str());
    }
    dp_section_threads(settings.quick);
  } catch (const std::exception& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "pa3_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
