// PA1 hidden tests, Task 2.2: gradients() on stacked diamonds (exponentially many paths),
// deep graphs of real ops, Hessian-vector products of a network, reuse of one graph, and
// errors.
#include <cmath>

#include "hidden_util.h"

using namespace pa1;
using pa1::test::eval;
using pa1::test::throws_error_with;
using pa1::test::uniform;

TEST(Task2_2_Hidden, StackedDiamonds) {
  // 60 levels of x -> (0.75 x, 0.25 x) -> sum: 2^60 paths, gradient 1. Must take time linear
  // in the number of nodes (sum contributions per node, never per path).
  NodePtr x = placeholder("x", {2});
  NodePtr y = x;
  for (int i = 0; i < 60; ++i) y = y * 0.75f + y * 0.25f;
  MLSYS_EXPECT_ALLCLOSE(eval(gradients(sum(y), {x})[0], {{x, mlsys::ones({2})}}), mlsys::ones({2}), 1e-5, 1e-6);
}

TEST(Task2_2_Hidden, DeepChainOfRealOps) {
  // 100,000 nodes: y <- tanh(y) * 0.5 + x, alternating. Checked against finite differences of
  // the forward value (cheap: x has two elements). gradients() runs on a 256 KiB stack.
  NodePtr x = placeholder("x", {2});
  NodePtr y = x;
  for (int i = 0; i < 33333; ++i) y = pa1::tanh(y) * 0.5f + x;
  NodePtr f = sum(y);
  NodePtr g = pa1::test::on_small_stack("gradients", [&] { return gradients(f, {x})[0]; });
  Tensor x0 = mlsys::from_vector<float>({0.3f, -0.2f}, {2});
  Executor fx({f});
  Tensor numeric = mlsys::test::numeric_gradient(
      [&](const Tensor& v) { return static_cast<double>(fx.run({{x, v}})[0].item()); }, x0, 1e-2);
  MLSYS_EXPECT_ALLCLOSE(eval(g, {{x, x0}}), numeric, 1e-2, 1e-3);
}

TEST(Task2_2_Hidden, HessianVectorProductOfANetwork) {
  NodePtr w1 = constant(uniform({3, 4}, 1)), w2 = constant(uniform({4, 2}, 2));
  NodePtr labels = constant(mlsys::from_vector<int64_t>({1, 0, 1, 1, 0}, {5}));
  auto loss = [&](const NodePtr& x) {
    return softmax_cross_entropy(matmul(pa1::tanh(matmul(x, w1)), w2), labels);
  };
  EXPECT_TRUE(pa1::hidden::check_hvp(loss, uniform({5, 3}, 3), 4, 1e-2, 2e-2, 2e-3, /*op_first=*/false));
}

TEST(Task2_2_Hidden, GradientWrtIntermediateAndOutput) {
  NodePtr x = placeholder("x", {3});
  NodePtr h = pa1::exp(x);
  NodePtr f = sum(h * h);
  std::vector<NodePtr> g = gradients(f, {h, f, x});
  Tensor x0 = uniform({3}, 5);
  FeedDict feeds{{x, x0}};
  MLSYS_EXPECT_ALLCLOSE(eval(g[0], feeds), mlsys::exp(x0) * 2.f, 1e-5, 1e-6);
  MLSYS_EXPECT_ALLCLOSE(eval(g[1], feeds), mlsys::ones({}));
  MLSYS_EXPECT_ALLCLOSE(eval(g[2], feeds), mlsys::exp(x0 * 2.f) * 2.f, 1e-5, 1e-6);
}

