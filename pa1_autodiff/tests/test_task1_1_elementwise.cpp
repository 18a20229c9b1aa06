// PA1 Task 1.1 — gradients of the elementwise ops (src/grad_elementwise.cpp).
// Each test builds one op over placeholders and compares op->gradient against central finite
// differences of sum(op(inputs) * W) for random W (pa1_test_util.h).
#include <cmath>

#include "pa1_test_util.h"

using namespace pa1;
using pa1::test::away_from_zero;
using pa1::test::check_op_gradient;
using pa1::test::uniform;

namespace {

using Build = std::function<NodePtr(const std::vector<NodePtr>&)>;

Build binary(NodePtr (*op)(const NodePtr&, const NodePtr&)) {
  return [op](const std::vector<NodePtr>& in) { return op(in[0], in[1]); };
}

// The shape pairs every binary op is checked on: equal shapes, broadcasting of either side,
// size-1 dims on both sides, 0-dim scalars, and a higher-rank case.
const std::vector<std::pair<Shape, Shape>> kBinaryShapes = {
    {{3, 4}, {3, 4}}, {{4, 3}, {3}},   {{3}, {4, 3}},         {{2, 1, 3}, {4, 1}},
    {{1, 3}, {5, 1}}, {{}, {3, 2}},    {{3, 2}, {}},          {{2, 3, 1, 2}, {3, 4, 1}},
};

void check_binary(NodePtr (*op)(const NodePtr&, const NodePtr&), bool positive_b) {
  uint64_t seed = 100;
  for (const auto& [sa, sb] : kBinaryShapes) {
    Tensor a = uniform(sa, seed++);
    Tensor b = positive_b ? uniform(sb, seed++, 0.5f, 2.f) : uniform(sb, seed++);
    SCOPED_TRACE("a " + mlsys::to_string(sa) + ", b " + mlsys::to_string(sb));
    EXPECT_TRUE(check_op_gradient(binary(op), {a, b}));
  }
}

}  // namespace

TEST(Task1_1_Elementwise, Add) { check_binary(pa1::add, false); }
TEST(Task1_1_Elementwise, Sub) { check_binary(pa1::sub, false); }
TEST(Task1_1_Elementwise, Mul) { check_binary(pa1::mul, false); }
TEST(Task1_1_Elementwise, Div) { check_binary(pa1::div, true); }

TEST(Task1_1_Elementwise, BroadcastWithRunTimeShapes) {
  // The batch dim is -1 in the static shapes: the gradient must take shapes at run time.
  pa1::test::GradCheckOptions opt;
  opt.static_shapes = {{-1, 3}, {3}};
  EXPECT_TRUE(check_op_gradient(binary(pa1::add), {uniform({5, 3}, 1), uniform({3}, 2)}, opt));
  EXPECT_TRUE(check_op_gradient(binary(pa1::mul), {uniform({5, 3}, 3), uniform({3}, 4)}, opt));
  opt.static_shapes = {{-1, 1}, {-1, 4}};
  EXPECT_TRUE(check_op_gradient(binary(pa1::sub), {uniform({2, 1}, 5), uniform({2, 4}, 6)}, opt));
}

TEST(Task1_1_Elementwise, NonContiguousInputs) {
  Tensor a = uniform({4, 3}, 7).transpose(0, 1);        // [3, 4], strided
  Tensor b = uniform({3, 4, 2}, 8).select(2, 1);        // [3, 4], strided
  ASSERT_FALSE(a.is_contiguous());
  EXPECT_TRUE(check_op_gradient(binary(pa1::mul), {a, b}));
  EXPECT_TRUE(check_op_gradient(binary(pa1::div), {a, b.clone() * b.clone() + 0.5f}));
}

TEST(Task1_1_Elementwise, AddScalar) {
  EXPECT_TRUE(check_op_gradient([](auto& in) { return add_scalar(in[0], 2.5f); }, {uniform({3, 4}, 10)}));
  EXPECT_TRUE(check_op_gradient([](auto& in) { return in[0] - 1.f; }, {uniform({}, 11)}));
  // c - a is its own op (rsub_scalar; its gradient is given).
  EXPECT_TRUE(check_op_gradient([](auto& in) { return 2.f - in[0]; }, {uniform({2, 3}, 16)}));
}

TEST(Task1_1_Elementwise, MulScalar) {
  EXPECT_TRUE(check_op_gradient([](auto& in) { return mul_scalar(in[0], -3.f); }, {uniform({2, 3}, 12)}));
  EXPECT_TRUE(check_op_gradient([](auto& in) { return in[0] / 4.f; }, {uniform({5}, 13)}));
}

