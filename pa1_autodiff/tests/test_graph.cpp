// PA1 staff machinery: nodes, static shapes, the ops' forward values, the executor, the
// initializers and the MLP builder. No student code runs here, so these tests pass in the
// student build too. Expected values come from mlsys ops on explicit copies or from plain
// loops in double.
#include <cmath>
#include <thread>
#include <unordered_set>

#include "pa1_test_util.h"

using namespace pa1;
using pa1::test::eval;
using pa1::test::throws_error_with;
using pa1::test::uniform;

namespace {

// An elementwise identity op that counts how often it is computed.
class CountingOp final : public Op {
 public:
  explicit CountingOp(int* counter) : counter_(counter) {}
  std::string name() const override { return "counting"; }
  Tensor compute(const std::vector<Tensor>& in, const RunContext&) const override {
    ++*counter_;
    return in[0];
  }
  std::vector<NodePtr> gradient(const NodePtr&, const NodePtr& grad) const override { return {grad}; }

 private:
  int* counter_;
};

NodePtr counted(const NodePtr& x, int* counter) {
  return make_node(std::make_shared<CountingOp>(counter), {x});
}

// Plain-loop reference: x [R, C] row-wise.
Tensor ref_layernorm(const Tensor& x, const Tensor& gain, const Tensor& bias, double eps) {
  const int64_t C = x.shape().back(), R = x.numel() / C;
  std::vector<double> v = x.to_vector<double>(), g = gain.to_vector<double>(), b = bias.to_vector<double>();
  std::vector<float> out(v.size());
  for (int64_t r = 0; r < R; ++r) {
    double mu = 0, var = 0;
    for (int64_t c = 0; c < C; ++c) mu += v[r * C + c] / C;
    for (int64_t c = 0; c < C; ++c) var += (v[r * C + c] - mu) * (v[r * C + c] - mu) / C;
    for (int64_t c = 0; c < C; ++c)
      out[r * C + c] = static_cast<float>((v[r * C + c] - mu) / std::sqrt(var + eps) * g[c] + b[c]);
  }
  return mlsys::from_vector(out, x.shape());
}

}  // namespace

// ============================================================================================
// Nodes and static shapes
// ============================================================================================

TEST(Graph, LeavesAndNames) {
  NodePtr x = placeholder("x", {-1, 3});
  NodePtr w = variable("w", mlsys::ones({3}));
  NodePtr c = constant(2.f);
  EXPECT_EQ(x->kind, NodeKind::Placeholder);
  EXPECT_EQ(w->kind, NodeKind::Variable);
  EXPECT_EQ(c->kind, NodeKind::Constant);
  EXPECT_TRUE(x->is_leaf() && w->is_leaf() && c->is_leaf());
  EXPECT_EQ(c->name(), "constant_" + std::to_string(c->id));
  NodePtr y = add(x, w);
  EXPECT_FALSE(y->is_leaf());
  EXPECT_EQ(y->name(), "add_" + std::to_string(y->id));
  EXPECT_LT(x->id, y->id);
  EXPECT_EQ(y->describe(), "'" + y->name() + "' (add, float32[-1, 3])");
  y->set_name("sum_xw");
  EXPECT_EQ(y->describe(), "'sum_xw' (add, float32[-1, 3])");
}

TEST(Graph, StaticShapes) {
  NodePtr x = placeholder("x", {-1, 64});
  NodePtr w = placeholder("w", {64, 10});
  EXPECT_EQ(matmul(x, w)->shape, (Shape{-1, 10}));
  EXPECT_EQ(matmul(w, x, true, true)->shape, (Shape{10, -1}));
  EXPECT_EQ(matmul(placeholder("a", {5, 1, 2, 3}), placeholder("b", {4, 3, 6}))->shape, (Shape{5, 4, 2, 6}));
  EXPECT_EQ(add(x, placeholder("b", {64}))->shape, (Shape{-1, 64}));
  EXPECT_EQ(add(placeholder("p", {-1, 1}), placeholder("q", {1, 5}))->shape, (Shape{-1, 5}));
  EXPECT_EQ(sum(x, {1}, true)->shape, (Shape{-1, 1}));
  EXPECT_EQ(mean(x)->shape, Shape{});
  EXPECT_EQ(max(x, 0)->shape, Shape{64});
  EXPECT_EQ(reshape(placeholder("r", {2, 3, 4}), {-1, 4})->shape, (Shape{6, 4}));
  EXPECT_EQ(reshape(x, {-1, 8, 8})->shape, (Shape{-1, 8, 8}));
  EXPECT_EQ(permute(placeholder("r", {2, 3, 4}), {2, 0, 1})->shape, (Shape{4, 2, 3}));
  EXPECT_EQ(transpose(x)->shape, (Shape{64, -1}));
  EXPECT_EQ(unsqueeze(x, {0, -1})->shape, (Shape{1, -1, 64, 1}));
  EXPECT_EQ(squeeze(placeholder("s", {3, 1, 2, 1}), {1, 3})->shape, (Shape{3, 2}));
  EXPECT_EQ(softmax_cross_entropy(matmul(x, w), placeholder("y", {-1}, DType::Int64))->shape, Shape{});
  EXPECT_EQ(embedding(placeholder("t", {100, 16}), placeholder("i", {-1, 7}, DType::Int64))->shape,
            (Shape{-1, 7, 16}));
  EXPECT_EQ(one_hot(placeholder("l", {-1}, DType::Int64), 10)->shape, (Shape{-1, 10}));
  EXPECT_EQ(numel(x)->shape, Shape{});
}

