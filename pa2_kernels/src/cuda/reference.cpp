// The CPU references of the PA2 GPU track (pa2/gpu.h, namespace pa2::gpu::ref): the same
// signatures as the GPU entries, on CPU tensors, written as the plainest possible loops over
// the definitions, accumulating in double and rounding to float32 once at the end. The tests
// compare the kernels against these. Slow on purpose; meant for test sizes.
#include <cmath>
#include <limits>
#include <vector>

#include "cuda_check.h"
#include "pa2/gpu.h"

namespace pa2::gpu::ref {

using mlsys::Device;
using mlsys::DType;
using mlsys::Shape;

namespace {

// The values of a float32 CPU tensor in row-major order, as double.
std::vector<double> values(const Tensor& t, const char* op, const char* name) {
  PA2_CHECK(t.defined() && t.dtype() == DType::Float32, op, "argument '", name,
            "' must be a float32 tensor, got ", t.defined() ? t.describe() : "undefined");
  PA2_CHECK(t.device() == Device::CPU, op, "the references run on the CPU: argument '", name,
            "' must be a CPU tensor (call .cpu()), got ", t.describe());
  return t.to_vector<double>();
}

Tensor from_doubles(const std::vector<double>& v, Shape shape) {
  std::vector<float> f(v.begin(), v.end());
  return mlsys::from_vector<float>(f, std::move(shape));
}

int64_t last_dim(const Tensor& x, const char* op) {
  PA2_CHECK(x.dim() >= 1 && x.size(-1) >= 1, op,
            "argument 'x' must be [..., cols] with cols >= 1, got ", x.describe());
  return x.size(-1);
}

Shape leading_shape(const Tensor& x) { return Shape(x.shape().begin(), x.shape().end() - 1); }

void check_matmul(const Tensor& A, const Tensor& B, const char* op) {
  PA2_CHECK(A.dim() == 2 && B.dim() == 2 && A.size(1) == B.size(0), op,
            "expected A [M, K] and B [K, N], got ", mlsys::to_string(A.shape()), " and ",
            mlsys::to_string(B.shape()));
}

}  // namespace

Tensor sgemm(const Tensor& A, const Tensor& B) {
  const char* op = "gpu::ref::sgemm";
  check_matmul(A, B, op);
  const std::vector<double> a = values(A, op, "A"), b = values(B, op, "B");
  const int64_t M = A.size(0), K = A.size(1), N = B.size(1);
  std::vector<double> c(M * N, 0.0);
  for (int64_t i = 0; i < M; ++i)
    for (int64_t k = 0; k < K; ++k) {
      const double aik = a[i * K + k];
      for (int64_t j = 0; j < N; ++j) c[i * N + j] += aik * b[k * N + j];
    }
  return from_doubles(c, {M, N});
}

Tensor reduce_sum(const Tensor& x) {
  const std::vector<double> v = values(x, "gpu::ref::reduce_sum", "x");
  double s = 0.0;
  for (double e : v) s += e;
  return mlsys::scalar(static_cast<float>(s));
}

Tensor softmax_rows(const Tensor& x) {
  const char* op = "gpu::ref::softmax_rows";
  const int64_t cols = last_dim(x, op);
  std::vector<double> v = values(x, op, "x");
  for (size_t r = 0; r < v.size() / cols; ++r) {
    double* row = v.data() + r * cols;
    double m = -std::numeric_limits<double>::infinity(), s = 0.0;
    for (int64_t j = 0; j < cols; ++j) m = std::max(m, row[j]);
    for (int64_t j = 0; j < cols; ++j) s += std::exp(row[j] - m);
    for (int64_t j = 0; j < cols; ++j) row[j] = std::exp(row[j] - m) / s;
  }
  return from_doubles(v, x.shape());
}

LayerNormForward layernorm_forward(const Tensor& x, const Tensor& gamma, const Tensor& beta,
                                   float eps) {
  const char* op = "gpu::ref::layernorm_forward";
  const int64_t cols = last_dim(x, op);
  PA2_CHECK(gamma.shape() == Shape{cols} && beta.shape() == Shape{cols}, op,
            "gamma and beta must be [", cols, "], got ", mlsys::to_string(gamma.shape()), " and ",
            mlsys::to_string(beta.shape()));
  std::vector<double> v = values(x, op, "x");
  const std::vector<double> g = values(gamma, op, "gamma"), b = values(beta, op, "beta");
  const size_t rows = v.size() / cols;
  std::vector<double> mean(rows), rstd(rows);
  for (size_t r = 0; r < rows; ++r) {
    double* row = v.data() + r * cols;
    double mu = 0.0, var = 0.0;
    for (int64_t j = 0; j < cols; ++j) mu += row[j];
    mu /= cols;
    for (int64_t j = 0; j < cols; ++j) var += (row[j] - mu) * (row[j] - mu);
    var /= cols;
    const double rs = 1.0 / std::sqrt(var + eps);
    for (int64_t j = 0; j < cols; ++j) row[j] = (row[j] - mu) * rs * g[j] + b[j];
    mean[r] = mu;
    rstd[r] = rs;
  }
  return {from_doubles(v, x.shape()), from_doubles(mean, leading_shape(x)),
          from_doubles(rstd, leading_shape(x))};
}

LayerNormGrads layernorm_backward(const Tensor& dy, const Tensor& x, const Tensor& gamma,
                                  const Tensor& mean, const Tensor& rstd) {
  const char* op = "gpu::ref::layernorm_backward";
  const int64_t cols = last_dim(x, op);
  PA2_CHECK(dy.shape() == x.shape() && gamma.shape() == Shape{cols} &&
                mean.shape() == leading_shape(x) && rstd.shape() == leading_shape(x),
            op, "expected dy like x ", mlsys::to_string(x.shape()), ", gamma [", cols,
            "], mean and rstd ", mlsys::to_string(leading_shape(x)));
  const std::vector<double> d = values(dy, op, "dy"), v = values(x, op, "x"),
                            g = values(gamma, op, "gamma"), mu = values(mean, op, "mean"),
                            rs = values(rstd, op, "rstd");
  const size_t rows = v.size() / cols;
  std::vector<double> dx(v.size()), dgamma(cols, 0.0), dbeta(cols, 0.0);
  for (size_t r = 0; r < rows; ++r) {
    const size_t base = r * cols;
    double sum_a = 0.0, sum_b = 0.0;  // sum of dxhat, sum of dxhat * xhat
    for (int64_t j = 0; j < cols; ++j) {
      const double xhat = (v[base + j] - mu[r]) * rs[r];
      const double dxhat = d[base + j] * g[j];
      sum_a += dxhat;
      sum_b += dxhat * xhat;
      dgamma[j] += d[base + j] * xhat;
      dbeta[j] += d[base + j];
    }
    for (int64_t j = 0; j < cols; ++j) {
      const double xhat = (v[base + j] - mu[r]) * rs[r];
      dx[base + j] = rs[r] * (d[base + j] * g[j] - sum_a / cols - xhat * sum_b / cols);
    }
  }
  return {from_doubles(dx, x.shape()), from_doubles(dgamma, {cols}), from_doubles(dbeta, {cols})};
}

Tensor attention_forward(const Tensor& q, const Tensor& k, const Tensor& v, bool causal) {
  const char* op = "gpu::ref::attention_forward";
  PA2_CHECK(q.dim() == 4 && k.shape() == q.shape() && v.shape() == q.shape(), op,
            "expected q, k, v of one shape [B, H, T, d], got ", mlsys::to_string(q.shape()), ", ",
            mlsys::to_string(k.shape()), ", ", mlsys::to_string(v.shape()));
  const std::vector<double> qv = values(q, op, "q"), kv = values(k, op, "k"),
                            vv = values(v, op, "v");
  const int64_t BH = q.size(0) * q.size(1), T = q.size(2), d = q.size(3);
  const double scale = 1.0 / std::sqrt(static_cast<double>(d));
  std::vector<double> o(qv.size(), 0.0), s(T);
  for (int64_t h = 0; h < BH; ++h) {
    const size_t head = static_cast<size_t>(h) * T * d;
    for (int64_t i = 0; i < T; ++i) {
      const int64_t visible = causal ? i + 1 : T;  // keys 0 .. visible - 1
      double m = -std::numeric_limits<double>::infinity(), l = 0.0;
      for (int64_t j = 0; j < visible; ++j) {
        double dot = 0.0;
        for (int64_t c = 0; c < d; ++c) dot += qv[head + i * d + c] * kv[head + j * d + c];
        s[j] = dot * scale;
        m = std::max(m, s[j]);
      }
      for (int64_t j = 0; j < visible; ++j) {
        s[j] = std::exp(s[j] - m);
        l += s[j];
      }
      for (int64_t j = 0; j < visible; ++j)
        for (int64_t c = 0; c < d; ++c) o[head + i * d + c] += s[j] / l * vv[head + j * d + c];
    }
  }
  return from_doubles(o, q.shape());
}

Tensor gemm_bias_relu(const Tensor& A, const Tensor& B, const Tensor& bias) {
  const char* op = "gpu::ref::gemm_bias_relu";
  check_matmul(A, B, op);
  PA2_CHECK(bias.shape() == Shape{B.size(1)}, op, "argument 'bias' expected shape [",
            B.size(1), "], got ", mlsys::to_string(bias.shape()));
  const std::vector<double> a = values(A, op, "A"), b = values(B, op, "B"),
                            bv = values(bias, op, "bias");
  const int64_t M = A.size(0), K = A.size(1), N = B.size(1);
  std::vector<double> c(M * N);
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) c[i * N + j] = bv[j];
  for (int64_t i = 0; i < M; ++i)
    for (int64_t k = 0; k < K; ++k) {
      const double aik = a[i * K + k];
      for (int64_t j = 0; j < N; ++j) c[i * N + j] += aik * b[k * N + j];
    }
  for (double& e : c) e = e > 0.0 ? e : 0.0;
  return from_doubles(c, {M, N});
}

}  // namespace pa2::gpu::ref
