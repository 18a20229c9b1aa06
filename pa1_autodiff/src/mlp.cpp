// The MLP builder, the training loop and a row gather (staff code). The training step itself
// is PA1 Task 4 (train.cpp).
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <numeric>

#include "check.h"
#include "mlsys/random.h"
#include "pa1/ops.h"
#include "pa1/train.h"

namespace pa1 {

// ============================================================================================
// Model
// ============================================================================================

Model build_mlp(const std::vector<int64_t>& widths, uint64_t seed, Activation activation,
                float dropout_p, mlsys::Device device) {
  PA1_CHECK(widths.size() >= 2, "build_mlp", "widths needs at least {inputs, classes}, got ",
            mlsys::to_string(widths));
  for (int64_t w : widths) PA1_CHECK(w > 0, "build_mlp", "widths must be positive, got ", mlsys::to_string(widths));
  Model m;
  m.x = placeholder("x", {-1, widths[0]});
  NodePtr h = m.x;
  const size_t layers = widths.size() - 1;
  for (size_t i = 1; i <= layers; ++i) {
    const std::string k = std::to_string(i);
    const uint64_t layer_seed = seed + 0x9E3779B97F4A7C15ull * i;
    const Shape wshape{widths[i - 1], widths[i]};
    const bool relu_like = activation == Activation::Relu || activation == Activation::Gelu;
    Tensor w0 = relu_like ? he_uniform(wshape, layer_seed) : xavier_uniform(wshape, layer_seed);
    NodePtr W = variable("W" + k, w0.to(device));
    NodePtr b = variable("b" + k, mlsys::zeros({widths[i]}, DType::Float32, device));
    m.params.push_back(W);
    m.params.push_back(b);
    h = add(matmul(h, W), b);
    if (i == layers) break;
    switch (activation) {
      case Activation::Relu: h = relu(h); break;
      case Activation::Tanh: h = tanh(h); break;
      case Activation::Sigmoid: h = sigmoid(h); break;
      case Activation::Gelu: h = gelu(h); break;
    }
    h->set_name("h" + k);
    if (dropout_p > 0.f) h = dropout(h, dropout_p, layer_seed + 1);
  }
  h->set_name("logits");
  m.logits = h;
  return m;
}

// ============================================================================================
// Data
// ============================================================================================

Tensor take_rows(const Tensor& t, const std::vector<int64_t>& rows) {
  PA1_CHECK(t.defined() && t.dim() >= 1, "take_rows", "expected a tensor with at least 1 dim");
  Tensor src = t.cpu().contiguous();
  const int64_t n = t.shape()[0];
  const int64_t row_elems = n ? src.numel() / n : 0;
  const size_t row_bytes = static_cast<size_t>(row_elems) * mlsys::dtype_size(t.dtype());
  Shape shape = t.shape();
  shape[0] = static_cast<int64_t>(rows.size());
  Tensor out(shape, t.dtype());
  const char* s = static_cast<const char*>(src.raw_data());
  char* o = static_cast<char*>(out.raw_data());
  for (size_t i = 0; i < rows.size(); ++i) {
    PA1_CHECK(rows[i] >= 0 && rows[i] < n, "take_rows", "row ", rows[i], " out of range [0, ", n, ")");
    std::memcpy(o + i * row_bytes, s + rows[i] * row_bytes, row_bytes);
  }
  return out.to(t.device());
}

// A permutation of 0..n-1: Fisher-Yates driven by Philox, the same on every platform.
static std::vector<int64_t> permutation(int64_t n, uint64_t seed) {
  std::vector<int64_t> p(static_cast<size_t>(n));
  std::iota(p.begin(), p.end(), int64_t{0});
  for (int64_t i = n - 1; i > 0; --i) {
    const uint64_t r = (static_cast<uint64_t>(mlsys::philox_word(seed, 2 * i)) << 32) |
                       mlsys::philox_word(seed, 2 * i + 1);
    std::swap(p[i], p[static_cast<int64_t>(r % static_cast<uint64_t>(i + 1))]);
  }
  return p;
}

// ============================================================================================
// The loop
// ============================================================================================

std::vector<EpochStats> fit(Trainer& trainer, const mlsys::Dataset& train,
                            const mlsys::Dataset& test, const FitOptions& options) {
  PA1_CHECK(train.images.defined() && train.labels.defined() && train.images.dim() >= 1 &&
                train.images.shape()[0] == train.labels.numel() && train.images.shape()[0] > 0,
            "fit", "the training set needs images [N, ...] and labels [N] with N > 0");
  PA1_CHECK(options.batch_size > 0 && options.epochs >= 0, "fit", "batch_size must be positive");
  std::ostream& log = options.log ? *options.log : std::cout;
  const mlsys::Device device = trainer.model().params.empty()
                                   ? mlsys::Device::CPU
                                   : trainer.model().params[0]->value.device();
  const bool has_test = test.images.defined() && test.images.dim() >= 1 && test.images.shape()[0] > 0;
  const int64_t n = train.images.shape()[0];
  std::vector<EpochStats> history;
  for (int epoch = 1; epoch <= options.epochs; ++epoch) {
    const std::vector<int64_t> order =
        permutation(n, options.seed * 0x100000001B3ull + static_cast<uint64_t>(epoch));
    double loss_sum = 0;
    const auto start = std::chrono::steady_clock::now();
    for (int64_t b = 0; b < n; b += options.batch_size) {
      const std::vector<int64_t> rows(order.begin() + b,
                                      order.begin() + std::min(n, b + options.batch_size));
      Tensor x = take_rows(train.images, rows).to(device);
      Tensor y = take_rows(train.labels, rows).to(device);
      loss_sum += static_cast<double>(trainer.train_step(x, y)) * static_cast<double>(rows.size());
    }
    EpochStats s;
    s.epoch = epoch;
    s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    s.loss = loss_sum / static_cast<double>(n);
    s.train_accuracy = trainer.accuracy(train.images.to(device), train.labels.to(device));
    s.test_accuracy = has_test ? trainer.accuracy(test.images.to(device), test.labels.to(device)) : 0.0;
    history.push_back(s);
    if (options.verbose) {
      char line[160];
      std::snprintf(line, sizeof line, "epoch %3d/%-3d  loss %.4f  train %6.2f%%  test %6.2f%%  %.3f s",
                    epoch, options.epochs, s.loss, 100 * s.train_accuracy, 100 * s.test_accuracy,
                    s.seconds);
      log << line << std::endl;
    }
  }
  return history;
}

}  // namespace pa1