TEST(Graph, IncompatibleShapesThrowWhenBuilt) {
  NodePtr a = placeholder("a", {3, 4});
  NodePtr b = placeholder("b", {5, 6});
  EXPECT_TRUE(throws_error_with([&] { matmul(a, b); }, {"matmul", "'a'", "'b'", "[3, 4]", "[5, 6]", "K must match"}));
  EXPECT_TRUE(throws_error_with([&] { add(a, b); }, {"add", "'a'", "'b'", "broadcast"}));
  EXPECT_TRUE(throws_error_with([&] { reshape(a, {5, -1}); }, {"reshape", "'a'"}));
  EXPECT_TRUE(throws_error_with([&] { sum(a, {2}); }, {"sum"}));
  EXPECT_TRUE(throws_error_with([&] { layernorm(a, placeholder("g", {3}), placeholder("bias", {4})); },
                                {"layernorm", "gain"}));
  NodePtr labels = placeholder("labels", {-1}, DType::Int64);
  EXPECT_TRUE(throws_error_with([&] { softmax_cross_entropy(placeholder("z", {-1, 3, 4}), labels); },
                                {"softmax_cross_entropy", "'labels'"}));
  EXPECT_TRUE(throws_error_with([&] { mul(labels, labels); }, {"mul", "'labels'", "float32"}));
  EXPECT_TRUE(throws_error_with([&] { add(a, nullptr); }, {"add", "null"}));
}

// ============================================================================================
// Forward values of the ops
// ============================================================================================

TEST(GraphOps, ElementwiseAndScalarForms) {
  Tensor a = uniform({3, 4}, 1, 0.5f, 2.f), b = uniform({4}, 2, 0.5f, 2.f);
  NodePtr A = constant(a), B = constant(b);
  MLSYS_EXPECT_ALLCLOSE(eval(A + B), a + b);
  MLSYS_EXPECT_ALLCLOSE(eval(A - B), a - b);
  MLSYS_EXPECT_ALLCLOSE(eval(A * B), a * b);
  MLSYS_EXPECT_ALLCLOSE(eval(A / B), a / b);
  MLSYS_EXPECT_ALLCLOSE(eval(2.f - A), 2.f - a);
  MLSYS_EXPECT_ALLCLOSE(eval(3.f / A), 3.f / a, 1e-5, 1e-5);
  MLSYS_EXPECT_ALLCLOSE(eval(A / 4.f), a * 0.25f);
  MLSYS_EXPECT_ALLCLOSE(eval(pow_scalar(A, 1.5f)), mlsys::pow(a, 1.5f));
  MLSYS_EXPECT_ALLCLOSE(eval(-A), -a);
  MLSYS_EXPECT_ALLCLOSE(eval(pa1::exp(A)), mlsys::exp(a));
  MLSYS_EXPECT_ALLCLOSE(eval(pa1::log(A)), mlsys::log(a));
  MLSYS_EXPECT_ALLCLOSE(eval(pa1::sqrt(A)), mlsys::sqrt(a));
  MLSYS_EXPECT_ALLCLOSE(eval(pa1::tanh(A)), mlsys::tanh(a));
  MLSYS_EXPECT_ALLCLOSE(eval(sigmoid(A)), mlsys::sigmoid(a));
  MLSYS_EXPECT_ALLCLOSE(eval(relu(A - 1.f)), mlsys::relu(a - 1.f));
}

TEST(GraphOps, MatmulTransposeFlags) {
  Tensor a = uniform({2, 4, 3}, 3), b = uniform({5, 4}, 4);
  // a^T b^T with explicit contiguous transposes as the reference.
  Tensor ref = mlsys::matmul(a.transpose(1, 2).contiguous(), b.transpose(0, 1).contiguous());
  MLSYS_EXPECT_ALLCLOSE(eval(matmul(constant(a), constant(b), true, true)), ref, 1e-5, 1e-5);
}

