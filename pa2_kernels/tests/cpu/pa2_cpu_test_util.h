// Helpers shared by the PA2 CPU tests (public and hidden): inputs with padded leading
// dimensions, expected values computed independently in double (Eigen for matmul, plain
// loops for softmax and layernorm), and checks whose tolerances follow from fp32 rounding.
//
// Every check also verifies the parts of the contract that a value comparison misses: the
// output's old contents (NaN) must not leak in, the padding columns of every array must be
// neither read (they hold NaN) nor written (they hold a sentinel), and inputs stay unchanged.
// A failure prints the first mismatching elements, the max error and a hint.
//
// Every check also records its output (mlsys/recording.h) for the official grader, which
// compares it with the reference solution's: C, y, mean, rstd, the packed panels. The
// tolerances of the checks here are per element; a record takes one absolute tolerance per
// array, the largest per-element tolerance of that array (so a correct output never fails the
// comparison, and a wrong one is still off by far more: see each check's comment). What is
// not recorded (padding untouched, inputs unchanged) is checked by the assertions only.
#pragma once

#include <gtest/gtest.h>
#include <omp.h>

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "mlsys/recording.h"
#include "mlsys/tensor.h"
#include "pa2/cpu.h"

namespace pa2::test {

// Unit roundoff of float32 (half an ulp of 1): the relative error of one correctly rounded
// operation.
constexpr double kU = 5.9604644775390625e-08;  // 2^-24
const float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kSentinel = -7777.f;  // in output padding: must survive the kernel

// n deterministic floats uniform in [lo, hi): mlsys::rand gives the same values on every
// platform, so a failure seen by a student is the one staff can reproduce.
inline std::vector<float> uniform(int64_t n, uint64_t seed, float lo = -1.f, float hi = 1.f) {
  return mlsys::rand({n}, seed, lo, hi).to_vector<float>();
}

// A rows x cols matrix stored with leading dimension ld = cols + pad; the padding holds `fill`.
struct Strided {
  int64_t rows = 0, cols = 0, ld = 0;
  std::vector<float> data;
  Strided(int64_t r, int64_t c, int64_t pad, float fill)
      : rows(r), cols(c), ld(c + pad), data(static_cast<size_t>(r * (c + pad)), fill) {}
  float& at(int64_t i, int64_t j) { return data[static_cast<size_t>(i * ld + j)]; }
  float at(int64_t i, int64_t j) const { return data[static_cast<size_t>(i * ld + j)]; }
};

// Records the rows x cols body of `s` (not its padding) for the grader.
inline void record_body(const std::string& label, const Strided& s, double rtol, double atol) {
  if (!mlsys::test::recording::enabled()) return;
  std::vector<double> v;
  v.reserve(static_cast<size_t>(s.rows * s.cols));
  for (int64_t i = 0; i < s.rows; ++i)
    for (int64_t j = 0; j < s.cols; ++j) v.push_back(s.at(i, j));
  mlsys::test::recording::record_floats(label, {s.rows, s.cols}, v, rtol, atol);
}

// Records floats [0, n) of a flat array for the grader.
inline void record_flat(const std::string& label, const float* p, int64_t n, double rtol, double atol) {
  if (!mlsys::test::recording::enabled()) return;
  mlsys::test::recording::record_floats(label, {n}, std::vector<double>(p, p + n), rtol, atol);
}

// Bitwise equality (NaN == NaN): for "input unchanged" and "padding untouched".
inline bool same_bits(float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0; }

// Collects mismatches and formats the failure message.
class Report {
 public:
  explicit Report(std::string what) : what_(std::move(what)) {}
  // Records element (i, j) as bad when !(|got - want| <= tol) (NaN is always bad).
  void compare(int64_t i, int64_t j, double got, double want, double tol) {
    double err = std::fabs(got - want);
    bool ok = err <= tol;  // false for NaN
    ++checked_;
    if (std::isfinite(err)) {
      max_err_ = std::max(max_err_, err);
      if (want != 0) max_rel_ = std::max(max_rel_, err / std::fabs(want));
      if (tol > 0) max_ratio_ = std::max(max_ratio_, err / tol);
    }
    if (!ok) fail(i, j, "got " + num(got) + ", expected " + num(want) + " +- " + num(tol));
  }
  void fail(int64_t i, int64_t j, const std::string& what) {
    if (bad_ < 8) first_ << "    [" << i << ", " << j << "] " << what << "\n";
    ++bad_;
  }
  void note(const std::string& hint) { hints_ += hint; }
  ::testing::AssertionResult result() const {
    if (bad_ == 0) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure()
           << what_ << ": " << bad_ << " of " << checked_ << " checks failed; max |error| "
           << max_err_ << ", max relative error " << max_rel_ << " (" << max_ratio_
           << "x the tolerance)\n  first failures [row, col]:\n"
           << first_.str() << "  hint: " << hints_;
  }

