// Benchmarks of the tensor library against the plain code it wraps, timed in the same run:
//   matmul            vs raw Eigen on the same matrices        (goal >= 0.95x: the wrapper is free)
//   broadcast add     [4096, 4096] + [4096] vs a plain loop    (goal >= 0.8x)
//   sum, max, min     [4096, 4096] over axis -1 and axis 0 vs plain float loops (goal >= 0.8x)
//   CUDA (if a GPU)   matmul GFLOP/s; add bandwidth vs a device-to-device copy of the same bytes
// Each benchmark validates its result first. Usage: common_bench [--json out.json] [--quick]
#include <Eigen/Dense>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "mlsys/bench.h"
#include "mlsys/ops.h"
#include "mlsys/tensor.h"

using namespace mlsys;
using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

static void require(bool ok, const std::string& what) {
  if (!ok) {
    std::fprintf(stderr, "validation failed: %s\n", what.c_str());
    std::exit(1);
  }
}

static double max_abs_diff(const float* a, const float* b, int64_t n) {
  double m = 0;
  for (int64_t i = 0; i < n; ++i) m = std::max(m, static_cast<double>(std::fabs(a[i] - b[i])));
  return m;
}

// The plain reduction over one axis of a row-major [R, C] matrix, in float, NaN not handled.
// Kind 0: sum, 1: max, 2: min (a template parameter, so each loop vectorises on its own).
template <int Kind>
static void plain_reduce(const float* x, int64_t R, int64_t C, int64_t axis, std::vector<float>& out) {
  auto combine = [](float a, float b) { return Kind == 0 ? a + b : Kind == 1 ? (b > a ? b : a) : (b < a ? b : a); };
  const float init = Kind == 0 ? 0.f : Kind == 1 ? -INFINITY : INFINITY;
  if (axis == -1) {  // one value per row
    out.assign(static_cast<size_t>(R), init);
    for (int64_t i = 0; i < R; ++i) {
      float s = init;
      for (int64_t j = 0; j < C; ++j) s = combine(s, x[i * C + j]);
      out[i] = s;
    }
  } else {  // one value per column: accumulate the rows into a row of outputs
    out.assign(static_cast<size_t>(C), init);
    float* o = out.data();
    for (int64_t i = 0; i < R; ++i)
      for (int64_t j = 0; j < C; ++j) o[j] = combine(o[j], x[i * C + j]);
  }
}

