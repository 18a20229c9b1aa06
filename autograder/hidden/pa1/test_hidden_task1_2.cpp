// PA1 hidden tests, Task 1.2: matmul, shape ops and reductions on edge shapes; max with ties;
// second derivatives.
#include "hidden_util.h"

using namespace pa1;
using pa1::hidden::check_hvp;
using pa1::test::check_op_gradient;
using pa1::test::GradCheckOptions;
using pa1::test::uniform;

TEST(Task1_2_Hidden, MatmulBroadcastBothBatches) {
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      Shape sa = ta ? Shape{2, 1, 4, 3} : Shape{2, 1, 3, 4};
      Shape sb = tb ? Shape{1, 5, 2, 4} : Shape{1, 5, 4, 2};
      EXPECT_TRUE(check_op_gradient([ta, tb](auto& in) { return matmul(in[0], in[1], ta, tb); },
                                    {uniform(sa, 1), uniform(sb, 2)}));
    }
}

TEST(Task1_2_Hidden, MatmulOneByOneAndStrided) {
  EXPECT_TRUE(check_op_gradient([](auto& in) { return matmul(in[0], in[1]); }, {uniform({1, 1}, 3), uniform({1, 1}, 4)}));
  Tensor a = uniform({5, 3}, 5).transpose(0, 1);   // [3, 5], column-major view
  Tensor b = uniform({5, 8}, 6).slice(1, 1, 8, 2); // [5, 4], strided columns
  EXPECT_TRUE(check_op_gradient([](auto& in) { return matmul(in[0], in[1]); }, {a, b}));
  GradCheckOptions opt;
  opt.static_shapes = {{-1, -1, 3}, {3, -1}};
  EXPECT_TRUE(check_op_gradient([](auto& in) { return matmul(in[0], in[1]); },
                                {uniform({2, 4, 3}, 7), uniform({3, 2}, 8)}, opt));
}

TEST(Task1_2_Hidden, ReductionsEveryAxisSet) {
  const Tensor x = uniform({2, 3, 1, 4}, 10);
  const std::vector<std::vector<int64_t>> sets = {{}, {0}, {2}, {1, 3}, {0, 1, 2, 3}, {-1, -4}};
  for (const auto& axes : sets)
    for (bool keep : {false, true}) {
      EXPECT_TRUE(check_op_gradient([axes, keep](auto& in) { return sum(in[0], axes, keep); }, {x}));
      EXPECT_TRUE(check_op_gradient([axes, keep](auto& in) { return mean(in[0], axes, keep); }, {x}));
    }
  EXPECT_TRUE(check_op_gradient([](auto& in) { return mean(in[0], {}, true); }, {uniform({}, 11)}));
  GradCheckOptions opt;
  opt.static_shapes = {{-1, 3, -1}};
  EXPECT_TRUE(check_op_gradient([](auto& in) { return mean(in[0], {0, 2}); }, {uniform({4, 3, 2}, 12)}, opt));
  EXPECT_TRUE(check_op_gradient([](auto& in) { return mean(in[0], {1}, true); }, {uniform({4, 3, 2}, 13)}, opt));
}

TEST(Task1_2_Hidden, MaxTiesSplitEvenly) {
  // Row 0: max 3 at two places -> each gets half; row 1: all equal -> a third each.
  NodePtr x = placeholder("x", {2, 3});
  NodePtr m = max(x, 1);
  NodePtr g = placeholder("g", {2});
  Tensor grad = Executor({m->op->gradient(m, g)[0]})
                    .run({{x, mlsys::from_vector<float>({1, 3, 3, 2, 2, 2}, {2, 3})},
                          {g, mlsys::from_vector<float>({1, 6}, {2})}})[0];
  MLSYS_EXPECT_ALLCLOSE(grad, mlsys::from_vector<float>({0, 0.5f, 0.5f, 2, 2, 2}, {2, 3}));
  NodePtr mk = max(x, 0, true);
  NodePtr gk = placeholder("gk", {1, 3});
  Tensor grad0 = Executor({mk->op->gradient(mk, gk)[0]})
                     .run({{x, mlsys::from_vector<float>({1, 3, 3, 2, 3, 2}, {2, 3})},
                           {gk, mlsys::from_vector<float>({1, 1, 1}, {1, 3})}})[0];
  MLSYS_EXPECT_ALLCLOSE(grad0, mlsys::from_vector<float>({0, 0.5f, 1, 1, 0.5f, 0}, {2, 3}));
}

TEST(Task1_2_Hidden, ShapeOpsOnEdgeShapes) {
  EXPECT_TRUE(check_op_gradient([](auto& in) { return permute(in[0], {3, 1, 0, 2}); }, {uniform({2, 1, 3, 2}, 20)}));
  EXPECT_TRUE(check_op_gradient([](auto& in) { return permute(in[0], {0}); }, {uniform({3}, 21)}));
  EXPECT_TRUE(check_op_gradient([](auto& in) { return reshape(in[0], {}); }, {uniform({1, 1}, 22)}));
  EXPECT_TRUE(check_op_gradient([](auto& in) { return broadcast_to(in[0], {2, 3, 4}); }, {uniform({1}, 23)}));
  EXPECT_TRUE(check_op_gradient([](auto& in) { return broadcast_to(in[0], {3, 2, 1}); }, {uniform({2, 1}, 24)}));
  GradCheckOptions opt;
  opt.static_shapes = {{-1, 4}};
  EXPECT_TRUE(check_op_gradient([](auto& in) { return reshape(in[0], {-1, 2, 2}); }, {uniform({3, 4}, 25)}, opt));
  EXPECT_TRUE(check_op_gradient([](auto& in) { return transpose(in[0]); }, {uniform({3, 4}, 26)}, opt));
}

TEST(Task1_2_Hidden, SecondDerivatives) {
  NodePtr w = constant(uniform({4, 3}, 30));
  EXPECT_TRUE(check_hvp([w](const NodePtr& x) { return matmul(x * x, w); }, uniform({2, 4}, 31), 32));
  EXPECT_TRUE(check_hvp([w](const NodePtr& x) { return matmul(w, x * x, true, false); }, uniform({4, 2}, 33), 34));
  EXPECT_TRUE(check_hvp([](const NodePtr& x) { return pa1::exp(mean(x * x, {1})); }, uniform({3, 4}, 35), 36));
  EXPECT_TRUE(check_hvp([](const NodePtr& x) { return sum(pa1::tanh(x), {0}, true) * x; }, uniform({3, 4}, 37), 38));
  EXPECT_TRUE(check_hvp([](const NodePtr& x) { return max(x * x, 1); }, uniform({3, 4}, 39), 40));
  EXPECT_TRUE(check_hvp([](const NodePtr& x) { return reshape(transpose(x), {-1}) * reshape(x, {12}); },
                        uniform({3, 4}, 41), 42));
}