TEST(Task1_1_Elementwise, PowScalar) {
  for (float p : {2.f, 3.f, 0.5f, -1.f}) {
    SCOPED_TRACE("p = " + std::to_string(p));
    EXPECT_TRUE(check_op_gradient([p](auto& in) { return pow_scalar(in[0], p); },
                                  {uniform({3, 4}, 14, 0.5f, 2.f)}));
  }
  EXPECT_TRUE(check_op_gradient([](auto& in) { return pow_scalar(in[0], 2.f); }, {uniform({4}, 15)}));
}

TEST(Task1_1_Elementwise, PowScalarAtZero) {
  // d/da a^p = p a^(p-1) at a = 0 and elsewhere, for the integer powers that are defined
  // there: p = 0 gives 0 everywhere (a^0 = 1), never 0 * inf = NaN. Expected values from the
  // formula in double.
  const std::vector<float> av{0.f, 0.5f, -1.5f, 2.f};
  NodePtr a = placeholder("a", {4});
  for (float p : {0.f, 1.f, 2.f, 3.f}) {
    SCOPED_TRACE("p = " + std::to_string(p));
    NodePtr y = pow_scalar(a, p);
    std::vector<NodePtr> g = y->op->gradient(y, constant(mlsys::ones({4})));
    ASSERT_EQ(g.size(), 1u);
    std::vector<float> expect;
    for (float x : av) expect.push_back(p == 0.f ? 0.f : static_cast<float>(p * std::pow(double{x}, p - 1.0)));
    MLSYS_EXPECT_ALLCLOSE(pa1::test::eval(g[0], {{a, mlsys::from_vector(av, {4})}}),
                          mlsys::from_vector(expect, {4}), 1e-6, 0);
  }
  EXPECT_TRUE(check_op_gradient([](auto& in) { return pow_scalar(in[0], 0.f); }, {uniform({3, 4}, 17)}));
}

TEST(Task1_1_Elementwise, Neg) {
  EXPECT_TRUE(check_op_gradient([](auto& in) { return neg(in[0]); }, {uniform({3, 4}, 20)}));
}

TEST(Task1_1_Elementwise, Exp) {
  EXPECT_TRUE(check_op_gradient([](auto& in) { return exp(in[0]); }, {uniform({3, 4}, 21)}));
  EXPECT_TRUE(check_op_gradient([](auto& in) { return exp(in[0]); }, {uniform({}, 22)}));
}

TEST(Task1_1_Elementwise, Log) {
  EXPECT_TRUE(check_op_gradient([](auto& in) { return log(in[0]); }, {uniform({3, 4}, 23, 0.5f, 3.f)}));
}

TEST(Task1_1_Elementwise, Sqrt) {
  EXPECT_TRUE(check_op_gradient([](auto& in) { return sqrt(in[0]); }, {uniform({3, 4}, 24, 0.5f, 3.f)}));
}

TEST(Task1_1_Elementwise, Relu) {
  EXPECT_TRUE(check_op_gradient([](auto& in) { return relu(in[0]); }, {away_from_zero({4, 5}, 25)}));
}

TEST(Task1_1_Elementwise, Sigmoid) {
  EXPECT_TRUE(check_op_gradient([](auto& in) { return sigmoid(in[0]); }, {uniform({4, 5}, 26, -4.f, 4.f)}));
}

TEST(Task1_1_Elementwise, Tanh) {
  EXPECT_TRUE(check_op_gradient([](auto& in) { return tanh(in[0]); }, {uniform({4, 5}, 27)}));
}

TEST(Task1_1_Elementwise, GradientShapesMatchInputs) {
  // Static shapes of the gradient nodes, before anything runs.
  NodePtr a = placeholder("a", {-1, 1, 3});
  NodePtr b = placeholder("b", {4, 1});
  for (auto op : {pa1::add, pa1::sub, pa1::mul, pa1::div}) {
    NodePtr y = op(a, b);
    NodePtr g = placeholder("g", y->shape);
    std::vector<NodePtr> grads = y->op->gradient(y, g);
    ASSERT_EQ(grads.size(), 2u);
    EXPECT_EQ(grads[0]->shape, a->shape) << y->op->name();
    EXPECT_EQ(grads[1]->shape, b->shape) << y->op->name();
    mlsys::test::record_exact("grad_shapes", mlsys::to_string(grads[0]->shape) + " " +
                                                 mlsys::to_string(grads[1]->shape));
  }
}
