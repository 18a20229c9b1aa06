// CPU kernels: a strided-loop engine, elementwise ops, reductions, softmax and Eigen matmul.
//
// The engine (for_each_row) walks a shape once for up to three operands with arbitrary
// strides. It first drops size-1 dims and merges dims that are contiguous for every operand,
// so a contiguous tensor becomes one long row and a row-broadcast add becomes rows with
// stride 1 and 0. The innermost loop is then specialised on those strides so it vectorises.
#include <Eigen/Dense>
#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "cpu_kernels.h"

namespace mlsys::detail {

// ============================================================================================
// The strided-loop engine
// ============================================================================================

// Calls row(offsets, n, inner_strides) for every innermost row of `layouts[0].shape`, where
// offsets[k] is operand k's element offset of the row start and inner_strides[k] its stride
// along the row. All layouts must share one shape.
template <size_t N, typename Row>
static void for_each_row(const std::array<const Layout*, N>& layouts, Row row) {
  const Layout& L0 = *layouts[0];
  int64_t shape[kMaxDims];
  int64_t strides[N][kMaxDims];
  int nd = 0;
  for (int d = 0; d < L0.ndim; ++d) {
    if (L0.shape[d] == 0) return;
    if (L0.shape[d] == 1) continue;
    // Merge into the previous kept dim when contiguous for every operand.
    bool merge = nd > 0;
    for (size_t k = 0; k < N && merge; ++k)
      merge = strides[k][nd - 1] == layouts[k]->strides[d] * L0.shape[d];
    if (merge) {
      shape[nd - 1] *= L0.shape[d];
      for (size_t k = 0; k < N; ++k) strides[k][nd - 1] = layouts[k]->strides[d];
    } else {
      shape[nd] = L0.shape[d];
      for (size_t k = 0; k < N; ++k) strides[k][nd] = layouts[k]->strides[d];
      ++nd;
    }
  }
  std::array<int64_t, N> off{}, inner{};
  if (nd == 0) {  // a single element
    row(off.data(), int64_t{1}, inner.data());
    return;
  }
  for (size_t k = 0; k < N; ++k) inner[k] = strides[k][nd - 1];
  const int64_t n = shape[nd - 1];
  int64_t counter[kMaxDims] = {};
  while (true) {
    row(off.data(), n, inner.data());
    // Advance the outer multi-index (dims 0 .. nd-2), odometer style.
    int d = nd - 2;
    for (; d >= 0; --d) {
      for (size_t k = 0; k < N; ++k) off[k] += strides[k][d];
      if (++counter[d] < shape[d]) break;
      for (size_t k = 0; k < N; ++k) off[k] -= strides[k][d] * shape[d];
      counter[d] = 0;
    }
    if (d < 0) return;
  }
}

static Layout contiguous_layout(const Layout& like) {
  Layout l = like;
  int64_t s = 1;
  for (int d = l.ndim; d-- > 0;) {
    l.strides[d] = s;
    s *= std::max<int64_t>(l.shape[d], 1);
  }
  return l;
}

void cpu_copy_strided(void* dst, const Layout& dst_layout, const void* src,
                      const Layout& src_layout, size_t elem_size) {
  auto copy = [&](auto tag) {
    using T = decltype(tag);
    T* d = static_cast<T*>(dst);
    const T* s = static_cast<const T*>(src);
    for_each_row<2>({&dst_layout, &src_layout}, [&](const int64_t* off, int64_t n, const int64_t* st) {
      T* dp = d + off[0];
      const T* sp = s + off[1];
      if (st[0] == 1 && st[1] == 1) {
        std::memcpy(dp, sp, static_cast<size_t>(n) * sizeof(T));
      } else {
        for (int64_t i = 0; i < n; ++i) dp[i * st[0]] = sp[i * st[1]];
      }
    });
  };
  if (elem_size == 4)
    copy(uint32_t{});
  else
    copy(uint64_t{});
}

// ============================================================================================
// Elementwise
// ============================================================================================

template <typename F>
static void map_unary(F f, float* out, const float* x, const Layout& xl) {
  Layout ol = contiguous_layout(xl);
  for_each_row<2>({&ol, &xl}, [&](const int64_t* off, int64_t n, const int64_t* st) {
    float* o = out + off[0];
    const float* a = x + off[1];
    if (st[1] == 1)
      for (int64_t i = 0; i < n; ++i) o[i] = f(a[i]);
    else
      for (int64_t i = 0; i < n; ++i) o[i] = f(a[i * st[1]]);
  });
}

static float stable_sigmoid(float x) {
  if (x >= 0) return 1.f / (1.f + std::exp(-x));
  float e = std::exp(x);
  return e / (1.f + e);
}

void cpu_unary(UnaryOp op, float* out, const float* x, const Layout& xl) {
  switch (op) {
    case UnaryOp::Neg: return map_unary([](float v) { return -v; }, out, x, xl);
    case UnaryOp::Exp: return map_unary([](float v) { return std::exp(v); }, out, x, xl);
    case UnaryOp::Log: return map_unary([](float v) { return std::log(v); }, out, x, xl);
    case UnaryOp::Sqrt: return map_unary([](float v) { return std::sqrt(v); }, out, x, xl);
    case UnaryOp::Tanh: return map_unary([](float v) { return std::tanh(v); }, out, x, xl);
    case UnaryOp::Relu: return map_unary([](float v) { return v > 0.f || v != v ? v : 0.f; }, out, x, xl);
    case UnaryOp::Sigmoid: return map_unary(stable_sigmoid, out, x, xl);
    case UnaryOp::Abs: return map_unary([](float v) { return std::fabs(v); }, out, x, xl);
    case UnaryOp::Sign:
      return map_unary([](float v) { return v != v ? v : static_cast<float>((v > 0.f) - (v < 0.f)); }, out, x, xl);
    case UnaryOp::ReluGrad: return map_unary([](float v) { return v > 0.f ? 1.f : 0.f; }, out, x, xl);
  }
}

// NumPy's maximum / minimum: a NaN on either side gives NaN; ties give a.
constexpr auto maximum_nan = [](float a, float b) { return a >= b || a != a ? a : b; };
constexpr auto minimum_nan = [](float a, float b) { return a <= b || a != a ? a : b; };

template <typename F>
static void map_binary(F f, float* out, const float* a, const Layout& al, const float* b,
                       const Layout& bl) {
  Layout ol = contiguous_layout(al);
  for_each_row<3>({&ol, &al, &bl}, [&](const int64_t* off, int64_t n, const int64_t* st) {
    float* o = out + off[0];
    const float* x = a + off[1];
    const float* y = b + off[2];
    // The common cases get their own loops so the compiler can vectorise them.
    if (st[1] == 1 && st[2] == 1) {
      for (int64_t i = 0; i < n; ++i) o[i] = f(x[i], y[i]);
    } else if (st[1] == 1 && st[2] == 0) {
      const float yv = *y;
      for (int64_t i = 0; i < n; ++i) o[i] = f(x[i], yv);
    } else if (st[1] == 0 && st[2] == 1) {
      const float xv = *x;
      for (int64_t i = 0; i < n; ++i) o[i] = f(xv, y[i]);
    } else {
      for (int64_t i = 0; i < n; ++i) o[i] = f(x[i * st[1]], y[i * st[2]]);
    }
  });
}

void cpu_binary(BinaryOp op, float* out, const float* a, const Layout& al, const float* b,
                const Layout& bl) {
  switch (op) {
    case BinaryOp::Add: return map_binary([](float x, float y) { return x + y; }, out, a, al, b, bl);
    case BinaryOp::Sub: return map_binary([](float x, float y) { return x - y; }, out, a, al, b, bl);
    case BinaryOp::Mul: return map_binary([](float x, float y) { return x * y; }, out, a, al, b, bl);
    case BinaryOp::Div: return map_binary([](float x, float y) { return x / y; }, out, a, al, b, bl);
    case BinaryOp::Pow: return map_binary([](float x, float y) { return std::pow(x, y); }, out, a, al, b, bl);
    case BinaryOp::Maximum: return map_binary(maximum_nan, out, a, al, b, bl);
    case BinaryOp::Minimum: return map_binary(minimum_nan, out, a, al, b, bl);
    case BinaryOp::Eq: return map_binary([](float x, float y) { return x == y ? 1.f : 0.f; }, out, a, al, b, bl);
    case BinaryOp::Ne: return map_binary([](float x, float y) { return x != y ? 1.f : 0.f; }, out, a, al, b, bl);
    case BinaryOp::Lt: return map_binary([](float x, float y) { return x < y ? 1.f : 0.f; }, out, a, al, b, bl);
    case BinaryOp::Le: return map_binary([](float x, float y) { return x <= y ? 1.f : 0.f; }, out, a, al, b, bl);
    case BinaryOp::Gt: return map_binary([](float x, float y) { return x > y ? 1.f : 0.f; }, out, a, al, b, bl);
    case BinaryOp::Ge: return map_binary([](float x, float y) { return x >= y ? 1.f : 0.f; }, out, a, al, b, bl);
  }
}

void cpu_where(float* out, const float* cond, const Layout& cl, const float* a,
               const Layout& al, const float* b, const Layout& bl) {
  Layout ol = contiguous_layout(cl);
  // Four operands: do it in two passes over the output (copy b, then overwrite with a).
  cpu_copy_strided(out, ol, b, bl, sizeof(float));
  for_each_row<3>({&ol, &cl, &al}, [&](const int64_t* off, int64_t n, const int64_t* st) {
    float* o = out + off[0];
    const float* c = cond + off[1];
    const float* x = a + off[2];
    for (int64_t i = 0; i < n; ++i)
      if (c[i * st[1]] != 0.f) o[i * st[0]] = x[i * st[2]];
  });
}

// ============================================================================================
// Reductions
// ============================================================================================

// Sums accumulate in double. A float32 running sum of n terms drifts by up to n ulps (1.1% for
// 10^7 terms of 0.1, worse along strided axes, which have no partial sums); a double one stays
// below one float32 ulp for any size a tensor can have. Max and min propagate NaN as NumPy
// does: their combine is the plain maximum (which keeps a NaN already in a), then b if b is NaN,
// so a NaN on either side wins. Written so, it compiles to a max, a compare and a blend, with
// no branch, and vectorises.
constexpr auto add = [](double a, double b) { return a + b; };
constexpr auto max_nan = [](float a, float b) {
  float m = b > a ? b : a;
  return b != b ? b : m;
};
constexpr auto min_nan = [](float a, float b) {
  float m = b < a ? b : a;
  return b != b ? b : m;
};

// Reduces one strided row to a value of type Acc (the accumulator type). The contiguous case
// keeps 32 independent partial results: that vectorises, and it hides the latency of the
// compare-and-blend chain of max and min.
template <typename Acc, typename Combine>
static Acc reduce_row(Combine combine, Acc init, const float* x, int64_t n, int64_t stride) {
  if (stride != 1) {
    Acc acc = init;
    for (int64_t i = 0; i < n; ++i) acc = combine(acc, x[i * stride]);
    return acc;
  }
  constexpr int kLanes = 32;
  Acc part[kLanes];
  std::fill_n(part, kLanes, init);
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int j = 0; j < kLanes; ++j) part[j] = combine(part[j], x[i + j]);
  Acc acc = init;
  for (; i < n; ++i) acc = combine(acc, x[i]);
  for (int j = 0; j < kLanes; ++j) acc = combine(acc, part[j]);
  return acc;
}