 private:
  static std::string num(double v) {
    std::ostringstream os;
    os.precision(9);
    os << v;
    return os.str();
  }
  std::string what_, hints_;
  std::ostringstream first_;
  int64_t bad_ = 0, checked_ = 0;
  double max_err_ = 0, max_rel_ = 0, max_ratio_ = 0;
};

// Sets the OpenMP thread count for one scope (tests that run several in one process).
class ThreadCount {
 public:
  explicit ThreadCount(int n) : old_(omp_get_max_threads()) { omp_set_num_threads(n); }
  ~ThreadCount() { omp_set_num_threads(old_); }

 private:
  int old_;
};

// ============================================================================================
// Matmul
// ============================================================================================

using MatmulFn = void (*)(const float*, const float*, float*, int64_t, int64_t, int64_t,
                          int64_t, int64_t, int64_t);

struct MatmulCase {
  int64_t M, N, K;
  int64_t pad = 0;     // extra columns in the leading dimension of A, B and C
  uint64_t seed = 1;
  float scale = 1.f;   // inputs uniform in [-scale, scale)
};

inline std::string describe(const MatmulCase& c) {
  std::ostringstream os;
  os << "C[" << c.M << ", " << c.N << "] = A[" << c.M << ", " << c.K << "] @ B[" << c.K << ", "
     << c.N << "]";
  if (c.pad) os << " (leading dimensions padded by " << c.pad << ")";
  return os.str();
}

// Runs `fn` on random inputs and checks C against a double-precision product (Eigen).
//
// Tolerance, element by element: |C - C_exact| <= 4 sqrt(K) eps (|A| |B|)[i, j], eps = 2^-23.
// A float dot product of length K carries at most K rounding errors of relative size u = eps/2,
// each bounded by the running sum of |a_ip b_pj| <= (|A||B|)[i, j]; they are independent and
// of both signs, so their sum grows like sqrt(K) u, not K u (the worst case). Summation
// orders (i-j-k, i-k-j, tiled, 2 * kVecWidth-wide partial sums, FMA or not) all fit within
// 4 sqrt(K) eps; a wrong index or a missing term is off by about |a_ip b_pj| ~ (|A||B|) / K,
// far above it. The bound is relative to |A||B| because C itself can cancel to near 0.
inline ::testing::AssertionResult check_matmul(MatmulFn fn, const MatmulCase& c) {
  const int64_t M = c.M, N = c.N, K = c.K;
  Strided A(M, K, c.pad, kNaN), B(K, N, c.pad, kNaN), C(M, N, c.pad, kSentinel);
  std::vector<float> a = uniform(M * K, c.seed, -c.scale, c.scale);
  std::vector<float> b = uniform(K * N, c.seed + 1000003, -c.scale, c.scale);
  for (int64_t i = 0; i < M; ++i)
    for (int64_t p = 0; p < K; ++p) A.at(i, p) = a[static_cast<size_t>(i * K + p)];
  for (int64_t p = 0; p < K; ++p)
    for (int64_t j = 0; j < N; ++j) B.at(p, j) = b[static_cast<size_t>(p * N + j)];
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) C.at(i, j) = kNaN;  // old contents must not leak in
  const std::vector<float> A0 = A.data, B0 = B.data;

  fn(A.data.data(), B.data.data(), C.data.data(), M, N, K, A.ld, B.ld, C.ld);

  using Mat = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  Mat Ad(M, K), Bd(K, N);
  for (int64_t i = 0; i < M; ++i)
    for (int64_t p = 0; p < K; ++p) Ad(i, p) = a[static_cast<size_t>(i * K + p)];
  for (int64_t p = 0; p < K; ++p)
    for (int64_t j = 0; j < N; ++j) Bd(p, j) = b[static_cast<size_t>(p * N + j)];
  Mat exact = Ad * Bd;
  Mat bound = Ad.cwiseAbs() * Bd.cwiseAbs();

  Report report(describe(c));
  const double factor = 4.0 * std::sqrt(double(K)) * 2 * kU;
  record_body("C", C, 0.0, factor * bound.maxCoeff());
  for (int64_t i = 0; i < M; ++i) {
    for (int64_t j = 0; j < N; ++j) report.compare(i, j, C.at(i, j), exact(i, j), factor * bound(i, j));
    for (int64_t j = N; j < C.ld; ++j)
      if (!same_bits(C.at(i, j), kSentinel)) report.fail(i, j, "wrote C's padding (column >= N)");
  }
  for (size_t k = 0; k < A0.size(); ++k)
    if (!same_bits(A.data[k], A0[k])) { report.fail(int64_t(k) / A.ld, int64_t(k) % A.ld, "modified A"); break; }
  for (size_t k = 0; k < B0.size(); ++k)
    if (!same_bits(B.data[k], B0[k])) { report.fail(int64_t(k) / B.ld, int64_t(k) % B.ld, "modified B"); break; }
  report.note(
      "NaN means C's old contents leaked in (zero C first) or padding was read (columns past K "
      "in A or past N in B hold NaN). Everything wrong: check A[i*lda + p], B[p*ldb + j], "
      "C[i*ldc + j]. Only the last rows/columns wrong: the edge tiles, when M, N or K is not a "
      "multiple of your tile.");
  return report.result();
}

