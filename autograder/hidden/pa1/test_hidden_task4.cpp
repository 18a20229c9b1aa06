// PA1 hidden tests, Task 4: batch sizes changing between steps, a batch of one, and a deeper
// network's loss and update. Training runs are in test_hidden_task4_digits.cpp (label slow).
#include <cmath>

#include "hidden_util.h"

using namespace pa1;
using pa1::test::uniform;

TEST(Task4_Hidden, ChangingBatchSizesAndBatchOfOne) {
  Model m = build_mlp({5, 7, 3}, 1);
  Trainer trainer(m, std::make_shared<SGD>(m.params, 0.1f));
  for (int64_t b : {8, 1, 3, 1}) {
    float loss = trainer.train_step(uniform({b, 5}, 10 + b), mlsys::randint({b}, 20 + b, 0, 3));
    EXPECT_TRUE(std::isfinite(loss));
    // The tolerance of the loss checks of train_step (ThreeLayerStep, TrainStepLossAndUpdate).
    mlsys::test::record_value("loss", loss, 0, 1e-5);
  }
  EXPECT_GE(trainer.accuracy(uniform({1, 5}, 30), mlsys::zeros({1}, DType::Int64)), 0.0);
}

TEST(Task4_Hidden, ThreeLayerStep) {
  // Loss before the update and the update itself, against mlsys math and finite differences.
  Model m = build_mlp({3, 4, 4, 2}, 2, Activation::Sigmoid);
  const float lr = 0.3f;
  Trainer trainer(m, std::make_shared<SGD>(m.params, lr));
  Tensor x = uniform({4, 3}, 40), y = mlsys::from_vector<int64_t>({1, 0, 0, 1}, {4});
  std::vector<Tensor> before;
  for (const NodePtr& p : m.params) before.push_back(p->value.clone());
  auto loss_of = [&](const std::vector<Tensor>& params) {
    Tensor h = x;
    for (size_t i = 0; i < params.size(); i += 2) {
      h = mlsys::matmul(h, params[i]) + params[i + 1];
      if (i + 2 < params.size()) h = mlsys::sigmoid(h);
    }
    Tensor lsm = mlsys::log_softmax(h, -1);
    std::vector<int64_t> l = y.to_vector<int64_t>();
    double s = 0;
    for (int64_t r = 0; r < 4; ++r) s -= lsm.at({r, l[r]});
    return s / 4;
  };
  EXPECT_NEAR(trainer.train_step(x, y), loss_of(before), 1e-5);
  for (size_t i = 0; i < before.size(); ++i) {
    std::vector<Tensor> params = before;
    Tensor g = mlsys::test::numeric_gradient([&](const Tensor& v) { params[i] = v; return loss_of(params); }, before[i]);
    EXPECT_TRUE(mlsys::test::allclose(m.params[i]->value, before[i] - g * lr, 1e-3, 1e-4)) << m.params[i]->name();
  }
}
