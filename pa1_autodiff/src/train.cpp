// pa1_autodiff/src/train.cpp — PA1 Task 4: training an MLP classifier with the graph.
// Edit only the marked regions; the rest is given.
//
// Everything comes together here: the model's logits (build_mlp), the loss (ops.h), its
// gradients (your Task 2.2), the executors (executor.h) and the optimizer (your Task 3). The
// loop around train_step (shuffling, batches, progress lines) is fit() in mlp.cpp.
//
//   x       placeholder float32 [B, D]   model_.x
//   labels  placeholder int64   [B]      labels_ (yours to create)
//   logits  float32 [B, K]               model_.logits (K classes)
//   loss    float32 []                   softmax_cross_entropy(logits, labels)
#include <algorithm>

#include "check.h"
#include "mlsys/ops.h"
#include "pa1/autodiff.h"
#include "pa1/ops.h"
#include "pa1/train.h"

namespace pa1 {

// Builds the training graph once:
// 1. labels_ = a placeholder named "labels", shape {-1}, int64.
// 2. loss_ = the softmax cross-entropy of model_.logits and labels_.
// 3. grads_ = the gradients of loss_ w.r.t. optimizer_->params(), in that order.
// 4. train_exec_ runs {loss_, grads_[0], grads_[1], ...}; eval_exec_ runs {model_.logits}.
// Tests check that labels_, loss_ and grads_ are set as described (grads_ against finite
// differences) and that the executors are usable.
Trainer::Trainer(Model model, std::shared_ptr<Optimizer> optimizer)
    : model_(std::move(model)), optimizer_(std::move(optimizer)) {
  PA1_CHECK(optimizer_ != nullptr, "Trainer", "optimizer is null");
  PA1_CHECK(model_.x != nullptr && model_.logits != nullptr, "Trainer",
            "the model needs its input placeholder x and its logits");
  // TODO(student): PA1 Task 4 — see handouts/pa1.md#task-4
  throw mlsys::NotImplemented("PA1 Task 4", "pa1_autodiff/src/train.cpp", "handouts/pa1.md#task-4");
}

// One step on a batch: run train_exec_ with images fed to model_.x and labels to labels_,
// hand the gradients to the optimizer (optimizer_->step), and return the loss as a float
// (Tensor::item). The executor's default RunOptions are right for training (dropout on, a new
// dropout mask every step).
// Tests check the returned loss against an independent computation and the parameter update
// against lr * finite-difference gradients (with SGD).
float Trainer::train_step(const Tensor& images, const Tensor& labels) {
  // TODO(student): PA1 Task 4 — see handouts/pa1.md#task-4
  throw mlsys::NotImplemented("PA1 Task 4", "pa1_autodiff/src/train.cpp", "handouts/pa1.md#task-4");
}

// The fraction of rows i whose predicted class (argmax over the logits' last axis,
// mlsys::argmax) equals labels[i]. Run eval_exec_ on chunks of at most batch_size rows
// (images.slice(0, start, stop)), with RunOptions::training = false so dropout is off.
// Tests check it on a model with known weights against a count done by hand.
double Trainer::accuracy(const Tensor& images, const Tensor& labels, int64_t batch_size) {
  PA1_CHECK(images.dim() >= 1 && labels.dim() == 1 && images.shape()[0] == labels.shape()[0],
            "Trainer::accuracy", "expected images [N, ...] and labels [N], got ",
            images.describe(), " and ", labels.describe());
  PA1_CHECK(batch_size > 0, "Trainer::accuracy", "batch_size must be positive");
  // TODO(student): PA1 Task 4 — see handouts/pa1.md#task-4
  throw mlsys::NotImplemented("PA1 Task 4", "pa1_autodiff/src/train.cpp", "handouts/pa1.md#task-4");
}

}  // namespace pa1
