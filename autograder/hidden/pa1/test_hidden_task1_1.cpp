// PA1 hidden tests, Task 1.1: elementwise gradients on edge shapes, strided and broadcast
// (stride-0) inputs, extreme values, and second derivatives.
#include <cmath>

#include "hidden_util.h"

using namespace pa1;
using pa1::hidden::check_hvp;
using pa1::test::check_op_gradient;
using pa1::test::GradCheckOptions;
using pa1::test::uniform;

namespace {
using Build = std::function<NodePtr(const std::vector<NodePtr>&)>;
Build binary(NodePtr (*op)(const NodePtr&, const NodePtr&)) {
  return [op](const std::vector<NodePtr>& in) { return op(in[0], in[1]); };
}
}  // namespace

TEST(Task1_1_Hidden, ScalarsAndSizeOneDims) {
  for (auto op : {pa1::add, pa1::sub, pa1::mul}) {
    EXPECT_TRUE(check_op_gradient(binary(op), {uniform({}, 1), uniform({}, 2)}));
    EXPECT_TRUE(check_op_gradient(binary(op), {uniform({1, 1}, 3), uniform({1}, 4)}));
    EXPECT_TRUE(check_op_gradient(binary(op), {uniform({2, 1, 4, 1}, 5), uniform({3, 1, 5}, 6)}));
    EXPECT_TRUE(check_op_gradient(binary(op), {uniform({1}, 7), uniform({2, 3}, 8)}));
  }
  EXPECT_TRUE(check_op_gradient(binary(pa1::div), {uniform({3, 1}, 9), uniform({1, 4}, 10, 0.5f, 2.f)}));
  EXPECT_TRUE(check_op_gradient(binary(pa1::div), {uniform({}, 11), uniform({3}, 12, -2.f, -0.5f)}));
}

TEST(Task1_1_Hidden, ExpandedAndStridedFeeds) {
  // Feeds that are views: a stride-0 broadcast and a strided slice.
  Tensor a = uniform({4}, 20).expand({3, 4});
  Tensor b = uniform({3, 8}, 21).slice(1, 0, 8, 2);
  EXPECT_TRUE(check_op_gradient(binary(pa1::mul), {a, b}));
  EXPECT_TRUE(check_op_gradient(binary(pa1::sub), {b, a}));
  EXPECT_TRUE(check_op_gradient([](auto& in) { return pa1::tanh(in[0]); }, {b}));
}

TEST(Task1_1_Hidden, RunTimeShapesOnBothSides) {
  GradCheckOptions opt;
  opt.static_shapes = {{-1, -1}, {-1}};
  EXPECT_TRUE(check_op_gradient(binary(pa1::mul), {uniform({3, 4}, 30), uniform({4}, 31)}, opt));
  opt.static_shapes = {{-1, 1}, {1, -1}};
  EXPECT_TRUE(check_op_gradient(binary(pa1::div), {uniform({3, 1}, 32), uniform({1, 5}, 33, 1.f, 2.f)}, opt));
}

TEST(Task1_1_Hidden, PowScalarNegativeBaseIntegerPower) {
  EXPECT_TRUE(check_op_gradient([](auto& in) { return pow_scalar(in[0], 3.f); }, {uniform({5}, 40, -2.f, -0.5f)}));
  EXPECT_TRUE(check_op_gradient([](auto& in) { return pow_scalar(in[0], 1.f); }, {uniform({5}, 41)}));
}

TEST(Task1_1_Hidden, SaturatedActivationsStayFinite) {
  // sigmoid and tanh at +-30: the derivative is ~0 and must not be NaN.
  Tensor x = mlsys::from_vector<float>({-30, -15, 0, 15, 30}, {5});
  for (auto op : {pa1::sigmoid, pa1::tanh}) {
    NodePtr in = placeholder("x", {5});
    NodePtr y = op(in);
    NodePtr g = placeholder("g", {5});
    Tensor grad = Executor({y->op->gradient(y, g)[0]}).run({{in, x}, {g, mlsys::ones({5})}})[0];
    std::vector<float> v = grad.to_vector<float>();
    mlsys::test::record("grad", grad, 0, 1e-6);  // all 5 values are within 1e-6 of the checked ones
    for (float f : v) EXPECT_TRUE(std::isfinite(f)) << y->op->name();
    EXPECT_NEAR(v[2], y->op->name() == "tanh" ? 1.f : 0.25f, 1e-6);
    EXPECT_NEAR(v[0], 0.f, 1e-6);
  }
}

TEST(Task1_1_Hidden, ReusesTheForwardNode) {
  // exp, sqrt, sigmoid and tanh gradients should use `node` itself; either way they are
  // gradients of the right function, also at second order.
  EXPECT_TRUE(check_hvp([](const NodePtr& x) { return pa1::exp(x); }, uniform({2, 3}, 50), 51));
  EXPECT_TRUE(check_hvp([](const NodePtr& x) { return pa1::tanh(x); }, uniform({2, 3}, 52), 53));
  EXPECT_TRUE(check_hvp([](const NodePtr& x) { return sigmoid(x); }, uniform({2, 3}, 54), 55));
  EXPECT_TRUE(check_hvp([](const NodePtr& x) { return pa1::sqrt(x); }, uniform({2, 3}, 56, 1.f, 2.f), 57));
  EXPECT_TRUE(check_hvp([](const NodePtr& x) { return pa1::log(x); }, uniform({2, 3}, 58, 1.f, 2.f), 59));
  EXPECT_TRUE(check_hvp([](const NodePtr& x) { return pow_scalar(x, 3.f); }, uniform({4}, 60), 61));
  EXPECT_TRUE(check_hvp([](const NodePtr& x) { return x * x; }, uniform({4}, 62), 63));
  EXPECT_TRUE(check_hvp([](const NodePtr& x) { return x / (x + 3.f); }, uniform({4}, 64, 0.f, 1.f), 65));
}

TEST(Task1_1_Hidden, PowScalarZeroExponentThroughGradients) {
  // x^0 and x^2 at inputs that include 0, first and second order through gradients(): the
  // derivative of x^0 is 0 everywhere (never NaN), and x^2's gradient graph still
  // differentiates to 2.
  Tensor x0 = mlsys::from_vector<float>({0.f, 1.f, -2.f, 0.f}, {4});
  EXPECT_TRUE(check_hvp([](const NodePtr& x) { return pow_scalar(x, 0.f); }, x0, 70));
  EXPECT_TRUE(check_hvp([](const NodePtr& x) { return pow_scalar(x, 2.f); }, x0, 71));
  EXPECT_TRUE(check_hvp([](const NodePtr& x) { return pow_scalar(x, 1.f); }, x0, 72));
  NodePtr x = placeholder("x", {4});
  NodePtr g = gradients(sum(pow_scalar(x, 0.f) * 3.f), {x})[0];
  MLSYS_EXPECT_ALLCLOSE(pa1::test::eval(g, {{x, x0}}), mlsys::zeros({4}), 0, 0);
}
