// Benchmark helpers: warm-up, repeats, median/min, CUDA events, same-run ratios, JSON output.
#include "mlsys/bench.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <fstream>
#include <numeric>

#include "mlsys/error.h"

#ifdef MLSYS_HAVE_CUDA
#include <cuda_runtime.h>
#endif

namespace mlsys::bench {

static Stats summarize(std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  Stats s;
  s.repeats = static_cast<int>(ms.size());
  s.min_ms = ms.front();
  s.median_ms = ms.size() % 2 ? ms[ms.size() / 2] : 0.5 * (ms[ms.size() / 2 - 1] + ms[ms.size() / 2]);
  s.mean_ms = std::accumulate(ms.begin(), ms.end(), 0.0) / static_cast<double>(ms.size());
  return s;
}

// Set by the grader (see Side in bench.h), with a nonce the process prints once the measured
// side's repeats are done. Read by a priority constructor, before ordinary static initializers
// (the grader rejects student objects with priority constructors), and removed.
struct OutsideMeasurement {
  bool active = false;
  Side side = Side::Ours;
  int repeats = 0;
  char nonce[64] = {};  // printed when the measured side's repeats are done
};
// Constant-initialized (no constructor runs later to undo what the priority constructor read).

static OutsideMeasurement g_outside;

__attribute__((constructor(101))) static void read_outside_measurement() {
  const char* side = std::getenv("MLSYS_BENCH_SIDE");
  const char* repeats = std::getenv("MLSYS_BENCH_REPEATS");
  if (side && repeats) {
    g_outside.active = true;
    g_outside.side = std::string(side) == "reference" ? Side::Reference : Side::Ours;
    g_outside.repeats = std::max(0, std::atoi(repeats));
    if (const char* nonce = std::getenv("MLSYS_BENCH_NONCE"))
      std::snprintf(g_outside.nonce, sizeof g_outside.nonce, "%s", nonce);
  }
  ::unsetenv("MLSYS_BENCH_SIDE");
  ::unsetenv("MLSYS_BENCH_REPEATS");
  ::unsetenv("MLSYS_BENCH_NONCE");
}

bool measured_from_outside() { return g_outside.active; }

template <typename TimeOne>
static Stats run(TimeOne time_one, Options o) {
  if (g_outside.active && o.side != Side::Calibration) {
    if (o.side != g_outside.side) return Stats{};
    for (int i = 0; i < o.warmup; ++i) time_one();
    std::vector<double> ms;
    for (int i = 0; i < g_outside.repeats; ++i) ms.push_back(time_one());
    // The grader accepts a measurement only if the process got here: an early exit has no nonce.
    std::printf("mlsys-bench: done %s\n", g_outside.nonce);
    std::fflush(stdout);
    return ms.empty() ? Stats{} : summarize(ms);
  }
  MLSYS_CHECK(o.repeats > 0, "bench", "repeats must be positive, got ", o.repeats);
  for (int i = 0; i < o.warmup; ++i) time_one();
  std::vector<double> ms;
  double total = 0;
  while (static_cast<int>(ms.size()) < o.repeats || (total < o.min_total_ms && ms.size() < 1000)) {
    ms.push_back(time_one());
    total += ms.back();
  }
  return summarize(ms);
}

Stats time_cpu(const std::function<void()>& fn, Options options) {
  return run(
      [&] {
        auto t0 = std::chrono::steady_clock::now();
        fn();
        auto t1 = std::chrono::steady_clock::now();
        return std::chrono::duration<double, std::milli>(t1 - t0).count();
      },
      options);
}

Stats time_cuda(const std::function<void()>& fn, Options options) {
#ifdef MLSYS_HAVE_CUDA
  cudaEvent_t start, stop;
  MLSYS_CHECK(cudaEventCreate(&start) == cudaSuccess && cudaEventCreate(&stop) == cudaSuccess,
              "bench::time_cuda", "cudaEventCreate failed (is a GPU present?)");
  auto once = [&] {
    cudaEventRecord(start);
    fn();
    cudaEventRecord(stop);
    cudaError_t err = cudaEventSynchronize(stop);
    MLSYS_CHECK(err == cudaSuccess, "bench::time_cuda", "the timed work failed: ",
                cudaGetErrorString(err));
    float ms = 0;
    cudaEventElapsedTime(&ms, start, stop);
    return static_cast<double>(ms);
  };
  Stats s = run(once, options);
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  return s;
#else
  (void)fn;
  (void)options;
  MLSYS_FAIL("bench::time_cuda", "this build has no CUDA support");
#endif
}

static std::vector<Row>& all_rows() {
  static std::vector<Row> r;
  return r;
}

const std::vector<Row>& rows() { return all_rows(); }

void print_header() {
  std::printf("%-36s %12s %12s %9s %7s  %s\n", "benchmark", "ours (ms)", "ref (ms)", "ratio",
              "goal", "reference / notes");
}

Row report(const std::string& name, const Stats& ours, const Stats& reference,
           const std::string& reference_name, double goal, const std::string& extra) {
  Row r{name, reference_name, ours, reference, ratio(ours, reference), goal, extra};
  std::printf("%-36s %12.4f %12.4f %8.3fx %6s%s  %s%s%s\n", name.c_str(), ours.median_ms,
              reference.median_ms, r.ratio, goal > 0 ? (std::to_string(goal).substr(0, 4) + "x").c_str() : "-",
              goal > 0 ? (r.ratio >= goal ? " " : "!") : " ", reference_name.c_str(),
              extra.empty() ? "" : "; ", extra.c_str());
  std::fflush(stdout);
  all_rows().push_back(r);
  return r;
}

void write_json(const std::string& path) {
  std::ofstream f(path);
  MLSYS_CHECK(f.good(), "bench::write_json", "cannot open '", path, "' for writing");
  f << "[\n";
  for (size_t i = 0; i < all_rows().size(); ++i) {
    const Row& r = all_rows()[i];
    f << "  {\"name\": \"" << r.name << "\", \"reference\": \"" << r.reference_name
      << "\", \"ours_median_ms\": " << r.ours.median_ms << ", \"ours_min_ms\": " << r.ours.min_ms
      << ", \"ref_median_ms\": " << r.reference.median_ms << ", \"ref_min_ms\": " << r.reference.min_ms
      << ", \"ratio\": " << r.ratio << ", \"goal\": " << r.goal << ", \"notes\": \"" << r.extra
      << "\"}" << (i + 1 < all_rows().size() ? "," : "") << "\n";
  }
  f << "]\n";
}

}  // namespace mlsys::bench