TEST(Task2_2_Hidden, SameGraphDifferentiatedTwice) {
  NodePtr x = placeholder("x", {3}), y = placeholder("y", {3});
  NodePtr f = sum(x * y * y);
  NodePtr gx1 = gradients(f, {x})[0];
  NodePtr gy = gradients(f, {y})[0];
  NodePtr gx2 = gradients(f, {x})[0];
  Tensor xv = uniform({3}, 6), yv = uniform({3}, 7);
  FeedDict feeds{{x, xv}, {y, yv}};
  MLSYS_EXPECT_ALLCLOSE(eval(gx1, feeds), yv * yv, 1e-5, 1e-6);
  MLSYS_EXPECT_ALLCLOSE(eval(gx2, feeds), yv * yv, 1e-5, 1e-6);
  MLSYS_EXPECT_ALLCLOSE(eval(gy, feeds), xv * yv * 2.f, 1e-5, 1e-6);
}

TEST(Task2_2_Hidden, OutputGradForANonScalarOutput) {
  NodePtr x = placeholder("x", {2, 3});
  NodePtr out = matmul(x, constant(mlsys::ones({3, 2})));
  NodePtr v = placeholder("v", {2, 2});
  Tensor vv = mlsys::from_vector<float>({1, 2, 3, 4}, {2, 2});
  Tensor g = eval(gradients(out, {x}, v)[0], {{x, uniform({2, 3}, 8)}, {v, vv}});
  MLSYS_EXPECT_ALLCLOSE(g, mlsys::from_vector<float>({3, 3, 3, 7, 7, 7}, {2, 3}));
}

TEST(Task2_2_Hidden, LabelsGetNoGradient) {
  NodePtr z = placeholder("z", {-1, 3}), y = placeholder("y", {-1}, DType::Int64);
  std::vector<NodePtr> g = gradients(softmax_cross_entropy(z, y), {y, z});
  ASSERT_EQ(g.size(), 2u);
  Tensor gy = eval(g[0], {{z, uniform({2, 3}, 9)}, {y, mlsys::zeros({2}, DType::Int64)}});
  EXPECT_EQ(gy.shape(), (Shape{2}));
  MLSYS_EXPECT_ALLCLOSE(gy, mlsys::zeros({2}));
}

TEST(Task2_2_Hidden, LeafOutputAndErrors) {
  NodePtr x = placeholder("x", {2});
  MLSYS_EXPECT_ALLCLOSE(eval(gradients(x, {x})[0], {{x, mlsys::ones({2})}}), mlsys::ones({2}));
  NodePtr stranger = variable("stranger", mlsys::ones({2}));
  EXPECT_TRUE(throws_error_with([&] { gradients(pa1::exp(x), {stranger}); }, {"'stranger'"}));
  EXPECT_TRUE(throws_error_with([&] { gradients(x, {stranger}); }, {"'stranger'"}));
}

TEST(Task2_2_Hidden, DeepTrainingGraphIsFinite) {
  // Build, differentiate (on a 256 KiB stack) and run a 100,000-node graph, then drop it: no
  // recursion anywhere.
  NodePtr x = placeholder("x", {3});
  NodePtr y = x;
  for (int i = 0; i < 50000; ++i) y = pa1::tanh(y) + x;
  NodePtr f = sum(y);
  std::vector<NodePtr> g = pa1::test::on_small_stack("gradients", [&] { return gradients(f, {x}); });
  std::vector<Tensor> out = Executor({y, g[0]}).run({{x, mlsys::full({3}, 0.1f)}});
  for (float v : out[1].to_vector<float>()) EXPECT_TRUE(std::isfinite(v));
  // The value, from the recurrence in double: y_(i+1) = tanh(y_i) + x, so
  // dy_(i+1)/dx = (1 - tanh(y_i)^2) dy_i/dx + 1 (~2.67 here). The factor ~0.63 damps rounding
  // errors, so float32 stays within a few u / (1 - 0.63) of it; rtol 1e-4 is ample.
  double yd = 0.1, dd = 1.0;
  for (int i = 0; i < 50000; ++i) {
    const double t = std::tanh(yd);
    dd = (1 - t * t) * dd + 1;
    yd = t + 0.1;
  }
  MLSYS_EXPECT_ALLCLOSE(out[1], mlsys::full({3}, static_cast<float>(dd)), 1e-4, 0);
}