TEST(GraphOps, CrossEntropyMatchesFormula) {
  Tensor z = uniform({4, 3}, 5, -3.f, 3.f);
  Tensor y = mlsys::from_vector<int64_t>({2, 0, 1, 2}, {4});
  std::vector<double> v = z.to_vector<double>();
  const int64_t label[] = {2, 0, 1, 2};
  double loss = 0;
  for (int r = 0; r < 4; ++r) {
    double s = 0;
    for (int c = 0; c < 3; ++c) s += std::exp(v[r * 3 + c]);
    loss += (std::log(s) - v[r * 3 + label[r]]) / 4;
  }
  NodePtr ce = softmax_cross_entropy(constant(z), constant(y));
  EXPECT_NEAR(eval(ce).item(), loss, 1e-5);
  // Labels out of range are an error naming the op.
  NodePtr bad = softmax_cross_entropy(constant(z), constant(mlsys::from_vector<int64_t>({0, 1, 3, 0}, {4})));
  EXPECT_TRUE(throws_error_with([&] { eval(bad); }, {"softmax_cross_entropy", "label 3", "[0, 3)"}));
}

TEST(GraphOps, LayerNormGeluEmbedding) {
  Tensor x = uniform({3, 5}, 6), g = uniform({5}, 7), b = uniform({5}, 8);
  MLSYS_EXPECT_ALLCLOSE(eval(layernorm(constant(x), constant(g), constant(b))),
                        ref_layernorm(x, g, b, 1e-5), 1e-4, 1e-5);
  std::vector<double> xv = x.to_vector<double>();
  std::vector<float> gelu_ref;
  for (double v : xv) gelu_ref.push_back(static_cast<float>(
      0.5 * v * (1 + std::tanh(std::sqrt(2 / M_PI) * (v + 0.044715 * v * v * v)))));
  MLSYS_EXPECT_ALLCLOSE(eval(gelu(constant(x))), mlsys::from_vector(gelu_ref, {3, 5}), 1e-5, 1e-6);
  Tensor table = uniform({4, 2}, 9);
  Tensor idx = mlsys::from_vector<int64_t>({3, 0, 3}, {3});
  Tensor rows = eval(embedding(constant(table), constant(idx)));
  ASSERT_EQ(rows.shape(), (Shape{3, 2}));
  EXPECT_EQ(rows.at({0, 1}), table.at({3, 1}));
  EXPECT_EQ(rows.at({1, 0}), table.at({0, 0}));
  Tensor scattered = eval(scatter_add_rows(constant(rows), constant(idx), constant(table)));
  EXPECT_FLOAT_EQ(scattered.at({3, 0}), 2 * table.at({3, 0}));
  EXPECT_FLOAT_EQ(scattered.at({0, 1}), table.at({0, 1}));
  EXPECT_EQ(scattered.at({1, 0}), 0.f);
  NodePtr bad = embedding(constant(table), constant(mlsys::from_vector<int64_t>({4}, {1})));
  EXPECT_TRUE(throws_error_with([&] { eval(bad); }, {"embedding", "index 4"}));
}

TEST(GraphOps, Helpers) {
  Tensor x = uniform({2, 3}, 10);
  NodePtr X = constant(x);
  MLSYS_EXPECT_ALLCLOSE(eval(sum_to_like(X, constant(mlsys::zeros({3})))), mlsys::sum(x, {0}));
  MLSYS_EXPECT_ALLCLOSE(eval(broadcast_to_like(constant(mlsys::ones({3})), X)), mlsys::ones({2, 3}));
  EXPECT_EQ(eval(reshape_like(X, constant(mlsys::zeros({3, 2})))).shape(), (Shape{3, 2}));
  EXPECT_EQ(eval(numel(X)).item(), 6.f);
  EXPECT_EQ(eval(numel(X, {1})).item(), 3.f);
  Tensor oh = eval(one_hot(constant(mlsys::from_vector<int64_t>({2, 0}, {2})), 3));
  MLSYS_EXPECT_ALLCLOSE(oh, mlsys::from_vector<float>({0, 0, 1, 1, 0, 0}, {2, 3}));
  MLSYS_EXPECT_ALLCLOSE(eval(equal(X, X)), mlsys::ones({2, 3}));
  MLSYS_EXPECT_ALLCLOSE(eval(relu_mask(constant(mlsys::from_vector<float>({-1, 0, 2}, {3})))),
                        mlsys::from_vector<float>({0, 0, 1}, {3}));
  MLSYS_EXPECT_ALLCLOSE(eval(zeros_like(X)), mlsys::zeros({2, 3}));
  MLSYS_EXPECT_ALLCLOSE(eval(ones_like(X)), mlsys::ones({2, 3}));
  MLSYS_EXPECT_ALLCLOSE(eval(squeeze(unsqueeze(X, {1}), {1})), x);
}

