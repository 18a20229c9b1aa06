// PA2 GPU-track benchmarks (not tests). Every item validates its result first, then times the
// student kernel (through its launcher, on preallocated buffers) and a reference in the same
// process with CUDA events: 2 warm-up runs, then the median of 10 (3 with --quick). The ratio
// is reference time / our time, so > 1 means ours is faster. Items (= JSON row names):
//
//   gpu_sgemm_<step>_<n>    Tasks 3.1-3.6 at n^3, n = 1024, 2048, 4096, vs cuBLAS SGEMM with
//                           TF32 off (CUBLAS_DEFAULT_MATH). The Task 3.6 row at 4096 is named
//                           gpu_sgemm_4096 (goal 0.7x; stretch 0.85x).
//   gpu_sgemm_<step>_vs_prev_2048
//                           Tasks 3.2-3.5 at 2048^3 vs the previous step's kernel (3.1-3.4):
//                           the graded items of those steps. In the grader's build of Task 3.k
//                           only 3.k is the student's, so the previous step is staff code; the
//                           reference side runs in the reference build (all staff code).
//   gpu_reduce              Task 4.1, sum of 4096 x 4096 floats, vs a device-to-device
//   gpu_softmax             Task 4.2, [4096, 4096]      cudaMemcpy that moves as many DRAM bytes
//   gpu_layernorm           Task 4.3, [4096, 4096]      (goal 0.8x: 80% of copy bandwidth)
//   gpu_attention_<T>       Task 5.1, causal, B = 4, H = 8, d = 64, T = 1024, 2048, 4096, vs the
//                           unfused cuBLAS path: S = QK^T / 8 (cublasSgemmStridedBatched),
//                           masked softmax (staff kernel), O = PV (cublasSgemmStridedBatched).
//                           gpu_attention_2048 is graded (goal 1.0x: faster than unfused).
//   gpu_attention_<T>_naive the same vs the staff naive kernels (goal 5x)
//   gpu_attention_<T>_full  non-causal, vs the unfused path (information)
//   gpu_gemm_epilogue       Task 6.1, relu(A @ B + bias), 4096 x 4096 x 128 (a small K, where
//                           the extra passes over C matter), vs the Task 3.6 GEMM of this build
//                           + the staff bias/relu kernel (goal 1.0x); if Task 3.6 is not
//                           implemented, vs cuBLAS + the bias/relu kernel instead. In the
//                           grader the reference side runs in the reference build: staff 3.6.
//   gpu_gemm_epilogue_cublas the same vs cuBLAS + the bias/relu kernel (information)
//
// The attention items also print the device memory each path needs beyond q, k, v (measured
// with cudaMemGetInfo around its allocations): the fused kernel's is o alone, linear in T; the
// unfused and naive paths add the B*H*T*T score matrix.
//
//   pa2_gpu_bench [--item NAME] [--json PATH] [--quick]
//
// Each graded item runs its task's own configuration: the student file of that task and the
// staff code for every other task (the grader builds one configuration per task), so
// gpu_gemm_epilogue's unfused side uses the staff Task 3.6 GEMM in the grader.
//
// Without a GPU it prints "no GPU: skipped" and exits 0. A task whose launcher still throws
// mlsys::NotImplemented is reported as such and produces no row.
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "cuda_check.h"
#include "launchers.h"
#include "mlsys/bench.h"
#include "mlsys/ops.h"
#include "pa2/gpu.h"

using mlsys::Device;
using mlsys::DType;
using mlsys::Tensor;
using namespace pa2::gpu;

