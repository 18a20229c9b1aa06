// The op suite, compiled twice: MLSYS_TEST_DEVICE=CPU (label common) and =CUDA (label gpu;
// every case skips with the reason when no GPU is present). Inputs are made on the CPU with
// seeded random numbers and moved to the device; expected values are computed here with
// plain loops in double precision and explicit broadcasting index arithmetic.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <string>

#include "mlsys/ops.h"
#include "mlsys/tensor.h"
#include "mlsys/testing.h"

using namespace mlsys;

constexpr Device kDevice = Device::MLSYS_TEST_DEVICE;

class Ops : public ::testing::Test {
 protected:
  void SetUp() override {
    if (kDevice == Device::CUDA) MLSYS_SKIP_WITHOUT_GPU();
  }
  static Tensor dev(const Tensor& t) { return t.to(kDevice); }
  static Tensor randu(Shape s, uint64_t seed, float lo = -2.f, float hi = 2.f) {
    return rand(std::move(s), seed, lo, hi).to(kDevice);
  }
};

// ---- independent references ----------------------------------------------------------------

// Flat index into a tensor of `shape` (row-major) for the output multi-index of `out_flat`
// in `out_shape`, with NumPy broadcasting (size-1 and missing leading dims repeat).
static int64_t broadcast_index(int64_t out_flat, const Shape& out_shape, const Shape& shape) {
  int64_t idx = 0, mul = 1;
  size_t lead = out_shape.size() - shape.size();
  for (size_t d = out_shape.size(); d-- > 0;) {
    int64_t i = out_flat % out_shape[d];
    out_flat /= out_shape[d];
    if (d >= lead) {
      int64_t n = shape[d - lead];
      idx += (n == 1 ? 0 : i) * mul;
      mul *= n;
    }
  }
  return idx;
}

static Tensor ref_binary(const Tensor& a, const Tensor& b, const std::function<double(double, double)>& f) {
  Shape out_shape = broadcast_shapes(a.shape(), b.shape(), "ref");
  std::vector<double> av = a.to_vector<double>(), bv = b.to_vector<double>();
  std::vector<float> out(static_cast<size_t>(numel(out_shape)));
  for (int64_t i = 0; i < static_cast<int64_t>(out.size()); ++i)
    out[i] = static_cast<float>(f(av[broadcast_index(i, out_shape, a.shape())],
                                  bv[broadcast_index(i, out_shape, b.shape())]));
  return from_vector(out, out_shape);
}

// Reduction over `axes` (sorted, non-negative) with keepdims, in double.
static Tensor ref_reduce(const Tensor& x, const std::vector<int64_t>& axes, bool keepdims,
                         const std::function<double(double, double)>& f, double init) {
  Shape s = x.shape(), out_shape = s;
  for (int64_t a : axes) out_shape[a] = 1;
  std::vector<double> xv = x.to_vector<double>();
  std::vector<double> acc(static_cast<size_t>(numel(out_shape)), init);
  for (int64_t i = 0; i < static_cast<int64_t>(xv.size()); ++i) {
    // Map input flat index to output flat index by zeroing reduced coordinates.
    int64_t rem = i, o = 0, mul = 1;
    for (size_t d = s.size(); d-- > 0;) {
      int64_t c = rem % s[d];
      rem /= s[d];
      o += (out_shape[d] == 1 ? 0 : c) * mul;
      mul *= out_shape[d];
    }
    acc[o] = f(acc[o], xv[i]);
  }
  std::vector<float> out(acc.begin(), acc.end());
  Shape final_shape;
  for (size_t d = 0; d < s.size(); ++d) {
    bool reduced = std::find(axes.begin(), axes.end(), static_cast<int64_t>(d)) != axes.end();
    if (!reduced || keepdims) final_shape.push_back(reduced ? 1 : s[d]);
  }
  return from_vector(out, final_shape);
}

// ============================================================================================
// Elementwise
// ============================================================================================