TEST(GraphOps, HelpersAcceptRunTimeDims) {
  // A -1 dim matches any size when the graph is built, dim by dim: [1, -1] and [-1, 3] are
  // both [1, 3] at run time, so summing one to the other's shape is fine.
  NodePtr p = placeholder("p", {1, -1}), q = placeholder("q", {-1, 3});
  NodePtr s = sum_to_like(p, q);
  EXPECT_EQ(s->shape, (Shape{-1, 3}));
  Tensor pv = mlsys::from_vector<float>({1, 2, 3}, {1, 3});
  MLSYS_EXPECT_ALLCLOSE(eval(s, {{p, pv}, {q, mlsys::zeros({1, 3})}}), pv, 0, 0);
  // broadcast_to_like: like's shape, with its unknown dims taken from x where x knows them.
  NodePtr b = broadcast_to_like(p, q);
  EXPECT_EQ(b->shape, (Shape{-1, 3}));
  MLSYS_EXPECT_ALLCLOSE(eval(b, {{p, pv}, {q, mlsys::zeros({2, 3})}}),
                        mlsys::from_vector<float>({1, 2, 3, 1, 2, 3}, {2, 3}), 0, 0);
  EXPECT_EQ(broadcast_to_like(placeholder("v", {5}), placeholder("m", {-1, -1}))->shape, (Shape{-1, 5}));
  EXPECT_EQ(broadcast_to_like(placeholder("u", {-1}), placeholder("n", {4, 1}))->shape, (Shape{4, 1}));
  // A real reduction: x [2, -1] summed to like [-1, 3], which is [1, 3] at run time.
  NodePtr x = placeholder("x", {2, -1});
  Tensor xv = mlsys::from_vector<float>({1, 2, 3, 10, 20, 30}, {2, 3});
  MLSYS_EXPECT_ALLCLOSE(eval(sum_to_like(x, q), {{x, xv}, {q, mlsys::zeros({1, 3})}}),
                        mlsys::from_vector<float>({11, 22, 33}, {1, 3}), 0, 0);
  // scatter_add_rows: src [-1, 5] against indices [2] and a table [7, -1] (so [2, -1]).
  NodePtr src = placeholder("src", {-1, 5}), idx = placeholder("idx", {2}, DType::Int64);
  NodePtr table = placeholder("table", {7, -1});
  NodePtr sc = scatter_add_rows(src, idx, table);
  EXPECT_EQ(sc->shape, (Shape{7, -1}));
  std::vector<float> sv(10), expect(35, 0.f);
  for (int i = 0; i < 10; ++i) sv[i] = static_cast<float>(i + 1);
  for (int c = 0; c < 5; ++c) expect[3 * 5 + c] = sv[c] + sv[5 + c];  // both rows go to row 3
  MLSYS_EXPECT_ALLCLOSE(eval(sc, {{src, mlsys::from_vector(sv, {2, 5})},
                                  {idx, mlsys::from_vector<int64_t>({3, 3}, {2})},
                                  {table, mlsys::zeros({7, 5})}}),
                        mlsys::from_vector(expect, {7, 5}), 0, 0);
}

TEST(GraphOps, HelpersRejectKnownDimsThatDiffer) {
  // Known dims must still agree; the error names the op, the nodes and the dim.
  EXPECT_TRUE(throws_error_with([] { sum_to_like(placeholder("a", {2, 3}), placeholder("l", {-1, 4})); },
                                {"sum_to_like", "'a'", "'l'", "dim 1: 4 vs 3"}));
  EXPECT_TRUE(throws_error_with(
      [] { broadcast_to_like(placeholder("a", {3, -1}), placeholder("l", {-1, 2, 4})); },
      {"broadcast_to_like", "'a'", "'l'", "dim 1: 3 vs 2"}));
  EXPECT_TRUE(throws_error_with([] { broadcast_to_like(placeholder("a", {3}), placeholder("l", {-1, 1})); },
                                {"broadcast_to_like", "dim 1: 3 vs 1"}));
  EXPECT_TRUE(throws_error_with(
      [] {
        scatter_add_rows(placeholder("src", {-1, 4}), placeholder("i", {2}, DType::Int64),
                         placeholder("t", {7, 5}));
      },
      {"scatter_add_rows", "'src'", "[2, 5]", "dim 1: 4 vs 5"}));
  // And at run time, where the -1 dims get their sizes.
  NodePtr src = placeholder("src", {-1, 5}), idx = placeholder("idx", {-1}, DType::Int64);
  NodePtr sc = scatter_add_rows(src, idx, placeholder("t", {7, 5}));
  EXPECT_TRUE(throws_error_with(
      [&] {
        eval(sc, {{src, mlsys::zeros({3, 5})}, {idx, mlsys::zeros({2}, DType::Int64)},
                  {sc->inputs[2], mlsys::zeros({7, 5})}});
      },
      {"scatter_add_rows", "[2, 5]", "[3, 5]"}));
}

