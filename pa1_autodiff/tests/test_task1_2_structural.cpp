// PA1 Task 1.2 — gradients of matmul, the shape ops and the reductions
// (src/grad_structural.cpp). Finite-difference checks of one op at a time (pa1_test_util.h).
#include "pa1_test_util.h"

using namespace pa1;
using pa1::test::check_op_gradient;
using pa1::test::GradCheckOptions;
using pa1::test::uniform;

namespace {

void check_matmul(const Shape& sa, const Shape& sb, bool ta, bool tb, uint64_t seed) {
  SCOPED_TRACE("a " + mlsys::to_string(sa) + (ta ? "^T" : "") + ", b " + mlsys::to_string(sb) +
               (tb ? "^T" : ""));
  EXPECT_TRUE(check_op_gradient([ta, tb](auto& in) { return matmul(in[0], in[1], ta, tb); },
                                {uniform(sa, seed), uniform(sb, seed + 1)}));
}

}  // namespace

TEST(Task1_2_Matmul, Plain) { check_matmul({3, 4}, {4, 5}, false, false, 1); }
TEST(Task1_2_Matmul, TransA) { check_matmul({4, 3}, {4, 5}, true, false, 2); }
TEST(Task1_2_Matmul, TransB) { check_matmul({3, 4}, {5, 4}, false, true, 3); }
TEST(Task1_2_Matmul, TransBoth) { check_matmul({4, 3}, {5, 4}, true, true, 4); }

TEST(Task1_2_Matmul, SizeOneDims) {
  check_matmul({1, 4}, {4, 1}, false, false, 5);   // M = N = 1
  check_matmul({3, 1}, {1, 2}, false, false, 6);   // K = 1
  check_matmul({1, 3}, {2, 1}, true, true, 7);
}

TEST(Task1_2_Matmul, Batched) {
  check_matmul({2, 3, 4}, {2, 4, 5}, false, false, 8);
  check_matmul({2, 4, 3}, {2, 5, 4}, true, true, 9);
}

TEST(Task1_2_Matmul, BroadcastBatch) {
  check_matmul({3, 4}, {2, 4, 5}, false, false, 10);       // a shared by the batch
  check_matmul({2, 3, 4}, {4, 5}, false, false, 11);       // b shared by the batch
  check_matmul({2, 1, 3, 4}, {3, 4, 5}, false, false, 12); // both broadcast
  check_matmul({1, 4, 3}, {2, 5, 4}, true, true, 13);
}

TEST(Task1_2_Matmul, RunTimeBatch) {
  GradCheckOptions opt;
  opt.static_shapes = {{-1, 4}, {4, 3}};
  EXPECT_TRUE(check_op_gradient([](auto& in) { return matmul(in[0], in[1]); },
                                {uniform({5, 4}, 14), uniform({4, 3}, 15)}, opt));
}

TEST(Task1_2_Matmul, RunTimeShapesWithAConcreteSeed) {
  // a [-1, -1] @ b [3, -1], differentiated with a seed whose shape is known ([1, 1]): the
  // gradients mix known and run-time dims, and sum_to_like must accept them dim by dim.
  // With a = [[1, 2, 3]] and b = [[4], [5], [6]] at run time: dL/da = G b^T, dL/db = a^T G.
  NodePtr a = placeholder("a", {-1, -1}), b = placeholder("b", {3, -1});
  NodePtr y = matmul(a, b);
  std::vector<NodePtr> g = y->op->gradient(y, constant(mlsys::ones({1, 1})));
  ASSERT_EQ(g.size(), 2u);
  FeedDict feeds{{a, mlsys::from_vector<float>({1, 2, 3}, {1, 3})},
                 {b, mlsys::from_vector<float>({4, 5, 6}, {3, 1})}};
  MLSYS_EXPECT_ALLCLOSE(pa1::test::eval(g[0], feeds), mlsys::from_vector<float>({4, 5, 6}, {1, 3}), 0, 0);
  MLSYS_EXPECT_ALLCLOSE(pa1::test::eval(g[1], feeds), mlsys::from_vector<float>({1, 2, 3}, {3, 1}), 0, 0);
}

TEST(Task1_2_Shape, Permute) {
  EXPECT_TRUE(check_op_gradient([](auto& in) { return permute(in[0], {2, 0, 1}); }, {uniform({2, 3, 4}, 20)}));
  EXPECT_TRUE(check_op_gradient([](auto& in) { return permute(in[0], {1, 2, 0, 3}); },
                                {uniform({2, 1, 3, 2}, 21)}));
}