// o[i] = combine(...combine(o[i], a[0][i])..., a[7][i]) for n contiguous outputs and 8
// contiguous input rows: each output is loaded, converted and stored once per 8 rows, not once
// per row. (The row pointers are copied to locals so that the loop vectorises.)
template <typename Acc, typename Combine>
static void reduce_8_rows(Combine combine, Acc* o, const float* const* a, int64_t n) {
  const float *a0 = a[0], *a1 = a[1], *a2 = a[2], *a3 = a[3];
  const float *a4 = a[4], *a5 = a[5], *a6 = a[6], *a7 = a[7];
  for (int64_t i = 0; i < n; ++i) {
    Acc v = o[i];
    v = combine(combine(combine(combine(v, a0[i]), a1[i]), a2[i]), a3[i]);
    v = combine(combine(combine(combine(v, a4[i]), a5[i]), a6[i]), a7[i]);
    o[i] = v;
  }
}

// out (of type Acc, already holding the identity) accumulates x along the axes where its
// layout has stride 0. Every row the engine passes has the same length and inner strides.
template <typename Acc, typename Combine>
static void reduce_into(Combine combine, Acc init, Acc* out, const Layout& ol, const float* x,
                        const Layout& xl) {
  // A reduction over an outer axis accumulates rows of contiguous inputs into the same row of
  // contiguous outputs. While that output row fits in L1 next to the input (up to 16 KiB), it
  // is accumulated one input row at a time. A longer one (a double row of 4096 sums is 32 KiB)
  // would go back and forth to L2 for every input row, so up to 8 consecutive rows that share
  // their outputs are queued and reduced in one pass. (Queueing short rows measured slower:
  // 8 short input streams at once defeat the hardware prefetcher.)
  constexpr int64_t kL1Row = 16 * 1024;
  const float* queued[8];
  int nq = 0;
  Acc* queued_out = nullptr;
  int64_t queued_n = 0;
  auto flush = [&] {
    if (nq == 8) {
      reduce_8_rows(combine, queued_out, queued, queued_n);
    } else {
      for (int k = 0; k < nq; ++k) {
        const float* a = queued[k];
        for (int64_t i = 0; i < queued_n; ++i) queued_out[i] = combine(queued_out[i], a[i]);
      }
    }
    nq = 0;
  };
  for_each_row<2>({&ol, &xl}, [&](const int64_t* off, int64_t n, const int64_t* st) {
    Acc* o = out + off[0];
    const float* a = x + off[1];
    if (st[0] == 0) {  // the row is reduced into one output element
      *o = combine(*o, reduce_row(combine, init, a, n, st[1]));
    } else if (st[0] == 1 && st[1] == 1 && n * static_cast<int64_t>(sizeof(Acc)) <= kL1Row) {
      for (int64_t i = 0; i < n; ++i) o[i] = combine(o[i], a[i]);  // a row of outputs
    } else if (st[0] == 1 && st[1] == 1) {  // a long row of outputs: queue it
      if (nq > 0 && o != queued_out) flush();
      queued_out = o;
      queued_n = n;
      queued[nq++] = a;
      if (nq == 8) flush();
    } else {
      for (int64_t i = 0; i < n; ++i) o[i * st[0]] = combine(o[i * st[0]], a[i * st[1]]);
    }
  });
  flush();
}

