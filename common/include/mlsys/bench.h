// mlsys/bench.h — benchmark helpers: validate first, warm up, repeat, report the median.
//
//   auto ours = mlsys::bench::time_cpu([&] { matmul(a, b); });
//   auto ref  = mlsys::bench::time_cpu([&] { eigen_a * eigen_b; }, mlsys::bench::reference({}));
//   mlsys::bench::report("matmul 512", ours, ref, "Eigen");   // prints ratio = ref / ours
//
// Ratios are always taken against a reference timed on the same machine in the same run:
// ratio > 1 means ours is faster. Absolute times are printed for context, never asserted.
// Time the reference with reference(options) (see Side below).
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace mlsys::bench {

struct Stats {
  double median_ms = 0, min_ms = 0, mean_ms = 0;
  int repeats = 0;
};

// Which side of a comparison a timing belongs to. The official grader does not believe times a
// benchmark reports: it runs the benchmark twice per side, with R and with 0 timed repeats, and
// measures the processes from outside; the difference of the two is R repeats of that side's
// work. It says which side and R through the environment (MLSYS_BENCH_SIDE=ours|reference,
// MLSYS_BENCH_REPEATS=R, read before any other initializer and removed): then only the timings
// of that side run, each exactly R times after its warm-up, and the other side's are skipped
// (they return empty Stats). Calibration timings (choosing a repeat count) always run as asked.
enum class Side { Ours, Reference, Calibration };

struct Options {
  int warmup = 2;
  int repeats = 10;
  double min_total_ms = 0;  // keep repeating (up to 1000 runs) until at least this long
  Side side = Side::Ours;
};

// `o` for the reference side of a comparison (the library, memcpy, a baseline kernel).
inline Options reference(Options o) {
  o.side = Side::Reference;
  return o;
}

// Whether the grader is measuring one side of this process's timings from outside.
bool measured_from_outside();

// Wall-clock timing of fn() on the host.
Stats time_cpu(const std::function<void()>& fn, Options options = {});
// CUDA-event timing of the work fn() enqueues on the default stream. Throws without CUDA.
Stats time_cuda(const std::function<void()>& fn, Options options = {});

// Speed ratio reference/ours (> 1: ours is faster).
inline double ratio(const Stats& ours, const Stats& reference) {
  return reference.median_ms / ours.median_ms;
}

// One result row; `extra` is e.g. "GFLOP/s" figures. Printed as an aligned table line and
// collected for write_json().
struct Row {
  std::string name, reference_name;
  Stats ours, reference;
  double ratio = 0, goal = 0;
  std::string extra;
};
Row report(const std::string& name, const Stats& ours, const Stats& reference,
           const std::string& reference_name, double goal = 0, const std::string& extra = "");
void print_header();
// Writes every row reported so far as JSON (for plots and the grader).
void write_json(const std::string& path);
const std::vector<Row>& rows();

}  // namespace mlsys::bench