namespace {

// ============================================================================================
// Options, cuBLAS, helpers
// ============================================================================================

struct Args {
  std::string item, json;
  bool quick = false;
};
Args args;

bool wanted(const std::string& item) { return args.item.empty() || args.item == item; }


mlsys::bench::Options timing(int repeats = 10) {
  return mlsys::bench::Options{2, args.quick ? std::min(repeats, 3) : repeats, 0};
}

#define CUBLAS_OK(call)                                                        \
  do {                                                                         \
    cublasStatus_t s_ = (call);                                                \
    if (s_ != CUBLAS_STATUS_SUCCESS)                                           \
      PA2_FAIL("gpu_bench", #call, " failed: ", cublasGetStatusName(s_));      \
  } while (0)

void launch_ok(cudaError_t status, const char* what) {
  PA2_CHECK(status == cudaSuccess, "gpu_bench", what, " failed: ", cudaGetErrorString(status));
}

cublasHandle_t cublas() {
  static cublasHandle_t handle = [] {
    cublasHandle_t h;
    CUBLAS_OK(cublasCreate(&h));
    CUBLAS_OK(cublasSetMathMode(h, CUBLAS_DEFAULT_MATH));  // plain FP32: no TF32 tensor cores
    return h;
  }();
  return handle;
}

// Row-major C [M, N] = A [M, K] @ B [K, N] with column-major cuBLAS: C^T = B^T A^T.
void cublas_sgemm(const float* A, const float* B, float* C, int M, int N, int K) {
  const float one = 1.0f, zero = 0.0f;
  CUBLAS_OK(
      cublasSgemm(cublas(), CUBLAS_OP_N, CUBLAS_OP_N, N, M, K, &one, B, N, A, K, &zero, C, N));
}

void fail_validation(const std::string& what) {
  std::fprintf(stderr, "validation failed: %s\n", what.c_str());
  std::exit(1);
}

// Runs fn; a NotImplemented stub is reported (the item gets no row), anything else propagates.
bool implemented(const std::string& item, const std::function<void()>& fn) {
  try {
    fn();
    return true;
  } catch (const mlsys::NotImplemented& e) {
    std::printf("%-36s not implemented: %s\n", item.c_str(), e.task().c_str());
    return false;
  }
}

// |got - want| <= atol + rtol |want| everywhere (NaN fails).
bool close(const Tensor& got, const Tensor& want, double rtol, double atol) {
  const std::vector<float> g = got.cpu().to_vector<float>(), w = want.cpu().to_vector<float>();
  for (size_t i = 0; i < g.size(); ++i)
    if (!(std::fabs(static_cast<double>(g[i]) - w[i]) <= atol + rtol * std::fabs(w[i])))
      return false;
  return true;
}

// max_i |got_i - want_i| / bound_i (<= 1 passes): the SGEMM validation.
double worst_ratio(const Tensor& got, const Tensor& want, const Tensor& bound) {
  const std::vector<float> g = got.cpu().to_vector<float>(), w = want.cpu().to_vector<float>(),
                           b = bound.cpu().to_vector<float>();
  double worst = 0;
  for (size_t i = 0; i < g.size(); ++i) {
    const double err = std::fabs(static_cast<double>(g[i]) - w[i]);
    if (std::isnan(err)) return INFINITY;
    worst = std::max(worst, err / (b[i] + 1e-30));
  }
  return worst;
}

std::string gflops(double flop, const mlsys::bench::Stats& s) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.0f GFLOP/s", flop / (s.median_ms * 1e6));
  return buf;
}

std::string gbps(double bytes, const mlsys::bench::Stats& s) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.0f GB/s", bytes / (s.median_ms * 1e6));
  return buf;
}

double free_mib() {
  size_t free_bytes = 0, total = 0;
  PA2_CUDA_CHECK("gpu_bench", cudaMemGetInfo(&free_bytes, &total));
  return static_cast<double>(free_bytes) / (1 << 20);
}

// ============================================================================================
// Task 3: SGEMM steps vs cuBLAS
// ============================================================================================

using SgemmLauncher = cudaError_t (*)(const float*, const float*, float*, int, int, int,
                                      cudaStream_t);

struct Step {
  Sgemm kernel;
  SgemmLauncher launch;
};
const Step kSteps[] = {{Sgemm::Naive, launch_sgemm_naive},
                       {Sgemm::Coalesced, launch_sgemm_coalesced},
                       {Sgemm::SharedTiled, launch_sgemm_shared},
                       {Sgemm::RegTile1D, launch_sgemm_regtile_1d},
                       {Sgemm::RegTile2D, launch_sgemm_regtile_2d},
                       {Sgemm::Vectorized, launch_sgemm_vectorized}};

// The graded step-over-step items: step i (Tasks 3.2-3.5) against step i - 1.
constexpr int kPrevItemN = 2048;
std::string sgemm_vs_prev_item(Sgemm kernel) {
  return std::string("gpu_sgemm_") + to_string(kernel) + "_vs_prev_" + std::to_string(kPrevItemN);
}