void cpu_reduce(ReduceOp op, float* out, const Layout& ol, const float* x, const Layout& xl) {
  int64_t n = 1;  // elements of out: its dims that are not reduced
  for (int d = 0; d < ol.ndim; ++d)
    if (ol.strides[d] != 0) n *= ol.shape[d];
  const float inf = std::numeric_limits<float>::infinity();
  switch (op) {
    case ReduceOp::Sum: {
      // Small outputs keep their double accumulators on the stack.
      double small[16] = {};
      std::vector<double> large(n > 16 ? static_cast<size_t>(n) : 0, 0.0);
      double* acc = n > 16 ? large.data() : small;
      reduce_into<double>(add, 0.0, acc, ol, x, xl);
      for (int64_t i = 0; i < n; ++i) out[i] = static_cast<float>(acc[i]);
      return;
    }
    case ReduceOp::Max:
      std::fill_n(out, n, -inf);
      return reduce_into<float>(max_nan, -inf, out, ol, x, xl);
    case ReduceOp::Min:
      std::fill_n(out, n, inf);
      return reduce_into<float>(min_nan, inf, out, ol, x, xl);
  }
}

// NumPy's rule: the first NaN of a row is its maximum.
void cpu_argmax_rows(int64_t* out, const float* x, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* row = x + r * cols;
    int64_t best = 0;
    for (int64_t c = 0; c < cols; ++c) {
      if (row[c] != row[c]) {
        best = c;
        break;
      }
      if (row[c] > row[best]) best = c;
    }
    out[r] = best;
  }
}

