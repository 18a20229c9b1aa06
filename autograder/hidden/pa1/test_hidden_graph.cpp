// PA1 hidden tests of the staff machinery (label graph): executor reuse with different feeds,
// bad inputs.
#include "hidden_util.h"

using namespace pa1;
using pa1::test::throws_error_with;
using pa1::test::uniform;

TEST(Graph_Hidden, ExecutorReuseAcrossFeeds) {
  NodePtr x = placeholder("x", {-1, -1});
  NodePtr y = sum(pa1::exp(x), {1});
  Executor ex({y});
  for (int64_t r : {1, 5, 2})
    for (int64_t c : {3, 1}) {
      Tensor xv = uniform({r, c}, 10 * r + c);
      MLSYS_EXPECT_ALLCLOSE(ex.run({{x, xv}})[0], mlsys::sum(mlsys::exp(xv), {1}));
    }
  EXPECT_EQ(ex.runs(), 6);
}

TEST(Graph_Hidden, BadInputs) {
  NodePtr x = placeholder("pixels", {-1, 4});
  NodePtr w = variable("weights", mlsys::ones({4, 2}));
  Executor ex({matmul(x, w)});
  EXPECT_TRUE(throws_error_with([&] { ex.run(); }, {"missing feed", "'pixels'"}));
  EXPECT_TRUE(throws_error_with([&] { ex.run({{x, mlsys::ones({3, 4, 1})}}); }, {"wrong shape", "'pixels'"}));
  EXPECT_TRUE(throws_error_with([&] { ex.run({{x, mlsys::zeros({3, 4}, DType::Int32)}}); }, {"wrong dtype", "'pixels'"}));
  EXPECT_TRUE(throws_error_with([&] { ex.run({{x, Tensor()}}); }, {"'pixels'", "undefined"}));
  EXPECT_TRUE(throws_error_with([&] { matmul(x, placeholder("bad", {3, 2})); }, {"matmul", "'pixels'", "'bad'"}));
  EXPECT_TRUE(throws_error_with([&] { Executor({nullptr}); }, {"null"}));
  NodePtr a = placeholder("a", {-1});
  NodePtr b = placeholder("b", {-1});
  NodePtr c = a * b;
  c->set_name("product");
  EXPECT_TRUE(throws_error_with([&] { Executor({c}).run({{a, mlsys::ones({2})}, {b, mlsys::ones({3})}}); },
                                {"'product'", "mul"}));
}