TEST_F(Ops, UnaryMatchesStdMath) {
  struct Case { UnaryOp op; std::function<double(double)> f; float lo, hi; };
  std::vector<Case> cases = {
      {UnaryOp::Neg, [](double x) { return -x; }, -3, 3},
      {UnaryOp::Exp, [](double x) { return std::exp(x); }, -5, 5},
      {UnaryOp::Log, [](double x) { return std::log(x); }, 0.01f, 10},
      {UnaryOp::Sqrt, [](double x) { return std::sqrt(x); }, 0, 10},
      {UnaryOp::Tanh, [](double x) { return std::tanh(x); }, -5, 5},
      {UnaryOp::Relu, [](double x) { return x > 0 ? x : 0; }, -3, 3},
      {UnaryOp::Sigmoid, [](double x) { return 1 / (1 + std::exp(-x)); }, -30, 30},
      {UnaryOp::Abs, [](double x) { return std::fabs(x); }, -3, 3},
      {UnaryOp::Sign, [](double x) { return (x > 0) - (x < 0); }, -3, 3},
      {UnaryOp::ReluGrad, [](double x) { return x > 0 ? 1 : 0; }, -3, 3},
  };
  for (const Case& c : cases) {
    // A transposed (non-contiguous) input exercises the strided path.
    Tensor x = randu({7, 9}, 1, c.lo, c.hi).t();
    std::vector<double> xv = x.to_vector<double>();
    std::vector<float> ev;
    for (double v : xv) ev.push_back(static_cast<float>(c.f(v)));
    Tensor y = unary(c.op, x);
    EXPECT_TRUE(y.is_contiguous());
    EXPECT_TRUE(test::allclose(y, from_vector(ev, {9, 7}), 1e-5, 1e-6)) << "op " << static_cast<int>(c.op);
  }
}

TEST_F(Ops, BinaryBroadcastingTable) {
  std::vector<std::pair<Shape, Shape>> shapes = {
      {{3, 4}, {3, 4}}, {{3, 4}, {4}}, {{3, 1}, {1, 4}}, {{2, 1, 5}, {3, 1}},
      {{}, {2, 3}}, {{0, 3}, {3}}, {{4, 1, 3, 1}, {2, 1, 5}}, {{1}, {1}}};
  struct Case { BinaryOp op; std::function<double(double, double)> f; };
  std::vector<Case> cases = {
      {BinaryOp::Add, [](double a, double b) { return a + b; }},
      {BinaryOp::Sub, [](double a, double b) { return a - b; }},
      {BinaryOp::Mul, [](double a, double b) { return a * b; }},
      {BinaryOp::Div, [](double a, double b) { return a / b; }},
      {BinaryOp::Maximum, [](double a, double b) { return std::max(a, b); }},
      {BinaryOp::Minimum, [](double a, double b) { return std::min(a, b); }},
      {BinaryOp::Lt, [](double a, double b) { return a < b; }},
      {BinaryOp::Ge, [](double a, double b) { return a >= b; }},
      {BinaryOp::Eq, [](double a, double b) { return a == b; }},
  };
  uint64_t seed = 10;
  for (auto& [sa, sb] : shapes) {
    Tensor a = randu(sa, seed++), b = randu(sb, seed++, 0.5f, 2.f);
    for (const Case& c : cases)
      EXPECT_TRUE(test::allclose(binary(c.op, a, b), ref_binary(a, b, c.f), 1e-6, 1e-6))
          << "op " << static_cast<int>(c.op) << " shapes " << to_string(sa) << " " << to_string(sb);
  }
  Tensor base = randu({3, 4}, 3, 0.5f, 2.f), e = randu({3, 4}, 4, -2.f, 2.f);
  EXPECT_TRUE(test::allclose(pow(base, e), ref_binary(base, e, [](double a, double b) { return std::pow(a, b); }), 1e-5, 1e-6));
}

TEST_F(Ops, NonContiguousOperandsAndScalars) {
  Tensor a = randu({6, 8}, 5).slice(0, 0, 6, 2).t();  // [8, 3], strides (1, 16)
  Tensor b = randu({3}, 6);
  auto add = [](double x, double y) { return x + y; };
  auto mul = [](double x, double y) { return x * y; };
  EXPECT_TRUE(test::allclose(a + b, ref_binary(a, b, add)));
  EXPECT_TRUE(test::allclose(a * 2.f, ref_binary(a, scalar(2.f), mul)));
  EXPECT_TRUE(test::allclose(1.f - a, ref_binary(scalar(1.f), a, [](double x, double y) { return x - y; })));
  EXPECT_TRUE(test::allclose(2.f / (a * a + 1.f), ref_binary(scalar(2.f), ref_binary(ref_binary(a, a, mul), scalar(1.f), add), [](double x, double y) { return x / y; }), 1e-5, 1e-6));
  EXPECT_TRUE(test::allclose(-a, ref_binary(a, scalar(-1.f), mul)));
}