int main(int argc, char** argv) {
  std::string json;
  bool quick = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--json") && i + 1 < argc) json = argv[++i];
    if (!std::strcmp(argv[i], "--quick")) quick = true;
  }
  bench::Options opt{2, quick ? 3 : 10, 0};
  std::printf("mlsys tensor-library benchmarks (Eigen threads: %d)\n", Eigen::nbThreads());
  bench::print_header();

  // ---- matmul vs raw Eigen ------------------------------------------------------------------
  for (int64_t n : {256, 512, 1024}) {
    Tensor a = randn({n, n}, 1), b = randn({n, n}, 2);
    Eigen::Map<const RowMat> ea(a.data<float>(), n, n), eb(b.data<float>(), n, n);
    RowMat ec(n, n);
    Tensor c = matmul(a, b);
    ec.noalias() = ea * eb;
    require(max_abs_diff(c.data<float>(), ec.data(), n * n) < 1e-3 * std::sqrt(n), "matmul vs Eigen");
    auto ours = bench::time_cpu([&] { c = matmul(a, b); }, opt);
    auto ref = bench::time_cpu([&] { ec.noalias() = ea * eb; }, bench::reference(opt));
    double gflops = 2.0 * n * n * n / (ours.median_ms * 1e6);
    bench::report("matmul " + std::to_string(n) + "^3", ours, ref, "raw Eigen", 0.95,
                  std::to_string(static_cast<int>(gflops)) + " GFLOP/s");
  }

  // ---- broadcast add vs a plain loop --------------------------------------------------------
  const int64_t R = 4096, C = 4096;  // 16M floats
  {
    Tensor x = randn({R, C}, 3), row = randn({C}, 4);
    // The reference allocates its output on every call, like the op does (uninitialized).
    std::unique_ptr<float[]> plain;
    const float* px = x.data<float>();
    const float* pr = row.data<float>();
    auto loop = [&] {
      plain.reset(new float[R * C]);
      float* out = plain.get();
      for (int64_t i = 0; i < R; ++i)
        for (int64_t j = 0; j < C; ++j) out[i * C + j] = px[i * C + j] + pr[j];
    };
    loop();
    Tensor y = x + row;
    require(max_abs_diff(y.data<float>(), plain.get(), R * C) == 0, "broadcast add");
    auto ours = bench::time_cpu([&] { y = x + row; }, opt);
    auto ref = bench::time_cpu(loop, bench::reference(opt));
    double gbs = 3.0 * 4 * R * C / (ours.median_ms * 1e6);
    bench::report("add [4096,4096] + [4096]", ours, ref, "plain loop", 0.8,
                  std::to_string(static_cast<int>(gbs)) + " GB/s");
  }

  // ---- reductions vs plain float loops ------------------------------------------------------
  // The plain loops keep float accumulators and skip NaN handling, so these rows show what the
  // library's accuracy (double sums) and NaN propagation (max, min) cost.
  {
    Tensor x = rand({R, C}, 5);
    const float* px = x.data<float>();
    std::vector<float> plain;
    enum Kind { Sum, Max, Min };
    auto bench_reduce = [&](Kind kind, int64_t axis) {
      const char* name = kind == Sum ? "sum" : kind == Max ? "max" : "min";
      auto loop = [&] {
        if (kind == Sum) plain_reduce<0>(px, R, C, axis, plain);
        if (kind == Max) plain_reduce<1>(px, R, C, axis, plain);
        if (kind == Min) plain_reduce<2>(px, R, C, axis, plain);
      };
      auto op = [&] { return kind == Sum ? sum(x, {axis}) : kind == Max ? max(x, {axis}) : min(x, {axis}); };
      loop();
      Tensor s = op();
      const std::string label = std::string(name) + " [4096,4096] axis " + std::to_string(axis);
      if (kind == Sum) {  // against float64 sums; max and min must equal the plain loop's
        std::vector<float> exact(plain.size());
        for (size_t k = 0; k < exact.size(); ++k) {
          double s64 = 0;
          for (int64_t i = 0; i < (axis == -1 ? C : R); ++i)
            s64 += axis == -1 ? px[static_cast<int64_t>(k) * C + i] : px[i * C + static_cast<int64_t>(k)];
          exact[k] = static_cast<float>(s64);
        }
        require(max_abs_diff(s.data<float>(), exact.data(), static_cast<int64_t>(exact.size())) < 0.05, label);
      } else {
        require(max_abs_diff(s.data<float>(), plain.data(), static_cast<int64_t>(plain.size())) == 0, label);
      }
      auto ours = bench::time_cpu([&] { s = op(); }, opt);
      auto ref = bench::time_cpu(loop, bench::reference(opt));
      double gbs = 4.0 * R * C / (ours.median_ms * 1e6);
      bench::report(label, ours, ref, "plain loop", 0.8, std::to_string(static_cast<int>(gbs)) + " GB/s");
    };
    for (Kind kind : {Sum, Max, Min})
      for (int64_t axis : {-1, 0}) bench_reduce(kind, axis);
  }

  // ---- CUDA --------------------------------------------------------------------------------
  if (cuda_available()) {
    for (int64_t n : {1024, 4096}) {
      Tensor a = randn({n, n}, 6, 0, 1, Device::CUDA), b = randn({n, n}, 7, 0, 1, Device::CUDA);
      Tensor ref_c = matmul(a.cpu(), b.cpu());
      Tensor c = matmul(a, b);
      Tensor diff = max(abs(c.cpu() - ref_c));
      require(diff.item() < 1e-3 * std::sqrt(n), "CUDA matmul vs CPU");
      auto ours = bench::time_cuda([&] { c = matmul(a, b); }, opt);
      double gflops = 2.0 * n * n * n / (ours.median_ms * 1e6);
      bench::report("cuda matmul " + std::to_string(n) + "^3", ours, ours, "cuBLAS (is ours)", 0,
                    std::to_string(static_cast<int>(gflops)) + " GFLOP/s, TF32 off");
    }
    Tensor x = randn({R, C}, 8, 0, 1, Device::CUDA), row = randn({C}, 9, 0, 1, Device::CUDA);
    Tensor y = x + row;
    require(max(abs(y.cpu() - (x.cpu() + row.cpu()))).item() == 0, "CUDA broadcast add");
    auto ours = bench::time_cuda([&] { y = x + row; }, opt);
    // Reference: a device-to-device copy moving the same bytes (read 16M floats, write 16M).
    auto ref = bench::time_cuda([&] { y.copy_(x); }, bench::reference(opt));
    bench::report("cuda add [4096,4096] + [4096]", ours, ref, "D2D copy of same bytes", 0.8,
                  std::to_string(static_cast<int>(3.0 * 4 * R * C / (ours.median_ms * 1e6))) + " GB/s");
    Tensor s = sum(x, {-1});
    ours = bench::time_cuda([&] { s = sum(x, {-1}); }, opt);
    bench::report("cuda sum [4096,4096] axis -1", ours, ref, "D2D copy (2x the bytes)", 0,
                  std::to_string(static_cast<int>(4.0 * R * C / (ours.median_ms * 1e6))) + " GB/s");
  } else {
    std::printf("(CUDA benchmarks skipped: %s)\n",
                cuda_built() ? "no GPU found at run time" : "this build has no CUDA support");
  }
  if (!json.empty()) bench::write_json(json);
  return 0;
}