std::string sgemm_item(Sgemm kernel, int n) {
  if (kernel == Sgemm::Vectorized && n == 4096) return "gpu_sgemm_4096";
  return std::string("gpu_sgemm_") + to_string(kernel) + "_" + std::to_string(n);
}

// Every item this program can produce (for --item's check).
std::vector<std::string> all_items() {
  std::vector<std::string> items;
  for (const Step& s : kSteps)
    for (int n : {1024, 2048, 4096}) items.push_back(sgemm_item(s.kernel, n));
  for (int i = 1; i <= 4; ++i) items.push_back(sgemm_vs_prev_item(kSteps[i].kernel));
  for (const char* item : {"gpu_reduce", "gpu_softmax", "gpu_layernorm", "gpu_gemm_epilogue",
                           "gpu_gemm_epilogue_cublas"})
    items.push_back(item);
  for (const char* T : {"1024", "2048", "4096"})
    for (const char* suffix : {"", "_naive", "_full"})
      items.push_back(std::string("gpu_attention_") + T + suffix);
  return items;
}

void bench_sgemm() {
  for (int n : {1024, 2048, 4096}) {
    bool any = false;
    for (const Step& s : kSteps) any = any || wanted(sgemm_item(s.kernel, n));
    if (!any) continue;
    const Tensor A = mlsys::rand({n, n}, 1, -1, 1, Device::CUDA);
    const Tensor B = mlsys::rand({n, n}, 2, -1, 1, Device::CUDA);
    Tensor C({n, n}, DType::Float32, Device::CUDA), R({n, n}, DType::Float32, Device::CUDA);
    const float* a = A.data<float>();
    const float* b = B.data<float>();
    cublas_sgemm(a, b, R.data<float>(), n, n, n);
    // Both results are within gamma_n (|A| @ |B|) of the exact product (gpu_test_util.h).
    const double g = 2.02 * n * 5.960464477539063e-08 / (1 - n * 5.960464477539063e-08);
    const Tensor bound = mlsys::matmul(mlsys::abs(A), mlsys::abs(B)) * static_cast<float>(g);
    const auto ref = mlsys::bench::time_cuda(
        [&] { cublas_sgemm(a, b, R.data<float>(), n, n, n); }, mlsys::bench::reference(timing()));
    const double flop = 2.0 * n * n * n;
    for (const Step& s : kSteps) {
      const std::string item = sgemm_item(s.kernel, n);
      if (!wanted(item)) continue;
      const bool slow = s.kernel == Sgemm::Naive || s.kernel == Sgemm::Coalesced;
      if (args.quick && slow && n == 4096) continue;
      float* c = C.data<float>();
      if (!implemented(item, [&] { launch_ok(s.launch(a, b, c, n, n, n, nullptr), item.c_str()); }))
        continue;
      const double worst = worst_ratio(C, R, bound);
      if (!(worst <= 1.0))
        fail_validation(item + ": error " + std::to_string(worst) + "x the fp32 bound vs cuBLAS");
      const auto ours = mlsys::bench::time_cuda(
          [&] { launch_ok(s.launch(a, b, c, n, n, n, nullptr), item.c_str()); },
          timing(slow && n >= 2048 ? 3 : 10));
      const double goal = s.kernel == Sgemm::Vectorized && n == 4096 ? 0.7 : 0.0;
      mlsys::bench::report(item, ours, ref, "cuBLAS SGEMM (TF32 off)", goal,
                           std::string(task_of(s.kernel)) + ", " + gflops(flop, ours) +
                               " vs " + gflops(flop, ref));
    }
  }
}