TEST(GraphOps, DropoutMasks) {
  NodePtr x = placeholder("x", {-1});
  NodePtr y = dropout(x, 0.25f, 42);
  Executor ex({y});
  Tensor ones = mlsys::ones({20000});
  Tensor m0 = ex.run({{x, ones}})[0];  // step 0
  Tensor m1 = ex.run({{x, ones}})[0];  // step 1
  Tensor m0_again = ex.run({{x, ones}}, {0, true})[0];
  Tensor eval_mode = ex.run({{x, ones}}, {-1, false})[0];
  std::vector<float> v = m0.to_vector<float>();
  int64_t kept = 0;
  for (float f : v) {
    ASSERT_TRUE(f == 0.f || std::fabs(f - 1.f / 0.75f) < 1e-6) << f;
    kept += f != 0.f;
  }
  EXPECT_NEAR(static_cast<double>(kept) / 20000, 0.75, 0.02);
  MLSYS_EXPECT_ALLCLOSE(m0_again, m0, 0, 0);
  EXPECT_FALSE(mlsys::test::allclose(m1, m0, 0, 0));
  MLSYS_EXPECT_ALLCLOSE(eval_mode, ones, 0, 0);
}

// ============================================================================================
// Executor
// ============================================================================================

TEST(Executor, ComputesEachNodeOnce) {
  int count = 0;
  NodePtr x = placeholder("x", {3});
  NodePtr c = counted(x, &count);
  NodePtr d = c + c;             // c used twice by one node
  NodePtr e = c * d;             // and again by another: a diamond
  Executor ex({e, d, c});        // and requested directly
  std::vector<Tensor> out = ex.run({{x, mlsys::from_vector<float>({1, 2, 3}, {3})}});
  EXPECT_EQ(count, 1);
  MLSYS_EXPECT_ALLCLOSE(out[0], mlsys::from_vector<float>({2, 8, 18}, {3}));
  MLSYS_EXPECT_ALLCLOSE(out[1], mlsys::from_vector<float>({2, 4, 6}, {3}));
  ex.run({{x, mlsys::ones({3})}});
  EXPECT_EQ(count, 2);  // once per run
  EXPECT_EQ(ex.runs(), 2);
}

TEST(Executor, ComputesNothingUnneeded) {
  int needed = 0, unneeded = 0;
  NodePtr x = placeholder("x", {2});
  NodePtr unused_feed = placeholder("unused", {2});
  NodePtr a = counted(x, &needed);
  NodePtr b = counted(x + unused_feed, &unneeded);
  NodePtr both = a + b;
  Executor ex({a * 2.f});
  ex.run({{x, mlsys::ones({2})}});  // no feed for `unused`: not needed
  EXPECT_EQ(needed, 1);
  EXPECT_EQ(unneeded, 0);
  for (const NodePtr& n : ex.schedule()) EXPECT_NE(n, unused_feed);
  (void)both;
}

TEST(Executor, ReuseWithDifferentBatchSizes) {
  NodePtr x = placeholder("x", {-1, 3});
  NodePtr w = variable("w", uniform({3, 2}, 11));
  NodePtr y = relu(matmul(x, w));
  Executor ex({y});
  for (int64_t batch : {4, 1, 7}) {
    Tensor xv = uniform({batch, 3}, 12 + batch);
    MLSYS_EXPECT_ALLCLOSE(ex.run({{x, xv}})[0], mlsys::relu(mlsys::matmul(xv, w->value)), 1e-5, 1e-6);
  }
}

TEST(Executor, SeesVariableUpdatesInPlace) {
  NodePtr w = variable("w", mlsys::ones({2}));
  Executor ex({w * 3.f});
  MLSYS_EXPECT_ALLCLOSE(ex.run()[0], mlsys::full({2}, 3.f));
  w->value.fill_(2.f);
  MLSYS_EXPECT_ALLCLOSE(ex.run()[0], mlsys::full({2}, 6.f));
}

