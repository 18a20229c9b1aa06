// PA1 hidden tests, Task 1.3: numerical stability with logits of +-1e4, more shapes, masks,
// and second derivatives.
#include <cmath>

#include "hidden_util.h"

using namespace pa1;
using pa1::hidden::check_hvp;
using pa1::test::check_op_gradient;
using pa1::test::eval;
using pa1::test::uniform;

namespace {

bool all_finite(const Tensor& t) {
  for (float f : t.to_vector<float>())
    if (!std::isfinite(f)) return false;
  return true;
}

}  // namespace

TEST(Task1_3_Hidden, LogSoftmaxExtremeLogits) {
  // d sum(log_softmax(z) * w)/dz = w - softmax(z) sum(w); softmax([1e4, -1e4, 0]) = [1, 0, 0].
  NodePtr z = placeholder("z", {1, 3});
  NodePtr y = log_softmax(z);
  NodePtr w = placeholder("w", {1, 3});
  Tensor zv = mlsys::from_vector<float>({1e4f, -1e4f, 0}, {1, 3});
  Tensor wv = mlsys::from_vector<float>({0.5f, 1, -2}, {1, 3});
  Tensor grad = Executor({y->op->gradient(y, w)[0]}).run({{z, zv}, {w, wv}})[0];
  ASSERT_TRUE(all_finite(grad));
  MLSYS_EXPECT_ALLCLOSE(grad, mlsys::from_vector<float>({0.5f + 0.5f, 1, -2}, {1, 3}), 1e-5, 1e-5);
  NodePtr sm = softmax(z);
  Tensor sgrad = Executor({sm->op->gradient(sm, w)[0]}).run({{z, zv}, {w, wv}})[0];
  ASSERT_TRUE(all_finite(sgrad));
  MLSYS_EXPECT_ALLCLOSE(sgrad, mlsys::zeros({1, 3}), 0, 1e-5);
}

TEST(Task1_3_Hidden, CrossEntropyExtremeLogits) {
  // Rows: correct label at +1e4 (loss 0), wrong label (loss 2e4), a tie of two at 1e4 (log 2).
  NodePtr z = placeholder("z", {3, 3});
  NodePtr y = placeholder("y", {3}, DType::Int64);
  NodePtr loss = softmax_cross_entropy(z, y);
  Tensor zv = mlsys::from_vector<float>({1e4f, -1e4f, 0, 1e4f, -1e4f, 0, 1e4f, 1e4f, -1e4f}, {3, 3});
  Tensor yv = mlsys::from_vector<int64_t>({0, 1, 1}, {3});
  NodePtr g = placeholder("g", {});
  std::vector<NodePtr> grads = loss->op->gradient(loss, g);
  ASSERT_EQ(grads.size(), 2u);
  EXPECT_EQ(grads[1], nullptr);
  std::vector<Tensor> out = Executor({loss, grads[0]}).run({{z, zv}, {y, yv}, {g, mlsys::scalar(3.f)}});
  EXPECT_NEAR(out[0].item(), (0 + 2e4 + std::log(2.0)) / 3, 1e-1);
  ASSERT_TRUE(all_finite(out[1]));
  // (softmax - onehot) * 3 / 3 rows
  MLSYS_EXPECT_ALLCLOSE(out[1], mlsys::from_vector<float>({0, 0, 0, 1, -1, 0, 0.5f, -0.5f, 0}, {3, 3}), 1e-5, 1e-5);
}

TEST(Task1_3_Hidden, CrossEntropySingleRowAndRunTimeClasses) {
  Tensor labels = mlsys::from_vector<int64_t>({2}, {});
  EXPECT_TRUE(check_op_gradient([](auto& in) { return softmax_cross_entropy(in[0], in[1]); },
                                {uniform({4}, 1), labels}));
  pa1::test::GradCheckOptions opt;
  opt.static_shapes = {{-1, -1, 5}, {-1, -1}};
  EXPECT_TRUE(check_op_gradient([](auto& in) { return softmax_cross_entropy(in[0], in[1]); },
                                {uniform({2, 3, 5}, 2), mlsys::randint({2, 3}, 3, 0, 5)}, opt));
}

