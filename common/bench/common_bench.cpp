// Benchmarks of the tensor library against the plain code it wraps, timed in the same run:
//   matmul            vs raw Eigen on the same matrices        (goal >= 0.95x: the wrapper is free)
//   broadcast add     [4096, 4096] + [4096] vs a plain loop    (goal >= 0.8x)
//   last-axis sum     [4096, 4096] -> [4096] vs a plain loop   (goal >= 0.8x)
//   CUDA (if a GPU)   matmul GFLOP/s; add bandwidth vs a device-to-device copy of the same bytes
// Each benchmark validates its result first. Usage: common_bench [--json out.json] [--quick]
#include <Eigen/Dense>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

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

  // ---- last-axis sum vs a plain loop ---------------------------------------------------------
  {
    Tensor x = rand({R, C}, 5);
    std::vector<float> plain(static_cast<size_t>(R));
    const float* px = x.data<float>();
    auto loop = [&] {
      for (int64_t i = 0; i < R; ++i) {
        float s = 0;
        for (int64_t j = 0; j < C; ++j) s += px[i * C + j];
        plain[i] = s;
      }
    };
    loop();
    Tensor s = sum(x, {-1});
    require(max_abs_diff(s.data<float>(), plain.data(), R) < 0.05, "last-axis sum");
    auto ours = bench::time_cpu([&] { s = sum(x, {-1}); }, opt);
    auto ref = bench::time_cpu(loop, bench::reference(opt));
    double gbs = 4.0 * R * C / (ours.median_ms * 1e6);
    bench::report("sum [4096,4096] axis -1", ours, ref, "plain loop", 0.8,
                  std::to_string(static_cast<int>(gbs)) + " GB/s");
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
