// pa2_cpu_bench — PA2 CPU track benchmark: every matmul step against Eigen, softmax and
// layernorm against a memcpy of the same bytes. Validate first, then time (mlsys/bench.h:
// warm-up, repeats, median), and report the ratio to the reference timed in this same run.
//
//   pa2_cpu_bench                       every item
//   pa2_cpu_bench --quick               a short subset (the notebook uses it)
//   pa2_cpu_bench --item sgemm_1024_mt  one item (the grader runs each performance item so)
//   pa2_cpu_bench --list                the item names
//   --json PATH                         also write the rows as JSON (name = item id)
//   --threads N                         threads for the multi-threaded items (default: OpenMP's)
//
// Items:
//   sgemm_<S>_<step>   C[S,S] = A[S,S] @ B[S,S], S in {256, 1024, 2048}; step naive, reorder,
//                      tiled, simd (Tasks 1.1-1.4) on one thread vs Eigen on one thread, and
//                      mt (Task 1.5) on every thread vs Eigen on every thread. The naive step
//                      is skipped at 2048 (minutes per run).
//   sgemm_512_reorder_vs_naive
//                      Task 1.2 at 512^3 on one thread against Task 1.1's kernel on one thread
//                      (the previous step). Graded: in the grader's build of Task 1.2 both the
//                      naive kernel and everything else are staff code and the reorder kernel is
//                      yours; the reference side runs in the reference build (staff naive).
//   softmax, layernorm 8192 x 1024 rows (Tasks 2.1, 2.2), every thread, vs a memcpy of the
//                      same bytes on every thread: a ratio near 1 means bandwidth-bound.
// ratio = reference time / our time (> 1: faster than the reference). The notes give GFLOP/s
// and GB/s, and flops= / bytes= (minimum memory traffic) for the roofline plot.
// A step that is still a stub (mlsys::NotImplemented) or fails validation is reported and
// skipped (no JSON row); the exit code is then 1.
//
// Each graded item runs its task's own configuration: the student file of that task and the
// staff code for every other file (the grader builds one configuration per task), so Task
// 1.5's items measure the student's 1.5 with the staff 1.4 micro-kernel.
#include <omp.h>

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "mlsys/bench.h"
#include "mlsys/tensor.h"
#include "pa2/cpu.h"