void cpu_softmax_rows(float* out, const float* x, int64_t rows, int64_t cols, bool log) {
  const float inf = std::numeric_limits<float>::infinity();
  for (int64_t r = 0; r < rows; ++r) {
    const float* in = x + r * cols;
    float* o = out + r * cols;
    // The max may skip a NaN: the row's outputs are NaN anyway (exp(NaN - m) makes s NaN).
    float m = reduce_row([](float a, float b) { return b > a ? b : a; }, -inf, in, cols, 1);
    if (m == -inf) m = 0.f;  // a row of all -inf: avoid inf - inf
    double s = 0;            // in double, as in cpu_reduce
    for (int64_t c = 0; c < cols; ++c) {
      o[c] = std::exp(in[c] - m);
      s += o[c];
    }
    if (log) {
      float ls = static_cast<float>(std::log(s));
      for (int64_t c = 0; c < cols; ++c) o[c] = in[c] - m - ls;
    } else {
      float inv = static_cast<float>(1.0 / s);
      for (int64_t c = 0; c < cols; ++c) o[c] *= inv;
    }
  }
}

// ============================================================================================
// Matmul through Eigen
// ============================================================================================

// A strided operand is either row-major (unit column stride) or column-major (unit row
// stride, i.e. a transposed view); both map onto Eigen without a copy. Anything else is
// gathered into a contiguous buffer first.
using RowMajorMap = Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>,
                               0, Eigen::OuterStride<>>;
