// Given code of PA3 Task 6 (read it, do not edit it): the GPT cut into pipeline stages.
// Stage 0 runs the embedding, every stage its blocks, the last stage the head and the loss.
// Each micro-batch's activations are allocated by its forward and released by its backward,
// so the memory a stage holds follows the schedule's stash count.
#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "mlsys/error.h"
#include "pa3/pipeline.h"

namespace pa3 {

namespace {
[[noreturn]] void fail(const std::string& what) {
  throw mlsys::Error("GPTStage: " + what);
}
}  // namespace

GPTStage::GPTStage(const GPTConfig& config, const GPTParams& params, const GPTParams& grads,
                   int stage, int num_stages, LayerRange layers)
    : config_(config),
      params_(params),
      grads_(grads),
      stage_(stage),
      num_stages_(num_stages),
      layers_(layers) {
  config.validate();
  if (num_stages < 1) {
    fail("argument 'num_stages': expected >= 1, got " + std::to_string(num_stages));
  }
  if (stage < 0 || stage >= num_stages) {
    fail("argument 'stage': expected a stage in [0, " + std::to_string(num_stages) + "), got " +
         std::to_string(stage));
  }
  if (layers.begin < 0 || layers.end > config.n_layer || layers.begin >= layers.end) {
    fail("argument 'layers': expected a non-empty range within [0, " +
         std::to_string(config.n_layer) + "), got [" + std::to_string(layers.begin) + ", " +
         std::to_string(layers.end) + ")");
  }
  if (config.tie_embeddings && num_stages > 1) {
    fail("argument 'config': tied embeddings put wte on the first and the last stage (their "
         "gradients would need an all-reduce); pipeline stages need tie_embeddings = false");
  }
  if (static_cast<int64_t>(params.h.size()) != config.n_layer ||
      static_cast<int64_t>(grads.h.size()) != config.n_layer) {
    fail("arguments 'params'/'grads': expected " + std::to_string(config.n_layer) +
         " blocks (config.n_layer), got " + std::to_string(params.h.size()) + " and " +
         std::to_string(grads.h.size()));
  }
}

void GPTStage::set_batch(const Batch& batch, int num_micro) {
  if (num_micro < 1) {
    fail("set_batch: argument 'num_micro': expected >= 1, got " + std::to_string(num_micro));
  }
  if (!batch.inputs.defined() || batch.inputs.dim() != 2) {
    fail("set_batch: argument 'batch': expected int32 inputs [B, T]");
  }
  const int64_t B = batch.inputs.size(0), T = batch.inputs.size(1);
  if (B % num_micro != 0) {
    fail("set_batch: argument 'num_micro': expected a divisor of B = " + std::to_string(B) +
         ", got " + std::to_string(num_micro));
  }
  if (T > config_.block_size) {
    fail("set_batch: argument 'batch': T = " + std::to_string(T) + " exceeds block_size " +
         std::to_string(config_.block_size));
  }
  B_ = B;
  T_ = T;
  num_micro_ = num_micro;
  micro_.clear();
  for (int i = 0; i < num_micro; ++i) micro_.push_back(batch_shard(batch, i, num_micro));
  acts_.assign(static_cast<size_t>(num_micro), MicroActs{});
  losses_.assign(static_cast<size_t>(num_micro), 0.0);
  have_loss_.assign(static_cast<size_t>(num_micro), 0);
  dloss_ = 1.0f / static_cast<float>(B * T);
}

mlsys::Shape GPTStage::input_shape() const { return {B_ / num_micro_, T_, config_.n_embd}; }
mlsys::Shape GPTStage::output_shape() const { return {B_ / num_micro_, T_, config_.n_embd}; }

void GPTStage::forward(int micro, const Tensor& input, const Tensor& output) {
  if (num_micro_ == 0) fail("forward before set_batch");
  if (micro < 0 || micro >= num_micro_) {
    fail("forward: micro-batch " + std::to_string(micro) + " out of range");
  }
  const bool first = stage_ == 0, last = stage_ == num_stages_ - 1;
  const int64_t b = B_ / num_micro_;
  MicroActs& a = acts_[micro];
  a = MicroActs{};
  a.live = true;
  Tensor x;
  if (first) {
    a.encoded = mlsys::empty({b, T_, config_.n_embd});
    embedding_forward(a.encoded, micro_[micro].inputs, params_.wte, params_.wpe);
    x = a.encoded;
  } else {
    if (!input.defined() || input.shape() != input_shape()) {
      fail("forward: stage " + std::to_string(stage_) + " expected an input of shape " +
           mlsys::to_string(input_shape()));
    }
    a.input = input;
    x = input;
  }
  for (int64_t l = layers_.begin; l < layers_.end; ++l) {
    a.blocks.push_back(block_acts_alloc(config_, b, T_));
    block_forward(a.blocks.back(), params_.h[l], x, config_.n_head);
    x = a.blocks.back().out;
  }
  if (last) {
    a.head = head_acts_alloc(config_, b, T_);
    losses_[micro] = head_forward(a.head, params_, config_, x, micro_[micro].targets);
    have_loss_[micro] = 1;
  } else {
    if (!output.defined() || output.shape() != output_shape() || !output.is_contiguous()) {
      fail("forward: stage " + std::to_string(stage_) + " expected an output of shape " +
           mlsys::to_string(output_shape()));
    }
    std::memcpy(output.data<float>(), x.data<float>(), sizeof(float) * x.numel());
  }
}

void GPTStage::backward(int micro, const Tensor& grad_output, const Tensor& grad_input) {
  if (micro < 0 || micro >= num_micro_ || !acts_[micro].live) {
    fail("backward: micro-batch " + std::to_string(micro) + " has no activations (no forward)");
  }
  const bool first = stage_ == 0, last = stage_ == num_stages_ - 1;
  MicroActs& a = acts_[micro];
  const int64_t nb = layers_.size();
  // The input of local block k: the stage input (or the embedding), then block k-1's output.
  auto block_input = [&](int64_t k) -> const Tensor& {
    if (k > 0) return a.blocks[k - 1].out;
    return first ? a.encoded : a.input;
  };
  Tensor dx;
  if (last) {
    const Tensor& x = a.blocks[nb - 1].out;
    dx = mlsys::zeros(x.shape());
    head_backward(dx, grads_, a.head, params_, config_, x, micro_[micro].targets, dloss_);
  } else {
    if (!grad_output.defined() || grad_output.shape() != output_shape()) {
      fail("backward: stage " + std::to_string(stage_) + " expected a gradient of shape " +
           mlsys::to_string(output_shape()));
    }
    dx = grad_output;
  }
  for (int64_t k = nb - 1; k >= 0; --k) {
    Tensor dinp;
    if (k == 0 && !first) {
      if (!grad_input.defined() || grad_input.shape() != input_shape()) {
        fail("backward: stage " + std::to_string(stage_) + " expected a grad_input of shape " +
             mlsys::to_string(input_shape()));
      }
      dinp = grad_input;  // zeroed by the executor; block_backward adds into it
    } else {
      dinp = mlsys::zeros(block_input(k).shape());
    }
    block_backward(dinp, grads_.h[layers_.begin + k], dx, a.blocks[k],
                   params_.h[layers_.begin + k], block_input(k), config_.n_head);
    dx = dinp;
  }
  if (first) embedding_backward(grads_.wte, grads_.wpe, dx, micro_[micro].inputs);
  a = MicroActs{};  // release this micro-batch's activations
}

float GPTStage::loss() const {
  if (stage_ != num_stages_ - 1 || num_micro_ == 0) return std::numeric_limits<float>::quiet_NaN();
  double sum = 0.0;
  for (int i = 0; i < num_micro_; ++i) {
    if (!have_loss_[i]) return std::numeric_limits<float>::quiet_NaN();
    sum += losses_[i];
  }
  return static_cast<float>(sum / num_micro_);
}

int64_t GPTStage::held_micro_batches() const {
  int64_t n = 0;
  for (const MicroActs& a : acts_) n += a.live ? 1 : 0;
  return n;
}

}  // namespace pa3