TEST_F(Ops, Where) {
  Tensor c = dev(from_vector<float>({1, 0, 0, 1}, {4, 1}));
  Tensor a = randu({4, 3}, 7), b = randu({3}, 8);
  std::vector<double> av = a.to_vector<double>(), bv = b.to_vector<double>();
  std::vector<float> ev;
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 3; ++j) ev.push_back(static_cast<float>((i == 0 || i == 3) ? av[i * 3 + j] : bv[j]));
  EXPECT_TRUE(test::allclose(where(c, a, b), from_vector(ev, {4, 3})));
}

// ============================================================================================
// Reductions
// ============================================================================================

TEST_F(Ops, SumMeanMaxMinOverAxes) {
  Tensor x = randu({3, 4, 5}, 11);
  Tensor xt = x.permute({2, 0, 1});  // non-contiguous [5, 3, 4]
  auto add = [](double a, double b) { return a + b; };
  auto mx = [](double a, double b) { return std::max(a, b); };
  auto mn = [](double a, double b) { return std::min(a, b); };
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<std::vector<int64_t>> axis_sets = {{}, {0}, {1}, {2}, {0, 2}, {1, 2}, {0, 1, 2}};
  for (const Tensor& in : {x, xt}) {
    for (auto axes : axis_sets) {
      std::vector<int64_t> all = axes.empty() ? std::vector<int64_t>{0, 1, 2} : axes;
      for (bool keep : {false, true}) {
        EXPECT_TRUE(test::allclose(sum(in, axes, keep), ref_reduce(in, all, keep, add, 0), 1e-5, 1e-5));
        EXPECT_TRUE(test::allclose(max(in, axes, keep), ref_reduce(in, all, keep, mx, -inf)));
        EXPECT_TRUE(test::allclose(min(in, axes, keep), ref_reduce(in, all, keep, mn, inf)));
        int64_t count = 1;
        for (int64_t a : all) count *= in.shape()[a];
        Tensor m = ref_reduce(in, all, keep, add, 0) / static_cast<float>(count);
        EXPECT_TRUE(test::allclose(mean(in, axes, keep), m, 1e-5, 1e-6));
      }
    }
  }
  // Negative axes, and a long row summed accurately.
  EXPECT_TRUE(test::allclose(sum(x, {-1}), ref_reduce(x, {2}, false, add, 0), 1e-5, 1e-5));
  Tensor big = dev(ones({1 << 20}));
  EXPECT_EQ(sum(big).item(), static_cast<float>(1 << 20));
  EXPECT_EQ(sum(dev(zeros({0, 3})), {0}).shape(), (Shape{3}));
}

TEST_F(Ops, ArgmaxFirstOccurrence) {
  Tensor x = dev(from_vector<float>({1, 5, 5, 2, 9, 0, 3, 3}, {2, 4}));
  EXPECT_EQ(argmax(x, 1).cpu().to_vector<int64_t>(), (std::vector<int64_t>{1, 0}));
  EXPECT_EQ(argmax(x, 0).cpu().to_vector<int64_t>(), (std::vector<int64_t>{1, 0, 0, 1}));
  EXPECT_EQ(argmax(x, 0, true).shape(), (Shape{1, 4}));
  EXPECT_EQ(argmax(x, -1).dtype(), DType::Int64);
}

TEST_F(Ops, SumToUndoesBroadcast) {
  Tensor g = randu({2, 3, 4}, 12);
  auto add = [](double a, double b) { return a + b; };
  EXPECT_TRUE(test::allclose(sum_to(g, {3, 1}), ref_reduce(g, {0, 2}, true, add, 0).reshape({3, 1}), 1e-5, 1e-5));
  EXPECT_TRUE(test::allclose(sum_to(g, {4}), ref_reduce(g, {0, 1}, false, add, 0), 1e-5, 1e-5));
  EXPECT_TRUE(test::allclose(sum_to(g, {}), ref_reduce(g, {0, 1, 2}, false, add, 0), 1e-5, 1e-5));
  EXPECT_TRUE(test::allclose(sum_to(g, {2, 3, 4}), g));
}

// ============================================================================================
// Matmul
// ============================================================================================