// Tasks 3.2-3.5, each against the previous step (the points of those steps: a resubmitted
// previous kernel measures about 1.0x). Validated against cuBLAS like the items above.
void bench_sgemm_vs_prev() {
  const int n = kPrevItemN;
  bool any = false;
  for (int i = 1; i <= 4; ++i) any = any || wanted(sgemm_vs_prev_item(kSteps[i].kernel));
  if (!any) return;
  const Tensor A = mlsys::rand({n, n}, 1, -1, 1, Device::CUDA);
  const Tensor B = mlsys::rand({n, n}, 2, -1, 1, Device::CUDA);
  Tensor C({n, n}, DType::Float32, Device::CUDA), P({n, n}, DType::Float32, Device::CUDA),
      R({n, n}, DType::Float32, Device::CUDA);
  const float* a = A.data<float>();
  const float* b = B.data<float>();
  cublas_sgemm(a, b, R.data<float>(), n, n, n);
  const double g = 2.02 * n * 5.960464477539063e-08 / (1 - n * 5.960464477539063e-08);
  const Tensor bound = mlsys::matmul(mlsys::abs(A), mlsys::abs(B)) * static_cast<float>(g);
  const double flop = 2.0 * n * n * n;
  for (int i = 1; i <= 4; ++i) {
    const Step& s = kSteps[i];
    const Step& prev = kSteps[i - 1];
    const std::string item = sgemm_vs_prev_item(s.kernel);
    if (!wanted(item)) continue;
    float* c = C.data<float>();
    float* p = P.data<float>();
    if (!implemented(item, [&] { launch_ok(s.launch(a, b, c, n, n, n, nullptr), item.c_str()); }))
      continue;
    const double worst = worst_ratio(C, R, bound);
    if (!(worst <= 1.0))
      fail_validation(item + ": error " + std::to_string(worst) + "x the fp32 bound vs cuBLAS");
    const bool slow = prev.kernel == Sgemm::Naive;
    const auto ours = mlsys::bench::time_cuda(
        [&] { launch_ok(s.launch(a, b, c, n, n, n, nullptr), item.c_str()); }, timing());
    const auto ref = mlsys::bench::time_cuda(
        [&] { launch_ok(prev.launch(a, b, p, n, n, n, nullptr), item.c_str()); },
        mlsys::bench::reference(timing(slow ? 5 : 10)));
    mlsys::bench::report(item, ours, ref, std::string(task_of(prev.kernel)) + " (previous step)",
                         0.0, std::string(task_of(s.kernel)) + ", " + gflops(flop, ours) + " vs " +
                                  gflops(flop, ref));
  }
}

// ============================================================================================
// Task 4: reduction, softmax, layernorm vs cudaMemcpy of as many DRAM bytes
// ============================================================================================