using ColMajorMap = Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor>,
                               0, Eigen::OuterStride<>>;
using OutMap = Eigen::Map<Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>;

template <typename F>
static void with_eigen_operand(const float* p, int64_t rows, int64_t cols, int64_t rs,
                               int64_t cs, std::vector<float>& scratch, F f) {
  if (cs == 1 || cols == 1) {
    // With a single row (or column) the other stride is irrelevant.
    f(RowMajorMap(p, rows, cols, Eigen::OuterStride<>(rows == 1 ? cols : rs)));
  } else if (rs == 1 || rows == 1) {
    f(ColMajorMap(p, rows, cols, Eigen::OuterStride<>(cols == 1 ? rows : cs)));
  } else {
    scratch.resize(static_cast<size_t>(rows * cols));
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < cols; ++j) scratch[i * cols + j] = p[i * rs + j * cs];
    f(RowMajorMap(scratch.data(), rows, cols, Eigen::OuterStride<>(cols)));
  }
}

void cpu_matmul(float* c, const float* a, int64_t ars, int64_t acs, const float* b, int64_t brs,
                int64_t bcs, int64_t M, int64_t N, int64_t K) {
  OutMap C(c, M, N);
  if (K == 0) {
    C.setZero();
    return;
  }
  if (M == 0 || N == 0) return;
  std::vector<float> sa, sb;
  with_eigen_operand(a, M, K, ars, acs, sa, [&](const auto& A) {
    with_eigen_operand(b, K, N, brs, bcs, sb, [&](const auto& B) { C.noalias() = A * B; });
  });
}

}  // namespace mlsys::detail