static Tensor ref_matmul(const Tensor& a, const Tensor& b) {
  // Batched, broadcast, double accumulation; inputs moved to CPU contiguous first.
  Shape ab(a.shape().begin(), a.shape().end() - 2), bb(b.shape().begin(), b.shape().end() - 2);
  Shape batch = broadcast_shapes(ab, bb, "ref");
  int64_t M = a.size(-2), K = a.size(-1), N = b.size(-1);
  std::vector<double> av = a.to_vector<double>(), bv = b.to_vector<double>();
  std::vector<float> out;
  for (int64_t i = 0; i < numel(batch); ++i) {
    int64_t ia = broadcast_index(i, batch, ab), ib = broadcast_index(i, batch, bb);
    for (int64_t m = 0; m < M; ++m)
      for (int64_t n = 0; n < N; ++n) {
        double s = 0;
        for (int64_t k = 0; k < K; ++k) s += av[ia * M * K + m * K + k] * bv[ib * K * N + k * N + n];
        out.push_back(static_cast<float>(s));
      }
  }
  Shape s = batch;
  s.push_back(M);
  s.push_back(N);
  return from_vector(out, s);
}

TEST_F(Ops, MatmulShapesLayoutsAndBatches) {
  std::vector<std::pair<Shape, Shape>> shapes = {
      {{5, 7}, {7, 3}}, {{1, 1}, {1, 1}}, {{2, 3, 4}, {2, 4, 5}}, {{2, 1, 3, 4}, {3, 4, 6}},
      {{3, 4}, {2, 4, 2}}, {{64, 33}, {33, 65}}, {{4, 0}, {0, 3}}};
  uint64_t seed = 20;
  for (auto& [sa, sb] : shapes) {
    Tensor a = randu(sa, seed++), b = randu(sb, seed++);
    EXPECT_TRUE(test::allclose(matmul(a, b), ref_matmul(a, b), 1e-4, 1e-4))
        << to_string(sa) << " @ " << to_string(sb);
  }
  // Transposed and sliced views are valid operands.
  Tensor a = randu({6, 5}, 30).t(), b = randu({4, 6}, 31).t();  // [5, 6] @ [6, 4]
  EXPECT_TRUE(test::allclose(matmul(a, b), ref_matmul(a, b), 1e-4, 1e-4));
  Tensor c = randu({5, 12}, 32).slice(1, 0, 12, 2);  // [5, 6], column stride 2
  EXPECT_TRUE(test::allclose(matmul(c, b), ref_matmul(c, b), 1e-4, 1e-4));
}

// ============================================================================================
// Softmax
// ============================================================================================

static Tensor ref_softmax(const Tensor& x2d, bool log) {  // along the last axis of a 2-D tensor
  int64_t R = x2d.size(0), C = x2d.size(1);
  std::vector<double> v = x2d.to_vector<double>();
  std::vector<float> out;
  for (int64_t r = 0; r < R; ++r) {
    double m = -1e300, s = 0;
    for (int64_t c = 0; c < C; ++c) m = std::max(m, v[r * C + c]);
    for (int64_t c = 0; c < C; ++c) s += std::exp(v[r * C + c] - m);
    for (int64_t c = 0; c < C; ++c)
      out.push_back(static_cast<float>(log ? v[r * C + c] - m - std::log(s) : std::exp(v[r * C + c] - m) / s));
  }
  return from_vector(out, {R, C});
}

TEST_F(Ops, SoftmaxAndLogSoftmaxAlongAnyAxisAndStable) {
  Tensor x = randu({6, 10}, 40, -5, 5);
  EXPECT_TRUE(test::allclose(softmax(x), ref_softmax(x, false), 1e-5, 1e-6));
  EXPECT_TRUE(test::allclose(log_softmax(x, -1), ref_softmax(x, true), 1e-5, 1e-5));
  EXPECT_TRUE(test::allclose(softmax(x, 0), ref_softmax(x.t(), false).t(), 1e-5, 1e-6));
  // Logits of +-1e4 would overflow exp without the max subtraction.
  Tensor big = dev(from_vector<float>({1e4f, -1e4f, 0.f, 1e4f, 1e4f - 1.f, -1e4f}, {2, 3}));
  EXPECT_TRUE(test::allclose(log_softmax(big), ref_softmax(big, true), 1e-5, 1e-3));
  EXPECT_TRUE(test::allclose(softmax(big), ref_softmax(big, false), 1e-5, 1e-6));
}

// ============================================================================================
// Creation on the device
// ============================================================================================