TEST(Executor, OutputsAreContiguous) {
  Tensor a = uniform({2, 3}, 13);
  Tensor out = eval(transpose(constant(a)));
  EXPECT_TRUE(out.is_contiguous());
  MLSYS_EXPECT_ALLCLOSE(out, a.transpose(0, 1).contiguous());
}

TEST(Executor, NonContiguousFeeds) {
  NodePtr x = placeholder("x", {3, 2});
  Tensor xt = uniform({2, 3}, 14).transpose(0, 1);
  MLSYS_EXPECT_ALLCLOSE(eval(sum(x * x, {0}), {{x, xt}}), mlsys::sum(xt * xt, {0}));
}

TEST(Executor, BadFeedsNameThePlaceholder) {
  NodePtr x = placeholder("images", {-1, 4});
  NodePtr y = placeholder("labels", {-1}, DType::Int64);
  NodePtr w = variable("w", mlsys::ones({4, 3}));
  NodePtr loss = softmax_cross_entropy(matmul(x, w), y);
  Executor ex({loss});
  Tensor good_x = mlsys::ones({2, 4});
  Tensor good_y = mlsys::zeros({2}, DType::Int64);
  EXPECT_NO_THROW(ex.run({{x, good_x}, {y, good_y}}));
  EXPECT_TRUE(throws_error_with([&] { ex.run({{x, good_x}}); }, {"missing feed", "'labels'"}));
  EXPECT_TRUE(throws_error_with([&] { ex.run({{x, mlsys::ones({2, 5})}, {y, good_y}}); },
                                {"wrong shape", "'images'", "[2, 5]", "[-1, 4]"}));
  EXPECT_TRUE(throws_error_with([&] { ex.run({{x, mlsys::ones({8})}, {y, good_y}}); },
                                {"wrong shape", "'images'"}));
  EXPECT_TRUE(throws_error_with([&] { ex.run({{x, good_x}, {y, mlsys::zeros({2})}}); },
                                {"wrong dtype", "'labels'", "int64"}));
  EXPECT_TRUE(throws_error_with([&] { ex.run({{x, good_x}, {y, good_y}, {w, good_x}}); },
                                {"'w'", "only placeholders"}));
}

TEST(Executor, RunTimeShapeErrorNamesTheNode) {
  NodePtr a = placeholder("a", {-1, 3});
  NodePtr b = placeholder("b", {-1, 3});
  NodePtr c = add(a, b);
  c->set_name("a_plus_b");
  EXPECT_TRUE(throws_error_with([&] { eval(c, {{a, mlsys::ones({3, 3})}, {b, mlsys::ones({4, 3})}}); },
                                {"'a_plus_b'", "add", "'a'", "'b'", "[3, 3]", "[4, 3]"}));
}

TEST(Executor, CycleBuiltByHand) {
  NodePtr x = placeholder("x", {2});
  NodePtr a = x + x;
  NodePtr b = a * x;
  b->set_name("loop");
  a->inputs[1] = b;  // a = x + b, b = a * x: a cycle
  EXPECT_TRUE(throws_error_with([&] { Executor ex({b}); }, {"cycle"}));
  a->inputs[1] = x;  // break it, so the nodes can be freed
}

TEST(Executor, DeepChain) {
  // 100,000 nodes: planning, running and destroying must not recurse.
  NodePtr x = placeholder("x", {2});
  NodePtr y = x;
  for (int i = 0; i < 100000; ++i) y = (i % 2 == 0) ? y * 2.f : y * 0.5f;
  Executor ex({y});
  EXPECT_EQ(ex.schedule().size(), 100001u);
  MLSYS_EXPECT_ALLCLOSE(ex.run({{x, mlsys::full({2}, 3.f)}})[0], mlsys::full({2}, 3.f));
}

TEST(Executor, LongLivedValuesSurviveSlotReuse) {
  // The run keeps values in slots that later steps reuse once a value's last reader has run.
  // Values read again much later (a[5]), outputs from the middle of the chain (a[10]) and a
  // node read twice by one step (a[30] * a[30]) must keep theirs.
  NodePtr x = placeholder("x", {3});
  std::vector<NodePtr> a{x};
  for (int i = 1; i <= 50; ++i) a.push_back(i % 2 ? a.back() * 1.5f : a.back() + 1.f);
  NodePtr sq = a[30] * a[30];
  NodePtr y = a[50] + a[5] + sq;
  Executor ex({y, a[10], a[5]});
  std::vector<float> xs{0.5f, -1.f, 2.f};
  std::vector<Tensor> out = ex.run({{x, mlsys::from_vector<float>(xs, {3})}});
  for (int j = 0; j < 3; ++j) {
    double v[51];
    v[0] = xs[j];
    for (int i = 1; i <= 50; ++i) v[i] = i % 2 ? v[i - 1] * 1.5 : v[i - 1] + 1.0;
    EXPECT_NEAR(out[0].at({j}), v[50] + v[5] + v[30] * v[30], 1e-4 * std::fabs(v[50] + v[30] * v[30]));
    EXPECT_NEAR(out[1].at({j}), v[10], 1e-4 * std::fabs(v[10]) + 1e-6);
    EXPECT_NEAR(out[2].at({j}), v[5], 1e-5 * std::fabs(v[5]) + 1e-6);
  }
}