TEST(Task1_2_Shape, Transpose) {
  EXPECT_TRUE(check_op_gradient([](auto& in) { return transpose(in[0]); }, {uniform({3, 5}, 22)}));
  EXPECT_TRUE(check_op_gradient([](auto& in) { return transpose(in[0], 0, 2); }, {uniform({2, 3, 4}, 23)}));
}

TEST(Task1_2_Shape, Reshape) {
  EXPECT_TRUE(check_op_gradient([](auto& in) { return reshape(in[0], {6, 4}); }, {uniform({2, 3, 4}, 24)}));
  EXPECT_TRUE(check_op_gradient([](auto& in) { return reshape(in[0], {-1}); }, {uniform({3, 2}, 25)}));
  EXPECT_TRUE(check_op_gradient([](auto& in) { return reshape(in[0], {1, 1}); }, {uniform({}, 26)}));
  // A strided input, and a batch dim known only at run time.
  EXPECT_TRUE(check_op_gradient([](auto& in) { return reshape(in[0], {12}); },
                                {uniform({4, 3}, 27).transpose(0, 1)}));
  GradCheckOptions opt;
  opt.static_shapes = {{-1, 2, 3}};
  EXPECT_TRUE(check_op_gradient([](auto& in) { return reshape(in[0], {-1, 6}); }, {uniform({4, 2, 3}, 28)}, opt));
}

TEST(Task1_2_Shape, BroadcastTo) {
  EXPECT_TRUE(check_op_gradient([](auto& in) { return broadcast_to(in[0], {2, 3, 4}); }, {uniform({3, 1}, 30)}));
  EXPECT_TRUE(check_op_gradient([](auto& in) { return broadcast_to(in[0], {5}); }, {uniform({1}, 31)}));
  EXPECT_TRUE(check_op_gradient([](auto& in) { return broadcast_to(in[0], {2, 2}); }, {uniform({}, 32)}));
}

TEST(Task1_2_Reduce, Sum) {
  const Tensor x = uniform({2, 3, 4}, 40);
  for (bool keep : {false, true}) {
    SCOPED_TRACE(keep ? "keepdims" : "no keepdims");
    EXPECT_TRUE(check_op_gradient([keep](auto& in) { return sum(in[0], {}, keep); }, {x}));
    EXPECT_TRUE(check_op_gradient([keep](auto& in) { return sum(in[0], {0}, keep); }, {x}));
    EXPECT_TRUE(check_op_gradient([keep](auto& in) { return sum(in[0], {-1}, keep); }, {x}));
    EXPECT_TRUE(check_op_gradient([keep](auto& in) { return sum(in[0], {2, 0}, keep); }, {x}));
  }
  EXPECT_TRUE(check_op_gradient([](auto& in) { return sum(in[0]); }, {uniform({}, 41)}));
  EXPECT_TRUE(check_op_gradient([](auto& in) { return sum(in[0], {1}); }, {uniform({3, 1}, 42)}));
}

TEST(Task1_2_Reduce, Mean) {
  const Tensor x = uniform({2, 3, 4}, 43);
  for (bool keep : {false, true}) {
    SCOPED_TRACE(keep ? "keepdims" : "no keepdims");
    EXPECT_TRUE(check_op_gradient([keep](auto& in) { return mean(in[0], {}, keep); }, {x}));
    EXPECT_TRUE(check_op_gradient([keep](auto& in) { return mean(in[0], {1}, keep); }, {x}));
    EXPECT_TRUE(check_op_gradient([keep](auto& in) { return mean(in[0], {0, -1}, keep); }, {x}));
  }
  GradCheckOptions opt;  // the count is only known at run time
  opt.static_shapes = {{-1, 3}};
  EXPECT_TRUE(check_op_gradient([](auto& in) { return mean(in[0], {0}); }, {uniform({5, 3}, 44)}, opt));
  EXPECT_TRUE(check_op_gradient([](auto& in) { return mean(in[0]); }, {uniform({5, 3}, 45)}, opt));
}

TEST(Task1_2_Reduce, Max) {
  // Random values: no ties, every difference far above the finite-difference step.
  const Tensor x = uniform({3, 4, 5}, 46);
  for (bool keep : {false, true}) {
    SCOPED_TRACE(keep ? "keepdims" : "no keepdims");
    EXPECT_TRUE(check_op_gradient([keep](auto& in) { return max(in[0], 0, keep); }, {x}));
    EXPECT_TRUE(check_op_gradient([keep](auto& in) { return max(in[0], 1, keep); }, {x}));
    EXPECT_TRUE(check_op_gradient([keep](auto& in) { return max(in[0], -1, keep); }, {x}));
  }
  EXPECT_TRUE(check_op_gradient([](auto& in) { return max(in[0], 0); }, {uniform({7}, 47)}));
}