TEST_F(Ops, FullKeepsIntegersExactOnTheDevice) {
  const int64_t big = (int64_t{1} << 62) + 1;
  EXPECT_EQ(full({3}, big, DType::Int64, kDevice).cpu().to_vector<int64_t>(),
            (std::vector<int64_t>(3, big)));
  EXPECT_EQ(full({2}, 16777217, DType::Int32, kDevice).cpu().to_vector<int32_t>(),
            (std::vector<int32_t>(2, 16777217)));
  Tensor t = zeros({2, 2}, DType::Int64, kDevice);
  t.fill_(big);
  EXPECT_EQ(t.cpu().to_vector<int64_t>(), (std::vector<int64_t>(4, big)));
}

// ============================================================================================
// Copies between views of one storage
// ============================================================================================

// dst.copy_(src) where both are views of one tensor must give NumPy's result: as if src were
// copied out first. The reference does exactly that, on host vectors, with index arithmetic:
// dst and src are described by (offset, shape, strides) into the flat data.
struct ViewSpec {
  int64_t offset;
  Shape shape, strides;
};

static Tensor view_of(const Tensor& t, const ViewSpec& v) {
  return Tensor::make_view(t.storage(), v.shape, v.strides, t.offset() + v.offset, t.dtype());
}

static std::vector<double> ref_overlapping_copy(std::vector<double> data, const ViewSpec& dst,
                                                const ViewSpec& src) {
  const std::vector<double> before = data;  // the source, copied first
  const int64_t n = numel(dst.shape);
  for (int64_t i = 0; i < n; ++i) {
    int64_t rem = i, od = dst.offset, os = src.offset;
    for (size_t d = dst.shape.size(); d-- > 0;) {
      int64_t c = rem % dst.shape[d];
      rem /= dst.shape[d];
      od += c * dst.strides[d];
      os += c * src.strides[d];
    }
    data[od] = before[os];
  }
  return data;
}

TEST_F(Ops, OverlappingCopyIsAsIfTheSourceWereCopiedFirst) {
  // A flat 1-D tensor of 12 and a [4, 5] matrix (20 elements); each pair is written in both
  // directions (source before / after the destination in memory).
  struct Case {
    const char* name;
    int64_t size;
    ViewSpec a, b;
  };
  const std::vector<Case> cases = {
      {"t[1:] vs t[:-1] (contiguous)", 12, {1, {11}, {1}}, {0, {11}, {1}}},
      {"t[2::2] vs t[:-2:2]", 12, {2, {5}, {2}}, {0, {5}, {2}}},
      {"t[3:] vs t[:-3] (3 apart)", 12, {3, {9}, {1}}, {0, {9}, {1}}},
      {"m[1:, :3] vs m[:-1, :3]", 20, {5, {3, 3}, {5, 1}}, {0, {3, 3}, {5, 1}}},
      {"m[:, 1:] vs m[:, :-1]", 20, {1, {4, 4}, {5, 1}}, {0, {4, 4}, {5, 1}}},
      {"m[1:, 1:] vs m[:-1, :-1]", 20, {6, {3, 4}, {5, 1}}, {0, {3, 4}, {5, 1}}},
      {"m[1:, :-1] vs m[:-1, 1:] (anti-diagonal)", 20, {5, {3, 4}, {5, 1}}, {1, {3, 4}, {5, 1}}},
      {"s vs s.T of a 4x4 block", 20, {0, {4, 4}, {5, 1}}, {0, {4, 4}, {1, 5}}},
      {"t[::2] vs t[1::2] (interleaved, no common element)", 12, {0, {6}, {2}}, {1, {6}, {2}}},
      {"t vs t (the same view)", 12, {0, {12}, {1}}, {0, {12}, {1}}},
  };
  for (DType dtype : {DType::Float32, DType::Int64}) {
    for (const Case& c : cases) {
      for (bool swap : {false, true}) {
        const ViewSpec& dst = swap ? c.b : c.a;
        const ViewSpec& src = swap ? c.a : c.b;
        Tensor t = dev(arange(0, static_cast<double>(c.size), 1, dtype));
        std::vector<double> want = ref_overlapping_copy(t.to_vector<double>(), dst, src);
        view_of(t, dst).copy_(view_of(t, src));
        EXPECT_EQ(t.to_vector<double>(), want)
            << c.name << (swap ? " (reversed)" : "") << ", " << to_string(dtype);
      }
    }
  }
  // A broadcast source that lies inside the destination: every row becomes the old row 2.
  Tensor m = dev(arange(0, 12, 1).reshape({4, 3}));
  m.copy_(m.select(0, 2));
  EXPECT_EQ(m.to_vector<float>(), (std::vector<float>{6, 7, 8, 6, 7, 8, 6, 7, 8, 6, 7, 8}));
}