namespace {

// An op with any number of inputs: their sum.
class SumOfInputs final : public Op {
 public:
  std::string name() const override { return "sum_of_inputs"; }
  Tensor compute(const std::vector<Tensor>& v, const RunContext&) const override {
    Tensor s = v[0].contiguous();
    for (size_t i = 1; i < v.size(); ++i) s = s + v[i];
    return s;
  }
  std::vector<NodePtr> gradient(const NodePtr& node, const NodePtr& g) const override {
    return std::vector<NodePtr>(node->inputs.size(), g);
  }
};

}  // namespace

TEST(Executor, WideNodeWithRepeatedInputs) {
  // One node with 50,000 inputs: x 10,000 times, and 20,000 distinct nodes d_j = x + (j % 7)
  // twice each, far apart. Every repeated read is a copy, the last read of a value moves it
  // out, and d_0 and d_1 stay alive for a later node. All partial sums are integers below
  // 2^24, so float addition is exact and the expected value is a closed form.
  const int M = 20000;
  NodePtr x = placeholder("x", {2});
  std::vector<NodePtr> d;
  for (int j = 0; j < M; ++j) d.push_back(x + static_cast<float>(j % 7));
  std::vector<NodePtr> ins;
  for (int i = 0; i < 2 * M; ++i) {
    ins.push_back(d[i % M]);
    if (i % 4 == 0) ins.push_back(x);
  }
  NodePtr wide = make_node(std::make_shared<SumOfInputs>(), ins);
  ASSERT_EQ(wide->inputs.size(), 50000u);
  NodePtr later = wide + d[0] * d[1];
  Executor ex({later, wide});
  std::vector<float> xs{1.f, -2.f};
  std::vector<Tensor> out = ex.run({{x, mlsys::from_vector(xs, {2})}});
  double sum_mod7 = 0;
  for (int j = 0; j < M; ++j) sum_mod7 += j % 7;
  for (int c = 0; c < 2; ++c) {
    const double w = (M / 2) * xs[c] + 2 * (M * xs[c] + sum_mod7);  // x 10,000 times, d_j twice
    EXPECT_EQ(out[1].at({c}), w);
    EXPECT_EQ(out[0].at({c}), w + xs[c] * (xs[c] + 1.0));
  }
}

TEST(Graph, NodesMadeAndDroppedOnOtherThreads) {
  // Nodes come from per-thread pools: a node built on one thread may be used and destroyed
  // on another, and a thread that ends hands its free blocks back. Build graphs on worker
  // threads, run them on this one after the workers have ended, then drop them here; and
  // drop nodes built here on a worker.
  NodePtr x = placeholder("x", {2});
  std::vector<NodePtr> built(4);
  std::vector<std::thread> workers;
  for (int t = 0; t < 4; ++t)
    workers.emplace_back([&, t] {
      NodePtr y = x;
      for (int i = 0; i < 5000; ++i) y = y * 1.f;  // thousands of nodes: several pool refills
      built[t] = y + static_cast<float>(t);
    });
  for (std::thread& w : workers) w.join();
  for (int t = 0; t < 4; ++t) {
    Executor ex({built[t]});
    MLSYS_EXPECT_ALLCLOSE(ex.run({{x, mlsys::full({2}, 2.f)}})[0], mlsys::full({2}, 2.f + t));
  }
  built.clear();  // freed on this thread
  NodePtr here = x;
  for (int i = 0; i < 5000; ++i) here = here + 0.f;
  std::thread([moved = std::move(here)]() mutable { moved.reset(); }).join();  // freed there
  NodePtr again = x * 3.f;  // this thread's pool still works
  MLSYS_EXPECT_ALLCLOSE(Executor({again}).run({{x, mlsys::ones({2})}})[0], mlsys::full({2}, 3.f));
}

// ============================================================================================
// The small-stack runner of the deep tests (pa1_test_util.h)
// ============================================================================================