// ============================================================================================
// Row-wise ops: softmax, layernorm
// ============================================================================================

// Inputs of a row-wise op: x (rows x cols, padding NaN) filled by fill(r, c), and y (padding
// sentinel, body NaN), or y == x for in place.
struct RowsCase {
  int64_t rows, cols;
  int64_t pad = 0;
  bool in_place = false;
};

inline std::string describe(const RowsCase& c, const char* op) {
  std::ostringstream os;
  os << op << " of " << c.rows << " x " << c.cols;
  if (c.pad) os << " (row stride padded by " << c.pad << ")";
  if (c.in_place) os << ", in place";
  return os.str();
}

using Fill = std::function<float(int64_t r, int64_t c)>;

// uniform in [lo, hi), one value per (r, c), deterministic.
inline Fill uniform_fill(int64_t rows, int64_t cols, uint64_t seed, float lo, float hi) {
  auto v = std::make_shared<std::vector<float>>(uniform(rows * cols, seed, lo, hi));
  return [v, cols](int64_t r, int64_t c) { return (*v)[static_cast<size_t>(r * cols + c)]; };
}

using SoftmaxFn = void (*)(const float*, float*, int64_t, int64_t, int64_t, int64_t);

// Runs `fn` and checks y against a double-precision softmax of the same inputs.
// Tolerance: |y - y_exact| <= (16 + 4 sqrt(cols)) u y_exact + 1e-35. Each y is one exp
// (a few ulp), a sum of cols terms (relative error growing like sqrt(cols) u, as for matmul)
// and a division; exp(x - max) is exact in its argument, because x - max is computed exactly
// when it matters (Sterbenz). 1e-35 covers entries that underflow to 0.
inline ::testing::AssertionResult check_softmax(SoftmaxFn fn, const RowsCase& c, const Fill& fill) {
  Strided x(c.rows, c.cols, c.pad, kNaN), y(c.rows, c.cols, c.pad, kSentinel);
  for (int64_t r = 0; r < c.rows; ++r)
    for (int64_t k = 0; k < c.cols; ++k) {
      x.at(r, k) = fill(r, k);
      y.at(r, k) = kNaN;
    }
  const std::vector<float> x0 = x.data;
  Strided& out = c.in_place ? x : y;

  fn(x.data.data(), out.data.data(), c.rows, c.cols, x.ld, out.ld);

  Report report(describe(c, "softmax_forward"));
  const double rtol = (16 + 4 * std::sqrt(double(c.cols))) * kU;
  record_body("y", out, rtol, 1e-35);
  for (int64_t r = 0; r < c.rows; ++r) {
    double m = -std::numeric_limits<double>::infinity(), s = 0;
    for (int64_t k = 0; k < c.cols; ++k) m = std::max(m, double(x0[size_t(r * x.ld + k)]));
    for (int64_t k = 0; k < c.cols; ++k) s += std::exp(double(x0[size_t(r * x.ld + k)]) - m);
    for (int64_t k = 0; k < c.cols; ++k) {
      double want = std::exp(double(x0[size_t(r * x.ld + k)]) - m) / s;
      report.compare(r, k, out.at(r, k), want, rtol * want + 1e-35);
    }
    for (int64_t k = c.cols; k < out.ld; ++k) {
      float expect = c.in_place ? kNaN : kSentinel;
      if (!same_bits(out.at(r, k), expect)) report.fail(r, k, "wrote y's padding (column >= cols)");
    }
  }
  if (!c.in_place && !std::equal(x.data.begin(), x.data.end(), x0.begin(), same_bits))
    report.fail(0, 0, "modified x");
  report.note(
      "inf or NaN: subtract the row max before exp (and let exp(-inf) give 0). Off by a constant "
      "factor per row: the sum. Only the last columns wrong: the tail after the last full "
      "vector. In place: read x[r, c] before writing y[r, c].");
  return report.result();
}

using LayernormFn = void (*)(const float*, const float*, const float*, float*, float*, float*,
                             int64_t, int64_t, int64_t, int64_t, float);

struct LayernormOptions {
  float eps = 1e-5f;
  bool stats = true;     // pass mean / rstd arrays (else nullptr)
  uint64_t seed = 7;     // for gamma and beta
};