// ============================================================================================
// Accuracy of long sums against a float64 reference
// ============================================================================================

// A float32 running sum of n terms can be off by ~n ulps: summing 10^7 copies of 0.1f gave
// 1.1% too little along a contiguous axis and 8.8% along a strided one. The sums must stay
// within a few float32 ulps of the exact (float64) sum of the same float32 inputs, whatever n.
constexpr double kSumRtol = 8 * 1.1920929e-7;  // 8 float32 epsilons

static double ref_sum(const std::vector<double>& v, int64_t begin, int64_t count, int64_t stride) {
  double s = 0;
  for (int64_t i = 0; i < count; ++i) s += v[begin + i * stride];
  return s;
}

TEST_F(Ops, LongSumsStayWithinAFewUlpsAlongAnyAxis) {
  const int64_t n = 10'000'000;
  const double exact = static_cast<double>(n) * static_cast<double>(0.1f);
  Tensor tenth = dev(full({n}, 0.1f));
  EXPECT_NEAR(sum(tenth).item(), exact, kSumRtol * exact) << "contiguous";
  EXPECT_NEAR(mean(tenth).item(), static_cast<double>(0.1f), kSumRtol * 0.1) << "mean";
  // Along a strided axis: [n/2, 2] summed over axis 0 (each output adds every other element),
  // and over the long axis of a transposed view (stride 2).
  Tensor pairs = dev(full({n / 2, 2}, 0.1f));
  for (float v : sum(pairs, {0}).cpu().to_vector<float>())
    EXPECT_NEAR(v, exact / 2, kSumRtol * exact / 2) << "outer axis";
  for (float v : sum(pairs.t(), {1}).cpu().to_vector<float>())
    EXPECT_NEAR(v, exact / 2, kSumRtol * exact / 2) << "strided inner axis";

  // Random values of both signs (cancellation): compare with the float64 sum of the same
  // float32 values, relative to the sum of magnitudes.
  const int64_t rows = 4, cols = 1'000'000;
  Tensor x = randu({rows, cols}, 60, -1.f, 3.f);
  std::vector<double> xv = x.to_vector<double>();
  std::vector<double> absv(xv.size());
  for (size_t i = 0; i < xv.size(); ++i) absv[i] = std::fabs(xv[i]);
  std::vector<float> by_row = sum(x, {1}).cpu().to_vector<float>();
  std::vector<float> by_col = sum(x.t(), {0}).cpu().to_vector<float>();  // the same sums, strided
  for (int64_t r = 0; r < rows; ++r) {
    double want = ref_sum(xv, r * cols, cols, 1), mag = ref_sum(absv, r * cols, cols, 1);
    EXPECT_NEAR(by_row[r], want, kSumRtol * mag) << "row " << r;
    EXPECT_NEAR(by_col[r], want, kSumRtol * mag) << "row " << r << " through x.t()";
  }
  // Summing the rows into one output per column (outer reduction over 4 rows of 10^6) and
  // everything at once.
  double all = ref_sum(xv, 0, rows * cols, 1), all_mag = ref_sum(absv, 0, rows * cols, 1);
  EXPECT_NEAR(sum(x).item(), all, kSumRtol * all_mag);
  EXPECT_NEAR(sum(sum(x, {0})).item(), all, 2 * kSumRtol * all_mag);
}

TEST_F(Ops, SoftmaxOverAMillionColumnsMatchesFloat64) {
  const int64_t cols = 1'000'000;
  Tensor x = randu({2, cols}, 61, -4.f, 4.f);
  std::vector<double> xv = x.to_vector<double>();
  std::vector<float> ls = log_softmax(x).cpu().to_vector<float>();
  std::vector<float> sm = softmax(x).cpu().to_vector<float>();
  double max_log_err = 0, max_rel_err = 0;
  for (int64_t r = 0; r < 2; ++r) {
    double m = -1e300, s = 0;
    for (int64_t c = 0; c < cols; ++c) m = std::max(m, xv[r * cols + c]);
    for (int64_t c = 0; c < cols; ++c) s += std::exp(xv[r * cols + c] - m);
    for (int64_t c = 0; c < cols; ++c) {
      double want_log = xv[r * cols + c] - m - std::log(s);
      double want = std::exp(want_log);
      max_log_err = std::max(max_log_err, std::fabs(ls[r * cols + c] - want_log));
      max_rel_err = std::max(max_rel_err, std::fabs(sm[r * cols + c] - want) / want);
    }
  }
  // log_softmax lies in [-24, -11] here, where one float32 ulp is 1e-6 to 2e-6. A float32
  // running sum of the exponentials was off by 1.8e-3.
  EXPECT_LT(max_log_err, 1e-5);
  EXPECT_LT(max_rel_err, 1e-5);
}