namespace {

// The recursive definition of the DFS post-order: one call per node of the longest path.
void visit_recursively(const NodePtr& n, std::unordered_set<const Node*>& done, std::vector<NodePtr>& order) {
  if (!done.insert(n.get()).second) return;
  for (const NodePtr& in : n->inputs) visit_recursively(in, done, order);
  order.push_back(n);
}

}  // namespace

TEST(SmallStack, ReturnsValuesAndRethrows) {
  EXPECT_EQ(pa1::test::on_small_stack("a lambda", [] { return 42; }), 42);
  EXPECT_THROW(pa1::test::on_small_stack("a lambda", []() -> int { throw mlsys::Error("boom"); }),
               mlsys::Error);
  // A recursion over a short chain fits.
  NodePtr x = placeholder("x", {1});
  NodePtr y = x;
  for (int i = 0; i < 100; ++i) y = y + 1.f;
  std::unordered_set<const Node*> done;
  std::vector<NodePtr> visited;
  pa1::test::on_small_stack("visit_recursively", [&] { visit_recursively(y, done, visited); });
  EXPECT_EQ(visited.size(), 101u);
}

TEST(SmallStackDeathTest, DeepRecursionDiesWithAMessage) {
  // What a recursive topological_sort does in the deep tests: it overflows the 256 KiB stack,
  // and the process dies (SIGSEGV) after printing why. (Under AddressSanitizer, ASan reports
  // the overflow itself.)
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  const char* expected = pa1::test::detail::kAsan ? "AddressSanitizer: stack-overflow"
                                                  : "stack overflow.*visit_recursively";
  NodePtr x = placeholder("x", {1});
  NodePtr y = x;
  for (int i = 0; i < 100000; ++i) y = y + 1.f;
  EXPECT_DEATH(
      {
        std::unordered_set<const Node*> done;
        std::vector<NodePtr> visited;
        pa1::test::on_small_stack("visit_recursively", [&] { visit_recursively(y, done, visited); });
      },
      expected);
}

// ============================================================================================
// Initializers, MLP builder, data helpers
// ============================================================================================

TEST(Init, BoundsAndDeterminism) {
  Tensor w = xavier_uniform({64, 32}, 7);
  const double bound = std::sqrt(6.0 / (64 + 32));
  EXPECT_LE(mlsys::max(mlsys::abs(w)).item(), bound);
  EXPECT_GT(mlsys::max(mlsys::abs(w)).item(), 0.9 * bound);
  MLSYS_EXPECT_ALLCLOSE(xavier_uniform({64, 32}, 7), w, 0, 0);
  EXPECT_FALSE(mlsys::test::allclose(xavier_uniform({64, 32}, 8), w));
  Tensor h = he_normal({400, 300}, 1);
  double var = mlsys::mean(h * h).item();
  EXPECT_NEAR(var, 2.0 / 400, 0.1 * 2.0 / 400);
  EXPECT_LE(mlsys::max(mlsys::abs(he_uniform({50, 10}, 2))).item(), std::sqrt(6.0 / 50));
  EXPECT_NEAR(mlsys::mean(xavier_normal({300, 300}, 3) * xavier_normal({300, 300}, 3)).item(),
              2.0 / 600, 0.1 * 2.0 / 600);
}

TEST(Mlp, BuilderShapes) {
  Model m = build_mlp({64, 32, 16, 10}, 0);
  ASSERT_EQ(m.params.size(), 6u);
  EXPECT_EQ(m.x->shape, (Shape{-1, 64}));
  EXPECT_EQ(m.logits->shape, (Shape{-1, 10}));
  EXPECT_EQ(m.params[0]->name(), "W1");
  EXPECT_EQ(m.params[0]->value.shape(), (Shape{64, 32}));
  EXPECT_EQ(m.params[5]->name(), "b3");
  EXPECT_EQ(m.params[5]->value.shape(), (Shape{10}));
  Tensor logits = eval(m.logits, {{m.x, uniform({5, 64}, 1)}});
  EXPECT_EQ(logits.shape(), (Shape{5, 10}));
}

TEST(Mlp, TakeRows) {
  Tensor t = mlsys::arange(0, 12).reshape({4, 3});
  MLSYS_EXPECT_ALLCLOSE(take_rows(t, {3, 0, 3}), mlsys::from_vector<float>({9, 10, 11, 0, 1, 2, 9, 10, 11}, {3, 3}));
  Tensor l = mlsys::from_vector<int64_t>({5, 6, 7}, {3});
  EXPECT_EQ(take_rows(l, {2, 1}).to_vector<int64_t>(), (std::vector<int64_t>{7, 6}));
}