namespace {

using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using pa2::cpu::MatmulStep;

constexpr double kU = 5.9604644775390625e-08;  // float32 unit roundoff, 2^-24
int g_threads = 1;                              // threads for the multi-threaded items

void set_threads(int n) {
  omp_set_num_threads(n);
  Eigen::setNbThreads(n);
}

std::string fmt(const char* format, double a, double b = 0, double c = 0, double d = 0) {
  char buf[256];
  std::snprintf(buf, sizeof buf, format, a, b, c, d);
  return buf;
}

// Slow runs (the validation run took > 0.3 s) get fewer repeats; fast ones repeat for >= 0.2 s.
mlsys::bench::Options options_for(double first_run_ms) {
  mlsys::bench::Options o;
  if (first_run_ms > 300) {
    o.warmup = 0;  // the validation run warmed up
    o.repeats = 3;
  } else {
    o.warmup = 2;
    o.repeats = 7;
    o.min_total_ms = 200;
  }
  return o;
}

double time_once_ms(const std::function<void()>& fn) {
  return mlsys::bench::time_cpu(fn, {0, 1, 0, mlsys::bench::Side::Calibration}).median_ms;
}

// ---- SGEMM --------------------------------------------------------------------------------

struct SgemmData {
  RowMat A, B, C_eigen, bound;  // bound = |A| |B|, for the validation tolerance
};

SgemmData& sgemm_data(int64_t S) {
  static std::map<int64_t, SgemmData> cache;
  auto it = cache.find(S);
  if (it != cache.end()) return it->second;
  SgemmData& d = cache[S];
  auto fill = [S](uint64_t seed) {
    std::vector<float> v = mlsys::rand({S * S}, seed, -1.f, 1.f).to_vector<float>();
    return RowMat(Eigen::Map<RowMat>(v.data(), S, S));
  };
  d.A = fill(1);
  d.B = fill(2);
  d.C_eigen.resize(S, S);
  d.bound = d.A.cwiseAbs() * d.B.cwiseAbs();
  return d;
}

using Kernel = void (*)(const float*, const float*, float*, int64_t, int64_t, int64_t, int64_t,
                        int64_t, int64_t);
Kernel kernel_of(MatmulStep step) {
  switch (step) {
    case MatmulStep::Naive: return pa2::cpu::matmul_naive;
    case MatmulStep::Reorder: return pa2::cpu::matmul_reorder;
    case MatmulStep::Tiled: return pa2::cpu::matmul_tiled;
    case MatmulStep::Simd: return pa2::cpu::matmul_simd;
    case MatmulStep::Parallel: return pa2::cpu::matmul_parallel;
    case MatmulStep::Reference: break;
  }
  return pa2::cpu::reference::matmul;
}

// baseline: MatmulStep::Reference times Eigen as the reference side; any other step times that
// step's kernel (on one thread) as the reference side instead.
bool bench_sgemm(const std::string& name, int64_t S, MatmulStep step, double goal,
                 MatmulStep baseline = MatmulStep::Reference) {
  const bool mt = step == MatmulStep::Parallel;
  const int threads = mt ? g_threads : 1;
  set_threads(threads);
  SgemmData& d = sgemm_data(S);
  RowMat C(S, S);
  C.setConstant(std::nanf(""));
  Kernel kernel = kernel_of(step);
  auto ours = [&] { kernel(d.A.data(), d.B.data(), C.data(), S, S, S, S, S, S); };
  auto eigen = [&] { d.C_eigen.noalias() = d.A * d.B; };

  // Validate: |C - C_eigen| <= 8 sqrt(K) eps |A||B| (both are fp32 products; see the tests).
  double first_ms = time_once_ms(ours);
  eigen();
  const double factor = 8 * std::sqrt(double(S)) * 2 * kU;
  int64_t bad = 0;
  double max_err = 0;
  for (int64_t i = 0; i < S; ++i)
    for (int64_t j = 0; j < S; ++j) {
      double err = std::fabs(double(C(i, j)) - d.C_eigen(i, j));
      if (!(err <= factor * d.bound(i, j))) ++bad;
      if (std::isfinite(err)) max_err = std::max(max_err, err);
    }
  if (bad) {
    std::printf("%-36s FAILED validation: %lld of %lld elements differ from Eigen (max |error| %g); "
                "run the task's tests\n", name.c_str(), (long long)bad, (long long)(S * S), max_err);
    return false;
  }

  mlsys::bench::Stats t_ours = mlsys::bench::time_cpu(ours, options_for(first_ms));
  std::string ref_name = "Eigen (" + std::to_string(threads) + (threads == 1 ? " thread)" : " threads)");
  std::function<void()> ref_fn = eigen;
  RowMat C_base;
  if (baseline != MatmulStep::Reference) {
    C_base.resize(S, S);
    Kernel base = kernel_of(baseline);
    ref_fn = [&d, &C_base, base, S] { base(d.A.data(), d.B.data(), C_base.data(), S, S, S, S, S, S); };
    ref_name = std::string(baseline == MatmulStep::Naive ? "Task 1.1 naive kernel" : "previous step") +
               " (" + std::to_string(threads) + " thread)";
  }
  mlsys::bench::Stats t_ref = mlsys::bench::time_cpu(ref_fn, mlsys::bench::reference(options_for(t_ours.median_ms)));
  const double flops = 2.0 * S * S * S, bytes = 4.0 * 3 * S * S;
  mlsys::bench::report(name, t_ours, t_ref, ref_name, goal,
                       fmt("GFLOP/s ours %.1f, ref %.1f; ", flops / t_ours.median_ms * 1e-6,
                           flops / t_ref.median_ms * 1e-6) +
                           fmt("flops=%.6g bytes=%.6g threads=%g", flops, bytes, threads));
  return true;
}

// ---- softmax, layernorm ------------------------------------------------------------------------

// A memcpy of `bytes` split over the threads: the bandwidth yardstick.
void parallel_copy(const float* src, float* dst, int64_t count) {
#pragma omp parallel
  {
    int t = omp_get_thread_num(), n = omp_get_num_threads();
    int64_t chunk = (count + n - 1) / n, begin = std::min(count, t * chunk),
            end = std::min(count, begin + chunk);
    std::memcpy(dst + begin, src + begin, size_t(end - begin) * sizeof(float));
  }
}

bool report_rowwise(const std::string& name, int64_t rows, int64_t cols, double flops_per_elem,
                    const std::function<void()>& ours, double first_ms, const float* x, float* scratch,
                    double goal) {
  const int64_t n = rows * cols;
  mlsys::bench::Stats t_ours = mlsys::bench::time_cpu(ours, options_for(first_ms));
  mlsys::bench::Stats t_ref = mlsys::bench::time_cpu([&] { parallel_copy(x, scratch, n); }, mlsys::bench::reference(options_for(1)));
  const double bytes = 2.0 * 4 * n;  // read x, write y
  mlsys::bench::report(name, t_ours, t_ref, "memcpy (" + std::to_string(g_threads) + " threads)", goal,
                       fmt("GB/s ours %.1f, memcpy %.1f; ", bytes / t_ours.median_ms * 1e-6,
                           bytes / t_ref.median_ms * 1e-6) +
                           fmt("rows=%g cols=%g flops=%.6g bytes=%.6g", double(rows), double(cols),
                               flops_per_elem * n, bytes) +
                           fmt(" threads=%g", g_threads));
  return true;
}

bool bench_softmax(const std::string& name, int64_t rows, int64_t cols) {
  set_threads(g_threads);
  std::vector<float> x = mlsys::rand({rows * cols}, 5, -5.f, 5.f).to_vector<float>();
  std::vector<float> y(x.size(), std::nanf("")), scratch(x.size());
  auto ours = [&] { pa2::cpu::softmax_forward(x.data(), y.data(), rows, cols, cols, cols); };
  double first_ms = time_once_ms(ours);
  pa2::cpu::reference::softmax_forward(x.data(), scratch.data(), rows, cols, cols, cols);
  const double rtol = (16 + 4 * std::sqrt(double(cols))) * kU;
  int64_t bad = 0;
  for (size_t k = 0; k < x.size(); ++k)
    if (!(std::fabs(double(y[k]) - scratch[k]) <= rtol * std::fabs(double(scratch[k])) + 1e-30)) ++bad;
  if (bad) {
    std::printf("%-36s FAILED validation: %lld of %zu elements differ from the reference; run the "
                "Task 2.1 tests\n", name.c_str(), (long long)bad, x.size());
    return false;
  }
  return report_rowwise(name, rows, cols, 5, ours, first_ms, x.data(), scratch.data(), 0.7);
}

bool bench_layernorm(const std::string& name, int64_t rows, int64_t cols) {
  set_threads(g_threads);
  std::vector<float> x = mlsys::rand({rows * cols}, 6, -2.f, 2.f).to_vector<float>();
  std::vector<float> gamma = mlsys::rand({cols}, 7, 0.5f, 2.f).to_vector<float>();
  std::vector<float> beta = mlsys::rand({cols}, 8, -1.f, 1.f).to_vector<float>();
  std::vector<float> y(x.size(), std::nanf("")), scratch(x.size()), mean(static_cast<size_t>(rows)),
      rstd(static_cast<size_t>(rows));
  auto ours = [&] {
    pa2::cpu::layernorm_forward(x.data(), gamma.data(), beta.data(), y.data(), mean.data(),
                                rstd.data(), rows, cols, cols, cols, 1e-5f);
  };
  double first_ms = time_once_ms(ours);
  pa2::cpu::reference::layernorm_forward(x.data(), gamma.data(), beta.data(), scratch.data(),
                                         nullptr, nullptr, rows, cols, cols, cols, 1e-5f);
  int64_t bad = 0;
  for (size_t k = 0; k < x.size(); ++k)
    if (!(std::fabs(double(y[k]) - scratch[k]) <= 1e-5 * (1 + std::fabs(double(scratch[k]))))) ++bad;
  if (bad) {
    std::printf("%-36s FAILED validation: %lld of %zu elements differ from the reference; run the "
                "Task 2.2 tests\n", name.c_str(), (long long)bad, x.size());
    return false;
  }
  return report_rowwise(name, rows, cols, 7, ours, first_ms, x.data(), scratch.data(), 0.7);
}

// ---- the item list ------------------------------------------------------------------------------

struct Item {
  std::string name;
  bool quick;  // part of --quick
  std::function<bool()> run;
};

std::vector<Item> items(bool quick) {
  std::vector<Item> list;
  struct Step {
    const char* suffix;
    MatmulStep step;
    double goal;
  };
  const Step steps[] = {{"naive", MatmulStep::Naive, 0},     {"reorder", MatmulStep::Reorder, 0},
                        {"tiled", MatmulStep::Tiled, 0},     {"simd", MatmulStep::Simd, 0.7},
                        {"mt", MatmulStep::Parallel, 0.7}};
  for (int64_t S : {256, 1024, 2048}) {
    for (const Step& s : steps) {
      if (S == 2048 && s.step == MatmulStep::Naive) continue;  // minutes per run
      std::string name = "sgemm_" + std::to_string(S) + "_" + s.suffix;
      bool in_quick = S == 256 || (S == 1024 && s.step != MatmulStep::Naive && s.step != MatmulStep::Reorder);
      MatmulStep step = s.step;
      double goal = s.goal;
      list.push_back({name, in_quick, [=] { return bench_sgemm(name, S, step, goal); }});
    }
  }
  // Task 1.2's graded item: the reorder step against the previous step (Task 1.1).
  list.push_back({"sgemm_512_reorder_vs_naive", false, [] {
                    return bench_sgemm("sgemm_512_reorder_vs_naive", 512, MatmulStep::Reorder, 0,
                                       MatmulStep::Naive);
                  }});
  // --quick shrinks the row-wise problems (they then fit in L3, so both sides look faster).
  const int64_t rows = quick ? 2048 : 8192, cols = 1024;
  list.push_back({"softmax", true, [=] { return bench_softmax("softmax", rows, cols); }});
  list.push_back({"layernorm", true, [=] { return bench_layernorm("layernorm", rows, cols); }});
  return list;
}

int usage(const char* argv0) {
  std::fprintf(stderr, "usage: %s [--item NAME] [--quick] [--json PATH] [--threads N] [--list]\n", argv0);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string only, json;
  bool quick = false, list_only = false;
  g_threads = omp_get_max_threads();
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--item" && i + 1 < argc) only = argv[++i];
    else if (a == "--json" && i + 1 < argc) json = argv[++i];
    else if (a == "--threads" && i + 1 < argc) g_threads = std::max(1, std::atoi(argv[++i]));
    else if (a == "--quick") quick = true;
    else if (a == "--list") list_only = true;
    else return usage(argv[0]);
  }
  std::vector<Item> all = items(quick);
  if (list_only) {
    for (const Item& it : all) std::printf("%s%s\n", it.name.c_str(), it.quick ? "  (quick)" : "");
    return 0;
  }
  if (!only.empty() && std::none_of(all.begin(), all.end(), [&](const Item& it) { return it.name == only; })) {
    std::fprintf(stderr, "pa2_cpu_bench: unknown item '%s' (--list shows them)\n", only.c_str());
    return 2;
  }

  std::printf("pa2_cpu_bench: %d threads for the multi-threaded items; SIMD: %d floats per vfloat "
              "(%s)%s\n", g_threads, pa2::cpu::kVecWidth,
              pa2::cpu::kVecWidth == 16 ? "AVX-512" : pa2::cpu::kVecWidth == 8 ? "AVX/AVX2" : "SSE/NEON",
              quick ? "; --quick" : "");
  std::printf("ratio = reference time / our time (higher is better); goal = the reference "
              "solution's target ('!' when missed)\n\n");
  mlsys::bench::print_header();
  bool ok = true;
  for (const Item& it : all) {
    if (!only.empty() ? it.name != only : (quick && !it.quick)) continue;
    try {
      ok = it.run() && ok;
    } catch (const mlsys::NotImplemented& e) {
      std::printf("%-36s skipped: %s\n", it.name.c_str(), e.what());
      ok = false;
    } catch (const std::exception& e) {
      std::printf("%-36s FAILED: %s\n", it.name.c_str(), e.what());
      ok = false;
    }
    std::fflush(stdout);
  }
  if (!json.empty()) {
    mlsys::bench::write_json(json);
    std::printf("\nwrote %s\n", json.c_str());
  }
  return ok ? 0 : 1;
}