void bench_rowwise() {
  const int rows = 4096, cols = 4096;
  const int64_t n = int64_t{rows} * cols;
  const size_t bytes = static_cast<size_t>(n) * sizeof(float);
  if (!wanted("gpu_reduce") && !wanted("gpu_softmax") && !wanted("gpu_layernorm")) return;
  const Tensor x_cpu = mlsys::randn({rows, cols}, 3);
  const Tensor x = x_cpu.cuda();
  Tensor y({rows, cols}, DType::Float32, Device::CUDA);
  Tensor copy({rows, cols}, DType::Float32, Device::CUDA);
  // Copying b bytes reads b and writes b: 2b bytes of DRAM traffic.
  auto memcpy_of = [&](size_t traffic) {
    return mlsys::bench::time_cuda(
        [&] {
          PA2_CUDA_CHECK("gpu_bench", cudaMemcpyAsync(copy.data<float>(), x.data<float>(),
                                                      traffic / 2, cudaMemcpyDeviceToDevice, 0));
        },
        mlsys::bench::reference(timing()));
  };

  if (wanted("gpu_reduce")) {  // reads n floats
    Tensor out(mlsys::Shape{}, DType::Float32, Device::CUDA);
    Tensor partial({kReduceMaxBlocks}, DType::Float32, Device::CUDA);
    auto run = [&] {
      launch_ok(launch_reduce_sum(x.data<float>(), n, out.data<float>(), partial.data<float>(),
                                  nullptr),
                "launch_reduce_sum");
    };
    if (implemented("gpu_reduce", run)) {
      const double want = ref::reduce_sum(x_cpu).item();
      const double sum_abs = mlsys::sum(mlsys::abs(x_cpu)).item();
      if (!(std::fabs(out.item() - want) <= 1e-5 * sum_abs))
        fail_validation("gpu_reduce: got " + std::to_string(out.item()) + ", expected " +
                        std::to_string(want));
      const auto ours = mlsys::bench::time_cuda(run, timing());
      mlsys::bench::report("gpu_reduce", ours, memcpy_of(bytes), "cudaMemcpy D2D, same DRAM bytes",
                           0.8, "PA2 Task 4.1, " + gbps(bytes, ours));
    }
  }
  if (wanted("gpu_softmax")) {  // reads and writes n floats
    auto run = [&] {
      launch_ok(launch_softmax_rows(x.data<float>(), y.data<float>(), rows, cols, nullptr),
                "launch_softmax_rows");
    };
    if (implemented("gpu_softmax", run)) {
      if (!close(y, ref::softmax_rows(x_cpu), 2e-5, 1e-7))
        fail_validation("gpu_softmax: differs from the CPU reference");
      const auto ours = mlsys::bench::time_cuda(run, timing());
      mlsys::bench::report("gpu_softmax", ours, memcpy_of(2 * bytes),
                           "cudaMemcpy D2D, same DRAM bytes", 0.8,
                           "PA2 Task 4.2, " + gbps(2.0 * bytes, ours));
    }
  }
  if (wanted("gpu_layernorm")) {  // reads and writes n floats (+ 4 vectors)
    const Tensor gamma_cpu = mlsys::rand({cols}, 4, 0.5f, 1.5f), beta_cpu = mlsys::rand({cols}, 5);
    const Tensor gamma = gamma_cpu.cuda(), beta = beta_cpu.cuda();
    Tensor mean({rows}, DType::Float32, Device::CUDA), rstd({rows}, DType::Float32, Device::CUDA);
    auto run = [&] {
      launch_ok(launch_layernorm_forward(x.data<float>(), gamma.data<float>(), beta.data<float>(),
                                         y.data<float>(), mean.data<float>(), rstd.data<float>(),
                                         rows, cols, 1e-5f, nullptr),
                "launch_layernorm_forward");
    };
    if (implemented("gpu_layernorm", run)) {
      const LayerNormForward want = ref::layernorm_forward(x_cpu, gamma_cpu, beta_cpu, 1e-5f);
      if (!close(y, want.y, 1e-4, 1e-4) || !close(rstd, want.rstd, 1e-4, 0))
        fail_validation("gpu_layernorm: differs from the CPU reference");
      const auto ours = mlsys::bench::time_cuda(run, timing());
      mlsys::bench::report("gpu_layernorm", ours, memcpy_of(2 * bytes),
                           "cudaMemcpy D2D, same DRAM bytes", 0.8,
                           "PA2 Task 4.3, " + gbps(2.0 * bytes, ours));
    }
  }
}

// ============================================================================================
// Task 5: fused attention vs the unfused cuBLAS path and the naive kernels
// ============================================================================================

// S [BH, T, T] = (q k^T) / sqrt(d), then masked softmax in place, then o = S v.
// Row-major S = q k^T is column-major S^T = k q^T: op(k as stored, d x T col-major) = T, so
// cuBLAS sees (k^T)^T q^T with m = n = T, inner d. Likewise o^T (d x T) = v^T (d x T) S^T.
void unfused_attention(const float* q, const float* k, const float* v, float* o, float* S,
                       int BH, int T, int d, bool causal) {
  const float scale = 1.0f / std::sqrt(static_cast<float>(d)), one = 1.0f, zero = 0.0f;
  const long long td = static_cast<long long>(T) * d, tt = static_cast<long long>(T) * T;
  CUBLAS_OK(cublasSgemmStridedBatched(cublas(), CUBLAS_OP_T, CUBLAS_OP_N, T, T, d, &scale, k, d,
                                      td, q, d, td, &zero, S, T, tt, BH));
  launch_ok(launch_attention_softmax(S, BH, T, causal, nullptr), "launch_attention_softmax");
  CUBLAS_OK(cublasSgemmStridedBatched(cublas(), CUBLAS_OP_N, CUBLAS_OP_N, d, T, T, &one, v, d, td,
                                      S, T, tt, &zero, o, d, td, BH));
}