// Runs `fn` and checks y, mean and rstd against a double-precision layernorm (two passes).
// Tolerances (u = 2^-24), per element:
//   y:    4u |gamma| rstd |mu|  +  32u (|gamma z| + |beta|)  +  1e-6,   z = (x - mu) rstd.
//         The first term is rounding mu to float before x - mu (it dominates for rows with a
//         large offset); the second covers the few roundings of (x - mu) * rstd * gamma + beta
//         and of rstd; 1e-6 is absolute slack for outputs that cancel to ~0.
//   mean: 4u |mu| + 1e-7 ;   rstd: 1e-5 relative (the statistics are accumulated in double,
//         so float rounding of the result dominates; 1e-5 leaves room for var's cancellation
//         on rows with |mu| up to 10^4 std).
inline ::testing::AssertionResult check_layernorm(LayernormFn fn, const RowsCase& c,
                                                  const Fill& fill, LayernormOptions o = {}) {
  Strided x(c.rows, c.cols, c.pad, kNaN), y(c.rows, c.cols, c.pad, kSentinel);
  for (int64_t r = 0; r < c.rows; ++r)
    for (int64_t k = 0; k < c.cols; ++k) {
      x.at(r, k) = fill(r, k);
      y.at(r, k) = kNaN;
    }
  std::vector<float> gamma = uniform(c.cols, o.seed, 0.5f, 2.f);
  std::vector<float> beta = uniform(c.cols, o.seed + 1, -1.f, 1.f);
  // Flip the sign of every third gamma: a kernel that ignores gamma's sign fails.
  for (size_t k = 0; k < gamma.size(); k += 3) gamma[k] = -gamma[k];
  std::vector<float> mean(size_t(c.rows), kNaN), rstd(size_t(c.rows), kNaN);
  const std::vector<float> x0 = x.data;
  Strided& out = c.in_place ? x : y;

  fn(x.data.data(), gamma.data(), beta.data(), out.data.data(), o.stats ? mean.data() : nullptr,
     o.stats ? rstd.data() : nullptr, c.rows, c.cols, x.ld, out.ld, o.eps);

  Report report(describe(c, "layernorm_forward"));
  double max_tol_y = 0, max_tol_mean = 0;  // for the records
  for (int64_t r = 0; r < c.rows; ++r) {
    double mu = 0, var = 0;
    for (int64_t k = 0; k < c.cols; ++k) mu += x0[size_t(r * x.ld + k)];
    mu /= double(c.cols);
    for (int64_t k = 0; k < c.cols; ++k) {
      double d = x0[size_t(r * x.ld + k)] - mu;
      var += d * d;
    }
    var /= double(c.cols);
    const double rs = 1.0 / std::sqrt(var + double(o.eps));
    for (int64_t k = 0; k < c.cols; ++k) {
      double z = (x0[size_t(r * x.ld + k)] - mu) * rs, g = gamma[size_t(k)], b = beta[size_t(k)];
      double want = z * g + b;
      double tol = 4 * kU * std::fabs(g) * rs * std::fabs(mu) + 32 * kU * (std::fabs(g * z) + std::fabs(b)) + 1e-6;
      report.compare(r, k, out.at(r, k), want, tol);
      max_tol_y = std::max(max_tol_y, tol);
    }
    for (int64_t k = c.cols; k < out.ld; ++k) {
      float expect = c.in_place ? kNaN : kSentinel;
      if (!same_bits(out.at(r, k), expect)) report.fail(r, k, "wrote y's padding (column >= cols)");
    }
    if (o.stats) {
      report.compare(r, -1, mean[size_t(r)], mu, 4 * kU * std::fabs(mu) + 1e-7);  // col -1: mean
      max_tol_mean = std::max(max_tol_mean, 4 * kU * std::fabs(mu) + 1e-7);
      report.compare(r, -2, rstd[size_t(r)], rs, 1e-5 * rs);                      // col -2: rstd
    }
  }
  if (!c.in_place && !std::equal(x.data.begin(), x.data.end(), x0.begin(), same_bits))
    report.fail(0, 0, "modified x");
  record_body("y", out, 0.0, max_tol_y);
  if (o.stats) {
    record_flat("mean", mean.data(), c.rows, 0.0, max_tol_mean);
    record_flat("rstd", rstd.data(), c.rows, 1e-5, 0.0);
  }
  report.note(
      "column -1 is mean[r], column -2 is rstd[r]. Wrong only on rows with a large offset: "
      "accumulate the statistics in double. inf on constant rows: rstd = 1/sqrt(var + eps), "
      "and clamp var at 0. Wrong by a per-column factor: gamma / beta indexing.");
  return report.result();
}

}  // namespace pa2::test
