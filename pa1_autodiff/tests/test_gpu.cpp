// PA1 on CUDA tensors: the same graphs, gradients and training step on the GPU agree with the
// CPU. Label gpu (no task label: these skip, with the reason, where no GPU is present).
#include "mlsys/io.h"
#include "pa1_test_util.h"

using namespace pa1;
using mlsys::Device;
using pa1::test::uniform;

namespace {

// f(x, w) built from most of the ops, its value and its gradients w.r.t. x and the weights.
std::vector<Tensor> run_everything(Device device) {
  auto on = [device](const Tensor& t) { return t.to(device); };
  NodePtr x = placeholder("x", {-1, 6});
  NodePtr labels = placeholder("labels", {-1}, DType::Int64);
  NodePtr w = variable("w", on(uniform({6, 8}, 1)));
  NodePtr gain = variable("gain", on(uniform({8}, 2, 0.5f, 1.5f)));
  NodePtr bias = variable("bias", on(uniform({8}, 3)));
  NodePtr table = variable("table", on(uniform({5, 8}, 4)));
  NodePtr ids = constant(mlsys::from_vector<int64_t>({4, 0, 4, 2}, {4}).to(device));
  NodePtr h = layernorm(matmul(x, w) + embedding(table, ids), gain, bias);
  h = dropout(gelu(h), 0.25f, 9) * sigmoid(h) + pa1::tanh(h) / (pa1::exp(h) + 1.f);
  NodePtr logits = matmul(h, w, false, true);  // tied weights: [B, 6]
  NodePtr loss = softmax_cross_entropy(logits, labels) + mean(max(softmax(h, 0), 1)) +
                 sum(pow_scalar(relu(h) + 1.f, 1.5f)) * 1e-2f + mean(log_softmax(h, -1) * h);
  std::vector<NodePtr> g = gradients(loss, {x, w, gain, bias, table});
  std::vector<NodePtr> outputs{loss};
  outputs.insert(outputs.end(), g.begin(), g.end());
  std::vector<Tensor> out = Executor(outputs).run(
      {{x, on(uniform({4, 6}, 5))}, {labels, mlsys::from_vector<int64_t>({0, 5, 2, 2}, {4}).to(device)}});
  for (Tensor& t : out) {
    EXPECT_EQ(t.device(), device);
    t = t.cpu();
  }
  return out;
}

}  // namespace

TEST(Gpu, GraphAndGradientsMatchCpu) {
  MLSYS_SKIP_WITHOUT_GPU();
  std::vector<Tensor> cpu = run_everything(Device::CPU), gpu = run_everything(Device::CUDA);
  ASSERT_EQ(cpu.size(), gpu.size());
  for (size_t i = 0; i < cpu.size(); ++i) {
    SCOPED_TRACE("output " + std::to_string(i));
    MLSYS_EXPECT_ALLCLOSE(gpu[i], cpu[i], 1e-4, 1e-5);
  }
}

TEST(Gpu, TrainingStepsMatchCpu) {
  MLSYS_SKIP_WITHOUT_GPU();
  auto [train, test] = mlsys::train_test_split(mlsys::load_digits(), 0.2, 0);
  Model mc = build_mlp({64, 32, 10}, 3, Activation::Relu, 0.f, Device::CPU);
  Model mg = build_mlp({64, 32, 10}, 3, Activation::Relu, 0.f, Device::CUDA);
  Trainer tc(mc, std::make_shared<Adam>(mc.params, 1e-2f));
  Trainer tg(mg, std::make_shared<Adam>(mg.params, 1e-2f));
  for (int64_t step = 0; step < 5; ++step) {
    std::vector<int64_t> rows;
    for (int64_t i = 0; i < 64; ++i) rows.push_back((step * 64 + i) % train.images.shape()[0]);
    Tensor x = take_rows(train.images, rows), y = take_rows(train.labels, rows);
    EXPECT_NEAR(tg.train_step(x.cuda(), y.cuda()), tc.train_step(x, y), 1e-4);
  }
  for (size_t i = 0; i < mc.params.size(); ++i)
    MLSYS_EXPECT_ALLCLOSE(mg.params[i]->value.cpu(), mc.params[i]->value, 1e-3, 1e-4);
  EXPECT_NEAR(tg.accuracy(test.images.cuda(), test.labels.cuda()), tc.accuracy(test.images, test.labels), 1e-9);
}