// ============================================================================================
// NaN propagates as in NumPy
// ============================================================================================

TEST_F(Ops, NaNPropagatesThroughMaxMinArgmaxMaximumMinimumReluSign) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  // A NaN at the start, in the middle and at the end of a row, in rows short and long (past
  // the 8-wide partial sums of the CPU and the 256 threads of a CUDA block).
  for (int64_t cols : {3, 37, 1000}) {
    for (int64_t at : {int64_t{0}, cols / 2, cols - 1}) {
      std::vector<float> v(static_cast<size_t>(cols));
      for (int64_t i = 0; i < cols; ++i) v[i] = static_cast<float>((i * 7) % 11);
      v[at] = nan;
      if (at + 2 < cols) v[at + 2] = nan;  // a second NaN: argmax reports the first
      Tensor row = dev(from_vector(v, {cols}));
      std::string where = "cols " + std::to_string(cols) + ", NaN at " + std::to_string(at);
      EXPECT_TRUE(std::isnan(max(row).item())) << where;
      EXPECT_TRUE(std::isnan(min(row).item())) << where;
      EXPECT_EQ(argmax(row, 0).item_int(), at) << where;
      // The same values as a column of a matrix: reduced along a strided axis.
      Tensor col = row.reshape({cols, 1}).expand({cols, 2}).contiguous();
      for (float m : max(col, {0}).cpu().to_vector<float>()) EXPECT_TRUE(std::isnan(m)) << where;
      for (float m : min(col, {0}).cpu().to_vector<float>()) EXPECT_TRUE(std::isnan(m)) << where;
      EXPECT_EQ(argmax(col, 0).cpu().to_vector<int64_t>(), (std::vector<int64_t>{at, at})) << where;
    }
  }
  // NaN beats +inf in argmax; rows without NaN keep their first maximum.
  EXPECT_EQ(argmax(dev(from_vector<float>({inf, nan, 1}, {3})), 0).item_int(), 1);
  EXPECT_EQ(argmax(dev(from_vector<float>({1, inf, inf}, {3})), 0).item_int(), 1);

  Tensor a = dev(from_vector<float>({nan, 1, nan, -2}, {4}));
  Tensor b = dev(from_vector<float>({1, nan, nan, 3}, {4}));
  for (const Tensor& r : {maximum(a, b), maximum(b, a), minimum(a, b), minimum(b, a)}) {
    std::vector<float> v = r.cpu().to_vector<float>();
    EXPECT_TRUE(std::isnan(v[0]) && std::isnan(v[1]) && std::isnan(v[2]));
  }
  EXPECT_EQ(maximum(a, b).cpu().to_vector<float>()[3], 3.f);
  EXPECT_EQ(minimum(a, b).cpu().to_vector<float>()[3], -2.f);
  EXPECT_TRUE(std::isnan(binary(BinaryOp::Maximum, a, 5.f).cpu().to_vector<float>()[0]));
  EXPECT_TRUE(std::isnan(binary(BinaryOp::Minimum, 5.f, a).cpu().to_vector<float>()[0]));
  std::vector<float> r = relu(a).cpu().to_vector<float>();
  EXPECT_TRUE(std::isnan(r[0]));
  EXPECT_EQ(r[1], 1.f);
  EXPECT_EQ(r[3], 0.f);
  EXPECT_TRUE(std::isnan(sign(a).cpu().to_vector<float>()[0]));
}