void bench_attention() {
  const int B = 4, H = 8, BH = B * H, d = kHeadDim;
  for (int T : {1024, 2048, 4096}) {
    const std::string item = "gpu_attention_" + std::to_string(T);
    const std::string naive_item = item + "_naive", full_item = item + "_full";
    if (!wanted(item) && !wanted(naive_item) && !wanted(full_item)) continue;
    if (args.quick && T == 4096 && args.item.empty()) continue;
    const mlsys::Shape shape{B, H, T, d};
    const Tensor q = mlsys::randn(shape, 6, 0, 1, Device::CUDA),
                 k = mlsys::randn(shape, 7, 0, 1, Device::CUDA),
                 v = mlsys::randn(shape, 8, 0, 1, Device::CUDA);
    const double qkv_mib = 3.0 * q.numel() * 4 / (1 << 20);

    // Memory beyond q, k, v: the fused path needs o; the others o and the scores.
    double before = free_mib();
    Tensor o({B, H, T, d}, DType::Float32, Device::CUDA);
    const double fused_mib = before - free_mib();
    before = free_mib();
    Tensor o_ref({B, H, T, d}, DType::Float32, Device::CUDA);
    Tensor S({BH, T, T}, DType::Float32, Device::CUDA);
    const double unfused_mib = before - free_mib();
    std::printf("attention T=%d B*H=%d d=%d: q,k,v %.0f MiB; extra device memory: fused %.0f MiB "
                "(o only, linear in T), unfused/naive %.0f MiB (o + the T x T scores)\n",
                T, BH, d, qkv_mib, fused_mib, unfused_mib);

    const float *pq = q.data<float>(), *pk = k.data<float>(), *pv = v.data<float>();
    float *po = o.data<float>(), *pr = o_ref.data<float>(), *ps = S.data<float>();
    for (bool causal : {true, false}) {
      const std::string row = causal ? item : full_item;
      const bool want_naive = causal && wanted(naive_item);
      if (!wanted(row) && !want_naive) continue;
      auto fused = [&] {
        launch_ok(launch_attention_forward(pq, pk, pv, po, BH, T, causal, nullptr),
                  "launch_attention_forward");
      };
      auto naive = [&] {
        launch_ok(launch_attention_naive(pq, pk, pv, pr, ps, BH, T, d, causal, nullptr),
                  "launch_attention_naive");
      };
      auto unfused = [&] { unfused_attention(pq, pk, pv, pr, ps, BH, T, d, causal); };
      if (!implemented(row, fused)) break;
      // Validate: the fused result and the unfused one against the naive kernels.
      naive();
      if (!close(o, o_ref, 0, 2e-4)) fail_validation(row + ": fused differs from naive");
      Tensor o_naive = o_ref.clone();
      unfused();
      if (!close(o_ref, o_naive, 0, 2e-4)) fail_validation(row + ": unfused differs from naive");

      const auto ours = mlsys::bench::time_cuda(fused, timing());
      const double flop = 4.0 * BH * T * double(T) * d * (causal ? 0.5 : 1.0);
      const std::string note = std::string("PA2 Task 5.1, ") + (causal ? "causal, " : "full, ") +
                               gflops(flop, ours);
      if (wanted(row))
        mlsys::bench::report(row, ours, mlsys::bench::time_cuda(unfused, mlsys::bench::reference(timing())),
                             "unfused cuBLAS + softmax", causal && T == 2048 ? 1.0 : 0.0, note);
      if (want_naive)
        mlsys::bench::report(naive_item, ours, mlsys::bench::time_cuda(naive, mlsys::bench::reference(timing(3))),
                             "naive kernels (T x T scores)", 5.0, note);
    }
  }
}

// ============================================================================================
// Task 6: fused epilogue vs unfused
// ============================================================================================

