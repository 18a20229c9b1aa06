// pa1/train.h — an MLP classifier, its training step (PA1 Task 4, src/train.cpp) and the
// training loop.
//
//   auto [train, test] = mlsys::train_test_split(mlsys::load_digits(), 0.2, 0);
//   Model model = build_mlp({64, 128, 10}, /*seed=*/0);
//   Trainer trainer(model, std::make_shared<Adam>(model.params, 1e-3f));
//   fit(trainer, train, test, {/*epochs=*/20});      // prints one line per epoch
#pragma once

#include <cstdint>
#include <iosfwd>
#include <memory>
#include <vector>

#include "mlsys/io.h"
#include "pa1/executor.h"
#include "pa1/graph.h"
#include "pa1/optim.h"

namespace pa1 {

// ---- the model (staff code, src/mlp.cpp) ---------------------------------------------------
enum class Activation { Relu, Tanh, Sigmoid, Gelu };

struct Model {
  NodePtr x;                    // placeholder float32 [-1, widths.front()]: a batch of inputs
  NodePtr logits;               // float32 [-1, widths.back()]
  std::vector<NodePtr> params;  // W1, b1, W2, b2, ...: W_i [widths[i-1], widths[i]], b_i [widths[i]]
};

// widths = {inputs, hidden..., classes}, at least 2 entries. Hidden layers compute
// act(h @ W + b) (then dropout when dropout > 0); the last layer has no activation. Weights
// are He-uniform (relu, gelu) or Xavier-uniform (tanh, sigmoid) from `seed`; biases are zero.
// Parameters live on `device`.
Model build_mlp(const std::vector<int64_t>& widths, uint64_t seed,
                Activation activation = Activation::Relu, float dropout = 0.f,
                mlsys::Device device = mlsys::Device::CPU);

// ---- training (PA1 Task 4, src/train.cpp) --------------------------------------------------
class Trainer {
 public:
  // Builds the loss graph: a labels placeholder, the softmax cross-entropy loss, the gradients
  // of the loss w.r.t. optimizer->params(), and the executors that run them.
  Trainer(Model model, std::shared_ptr<Optimizer> optimizer);

  // One optimization step on a batch: images float32 [B, inputs], labels int64 [B]. Returns
  // the batch's mean loss, computed before the update.
  float train_step(const Tensor& images, const Tensor& labels);

  // Fraction of rows whose argmax of the logits equals the label, in [0, 1]; evaluated in
  // chunks of at most batch_size rows, with dropout off.
  double accuracy(const Tensor& images, const Tensor& labels, int64_t batch_size = 512);

  const Model& model() const { return model_; }
  Optimizer& optimizer() { return *optimizer_; }
  const NodePtr& labels() const { return labels_; }
  const NodePtr& loss() const { return loss_; }
  const std::vector<NodePtr>& grads() const { return grads_; }

 private:
  Model model_;
  std::shared_ptr<Optimizer> optimizer_;
  NodePtr labels_;               // placeholder int64 [-1]
  NodePtr loss_;                 // 0-dim float32
  std::vector<NodePtr> grads_;   // grads_[i] = dL/d(optimizer_->params()[i])
  Executor train_exec_;          // outputs: loss_, grads_...
  Executor eval_exec_;           // outputs: model_.logits
};

// ---- the loop (staff code, src/mlp.cpp) ----------------------------------------------------
struct FitOptions {
  int epochs = 20;
  int64_t batch_size = 64;
  uint64_t seed = 0;            // shuffling: the order of epoch e is a function of (seed, e)
  std::ostream* log = nullptr;  // progress lines go here; nullptr: std::cout; see verbose
  bool verbose = true;
};

struct EpochStats {
  int epoch = 0;           // 1-based
  double loss = 0;         // mean training loss over the epoch's batches
  double train_accuracy = 0, test_accuracy = 0;
  double seconds = 0;      // wall time of the epoch's training steps
};

// Trains for options.epochs epochs of shuffled mini-batches (the last one may be smaller),
// evaluating train and test accuracy after each epoch. Prints one line per epoch:
//   epoch   3/20  loss 0.2143  train 96.10%  test 95.28%  0.041 s
std::vector<EpochStats> fit(Trainer& trainer, const mlsys::Dataset& train,
                            const mlsys::Dataset& test, const FitOptions& options = {});

// Rows `rows` of t (along dim 0), gathered into a new contiguous tensor on t's device.
Tensor take_rows(const Tensor& t, const std::vector<int64_t>& rows);

}  // namespace pa1