TEST(Task1_3_Hidden, SoftmaxNonContiguousAndSingleClass) {
  EXPECT_TRUE(check_op_gradient([](auto& in) { return softmax(in[0], 0); }, {uniform({4, 3}, 4).transpose(0, 1)}));
  EXPECT_TRUE(check_op_gradient([](auto& in) { return log_softmax(in[0], 2); }, {uniform({2, 3, 1}, 5)}));
  EXPECT_TRUE(check_op_gradient([](auto& in) { return log_softmax(in[0], -2); }, {uniform({2, 3, 4}, 6)}));
}

TEST(Task1_3_Hidden, LayerNormLargeOffsetAndBroadcastBatch) {
  // Rows far from zero (mean 100): the gradient must not depend on the offset.
  Tensor x = uniform({3, 4}, 7) + 100.f;
  EXPECT_TRUE(check_op_gradient([](auto& in) { return layernorm(in[0], in[1], in[2]); },
                                {x, uniform({4}, 8), uniform({4}, 9)},
                                {1e-2, 5e-2, 5e-3, 12345, {}}));
  pa1::test::GradCheckOptions opt;
  opt.static_shapes = {{-1, 2, 3}, {3}, {3}};
  EXPECT_TRUE(check_op_gradient([](auto& in) { return layernorm(in[0], in[1], in[2]); },
                                {uniform({2, 2, 3}, 10), uniform({3}, 11), uniform({3}, 12)}, opt));
}

TEST(Task1_3_Hidden, EmbeddingEveryRowRepeated) {
  Tensor idx = mlsys::from_vector<int64_t>({0, 0, 0, 1, 1, 2, 2, 2, 2}, {3, 3});
  EXPECT_TRUE(check_op_gradient([](auto& in) { return embedding(in[0], in[1]); }, {uniform({3, 4}, 13), idx}));
  Tensor unused = mlsys::from_vector<int64_t>({4}, {1});  // rows 0..3 get zero gradient
  EXPECT_TRUE(check_op_gradient([](auto& in) { return embedding(in[0], in[1]); }, {uniform({5, 2}, 14), unused}));
}

TEST(Task1_3_Hidden, DropoutGradientUsesTheForwardMask) {
  // grad * x == y * w elementwise in the same run (y = x * mask / (1 - p)), at two steps, and
  // the gradient is w itself with training off.
  NodePtr x = placeholder("x", {50});
  NodePtr y = dropout(x, 0.4f, 3);
  NodePtr w = placeholder("w", {50});
  NodePtr g = y->op->gradient(y, w)[0];
  Executor ex({y, g});
  Tensor xv = uniform({50}, 15, 0.5f, 1.f), wv = uniform({50}, 16, 0.5f, 1.f);
  for (int64_t step : {0, 5}) {
    std::vector<Tensor> out = ex.run({{x, xv}, {w, wv}}, {step, true});
    MLSYS_EXPECT_ALLCLOSE(out[1] * xv, out[0] * wv, 1e-5, 1e-6);
  }
  std::vector<Tensor> off = ex.run({{x, xv}, {w, wv}}, {-1, false});
  MLSYS_EXPECT_ALLCLOSE(off[1], wv, 0, 0);
}

TEST(Task1_3_Hidden, SecondDerivatives) {
  EXPECT_TRUE(check_hvp([](const NodePtr& x) { return softmax(x); }, uniform({2, 4}, 20), 21));
  EXPECT_TRUE(check_hvp([](const NodePtr& x) { return log_softmax(x, 0); }, uniform({3, 2}, 22), 23));
  EXPECT_TRUE(check_hvp([](const NodePtr& x) { return gelu(x); }, uniform({2, 3}, 24), 25));
  NodePtr labels = constant(mlsys::from_vector<int64_t>({1, 0, 3}, {3}));
  EXPECT_TRUE(check_hvp([labels](const NodePtr& x) { return softmax_cross_entropy(x, labels); }, uniform({3, 4}, 26), 27));
  NodePtr gain = constant(uniform({4}, 28)), bias = constant(uniform({4}, 29));
  EXPECT_TRUE(check_hvp([gain, bias](const NodePtr& x) { return layernorm(x, gain, bias); }, uniform({2, 4}, 30), 31,
                        1e-2, 5e-2, 5e-3));
  NodePtr idx = constant(mlsys::from_vector<int64_t>({1, 1, 0}, {3}));
  EXPECT_TRUE(check_hvp([idx](const NodePtr& t) { return embedding(t * t, idx); }, uniform({2, 3}, 32), 33));
}