void bench_epilogue() {
  if (!wanted("gpu_gemm_epilogue") && !wanted("gpu_gemm_epilogue_cublas")) return;
  const int M = 4096, N = 4096, K = 128;
  const Tensor A = mlsys::rand({M, K}, 9, -1, 1, Device::CUDA);
  const Tensor B = mlsys::rand({K, N}, 10, -1, 1, Device::CUDA);
  const Tensor bias = mlsys::rand({N}, 11, -2, 2, Device::CUDA);
  Tensor C({M, N}, DType::Float32, Device::CUDA), R({M, N}, DType::Float32, Device::CUDA);
  const float *a = A.data<float>(), *b = B.data<float>(), *pb = bias.data<float>();
  float *c = C.data<float>(), *r = R.data<float>();
  auto fused = [&] {
    launch_ok(launch_gemm_bias_relu(a, b, pb, c, M, N, K, nullptr), "launch_gemm_bias_relu");
  };
  auto ours_unfused = [&] {
    launch_ok(launch_sgemm_vectorized(a, b, r, M, N, K, nullptr), "launch_sgemm_vectorized");
    launch_ok(launch_bias_relu(r, pb, M, N, nullptr), "launch_bias_relu");
  };
  auto cublas_unfused = [&] {
    cublas_sgemm(a, b, r, M, N, K);
    launch_ok(launch_bias_relu(r, pb, M, N, nullptr), "launch_bias_relu");
  };
  if (!implemented("gpu_gemm_epilogue", fused)) return;
  cublas_unfused();
  // Both within gamma_(K+1) (|A| @ |B| + |bias|) of the exact result; relu is 1-Lipschitz.
  const double g = 2.02 * (K + 1) * 5.960464477539063e-08;
  const Tensor bound = (mlsys::matmul(mlsys::abs(A), mlsys::abs(B)) + mlsys::abs(bias)) *
                       static_cast<float>(g);
  if (!(worst_ratio(C, R, bound) <= 1.0))
    fail_validation("gpu_gemm_epilogue: differs from cuBLAS + bias + relu");
  const auto ours = mlsys::bench::time_cuda(fused, timing());
  const double flop = 2.0 * M * N * K;
  if (wanted("gpu_gemm_epilogue")) {
    if (implemented("gpu_gemm_epilogue (baseline: Task 3.6)", ours_unfused))
      mlsys::bench::report("gpu_gemm_epilogue", ours,
                           mlsys::bench::time_cuda(ours_unfused, mlsys::bench::reference(timing())),
                           "Task 3.6 GEMM + bias/relu kernel", 1.0,
                           "PA2 Task 6.1, " + gflops(flop, ours));
    else  // no Task 3.6 to compare with: the (harder) cuBLAS baseline
      mlsys::bench::report("gpu_gemm_epilogue", ours,
                           mlsys::bench::time_cuda(cublas_unfused, mlsys::bench::reference(timing())),
                           "cuBLAS + bias/relu kernel (Task 3.6 missing)", 1.0,
                           "PA2 Task 6.1, " + gflops(flop, ours));
  }
  if (wanted("gpu_gemm_epilogue_cublas"))
    mlsys::bench::report("gpu_gemm_epilogue_cublas", ours,
                         mlsys::bench::time_cuda(cublas_unfused, mlsys::bench::reference(timing())),
                         "cuBLAS + bias/relu kernel", 0.0, "PA2 Task 6.1, " + gflops(flop, ours));
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--item") && i + 1 < argc) {
      args.item = argv[++i];
    } else if (!std::strcmp(argv[i], "--json") && i + 1 < argc) {
      args.json = argv[++i];
    } else if (!std::strcmp(argv[i], "--quick")) {
      args.quick = true;
    } else {
      std::fprintf(stderr, "usage: %s [--item NAME] [--json PATH] [--quick]\n", argv[0]);
      return 2;
    }
  }
  if (!args.item.empty()) {
    const std::vector<std::string> items = all_items();
    if (std::find(items.begin(), items.end(), args.item) == items.end()) {
      std::fprintf(stderr, "unknown item '%s'; the items are:", args.item.c_str());
      for (const std::string& item : items) std::fprintf(stderr, " %s", item.c_str());
      std::fprintf(stderr, "\n");
      return 2;
    }
  }
  if (!mlsys::cuda_available()) {
    std::printf("pa2_gpu_bench: no GPU: skipped\n");
    if (!args.json.empty()) mlsys::bench::write_json(args.json);  // an empty list
    return 0;
  }
  cudaDeviceProp prop;
  PA2_CUDA_CHECK("gpu_bench", cudaGetDeviceProperties(&prop, 0));
  std::printf("PA2 GPU benchmarks on %s (sm_%d%d, %d SMs)%s\n", prop.name, prop.major,
              prop.minor, prop.multiProcessorCount, args.quick ? " [quick]" : "");
  mlsys::bench::print_header();
  try {
    bench_sgemm();
    bench_sgemm_vs_prev();
    bench_rowwise();
    bench_attention();
    bench_epilogue();
  } catch (const mlsys::Error& e) {
    std::fprintf(stderr, "pa2_gpu_bench: %s\n", e.what());
    if (!args.json.empty()) mlsys::bench::write_json(args.json);
    return 1;
  }
  if (!args.json.empty()) mlsys::bench::write_json(args.json);
  return 0;
}