// Reductions over an outer axis whose output rows are long (here 4100 elements: 32 KiB of
// double sums, 16 KiB of floats) take another path on the CPU: 8 input rows at a time. Rows
// [A, R, C] reduced over R = 19 (two full groups of 8 and a tail of 3) into A = 3 different
// output rows, with NaNs in a full group and in the tail; against float64 loops.
TEST_F(Ops, OuterAxisReductionsOfLongRowsMatchFloat64AndPropagateNaN) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const int64_t A = 3, R = 19, C = 4100;
  std::vector<float> v = rand({A, R, C}, 62, -1.f, 3.f).to_vector<float>();
  // (a, r, c) of each NaN: rows 0, 7 and 8 fall in full groups, row 18 in the tail.
  const int64_t nans[][3] = {{1, 0, 5}, {1, 7, 4099}, {1, 8, 17}, {2, 18, 2000}};
  for (const auto& p : nans) v[(p[0] * R + p[1]) * C + p[2]] = nan;
  Tensor x = dev(from_vector(v, {A, R, C}));
  std::vector<float> s = sum(x, {1}).cpu().to_vector<float>();
  std::vector<float> mx = max(x, {1}).cpu().to_vector<float>();
  std::vector<float> mn = min(x, {1}).cpu().to_vector<float>();
  for (int64_t a = 0; a < A; ++a) {
    for (int64_t c = 0; c < C; ++c) {
      double want = 0, mag = 0, want_max = -INFINITY, want_min = INFINITY;
      bool has_nan = false;
      for (int64_t r = 0; r < R; ++r) {
        double e = v[(a * R + r) * C + c];
        has_nan |= std::isnan(e);
        want += e;
        mag += std::fabs(e);
        want_max = std::max(want_max, e);
        want_min = std::min(want_min, e);
      }
      const int64_t o = a * C + c;
      std::string where = "output [" + std::to_string(a) + ", " + std::to_string(c) + "]";
      if (has_nan) {
        EXPECT_TRUE(std::isnan(s[o]) && std::isnan(mx[o]) && std::isnan(mn[o])) << where;
      } else {
        ASSERT_NEAR(s[o], want, kSumRtol * mag) << where;
        ASSERT_EQ(mx[o], static_cast<float>(want_max)) << where;
        ASSERT_EQ(mn[o], static_cast<float>(want_min)) << where;
      }
    }
  }
}

// ============================================================================================
// Bad input
// ============================================================================================

#define EXPECT_ERROR_WITH(stmt, needle)                                                    \
  do {                                                                                     \
    try {                                                                                  \
      stmt;                                                                                \
      ADD_FAILURE() << "expected mlsys::Error containing '" << needle << "'";              \
    } catch (const mlsys::Error& e) {                                                      \
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();       \
    }                                                                                      \
  } while (0)

TEST_F(Ops, BadInputIsAClearError) {
  Tensor a = randu({2, 3}, 50), b = randu({4, 5}, 51);
  EXPECT_ERROR_WITH(add(a, b), "mlsys::add: shapes [2, 3] and [4, 5] cannot be broadcast");
  EXPECT_ERROR_WITH(matmul(a, b), "mlsys::matmul: argument 'b' expected shape [..., 3, N]");
  EXPECT_ERROR_WITH(matmul(a, dev(ones({3}))), "argument 'b' expected at least 2 dims");
  Tensor ints = dev(arange(0, 6, 1, DType::Int64).reshape({2, 3}));
  EXPECT_ERROR_WITH(exp(ints), "mlsys::exp: argument 'x' expected dtype float32, got int64");
  EXPECT_ERROR_WITH(sum(a, {2}), "axis 2 is out of range");
  EXPECT_ERROR_WITH(sum(a, {1, -1}), "repeated");
  EXPECT_ERROR_WITH(max(dev(zeros({0}))), "zero-size axis");
  EXPECT_ERROR_WITH(softmax(dev(scalar(1.f))), "expected at least 1 dim");
  EXPECT_ERROR_WITH(sum_to(a, {3, 2}), "does not broadcast");
  // Op codes from outside the enums (a cast integer, a Python binding) are refused.
  EXPECT_ERROR_WITH(unary(static_cast<UnaryOp>(99), a), "UnaryOp(99) is not a unary op");
  EXPECT_ERROR_WITH(unary(static_cast<UnaryOp>(-1), a), "UnaryOp(-1) is not a unary op");
  EXPECT_ERROR_WITH(binary(static_cast<BinaryOp>(13), a, a), "BinaryOp(13) is not a binary op");
  EXPECT_ERROR_WITH(binary(static_cast<BinaryOp>(42), a, 1.f), "BinaryOp(42) is not a binary op");
  EXPECT_ERROR_WITH(binary(static_cast<BinaryOp>(42), 1.f, a), "BinaryOp(42) is not a binary op");
  if (kDevice == Device::CUDA)
    EXPECT_ERROR_WITH(add(a, ones({2, 3})), "must be on the same device");
}
