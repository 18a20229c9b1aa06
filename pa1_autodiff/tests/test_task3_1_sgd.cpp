// PA1 Task 3.1 — SGD with momentum and weight decay (src/optim.cpp). Expected values are the
// update rule of pa1/optim.h worked out by hand, step by step, in the comments.
#include "pa1_test_util.h"

using namespace pa1;

namespace {

Tensor vec(std::vector<float> v) {
  const int64_t n = static_cast<int64_t>(v.size());
  return mlsys::from_vector(v, {n});
}

}  // namespace

TEST(Task3_1_SGD, Plain) {
  NodePtr w = variable("w", vec({1, -2}));
  SGD opt({w}, 0.1f);
  opt.step({vec({0.5f, 1})});   // w = [1 - 0.05, -2 - 0.1]
  MLSYS_EXPECT_ALLCLOSE(w->value, vec({0.95f, -2.1f}));
  opt.step({vec({-1, 2})});     // w = [0.95 + 0.1, -2.1 - 0.2]
  MLSYS_EXPECT_ALLCLOSE(w->value, vec({1.05f, -2.3f}));
  EXPECT_EQ(opt.steps(), 2);
}

TEST(Task3_1_SGD, Momentum) {
  NodePtr w = variable("w", vec({1, -2}));
  SGD opt({w}, 0.1f, 0.9f);
  opt.step({vec({0.5f, 1})});   // v = [0.5, 1];                       w = [0.95, -2.1]
  MLSYS_EXPECT_ALLCLOSE(w->value, vec({0.95f, -2.1f}));
  opt.step({vec({-1, 2})});     // v = 0.9 [0.5, 1] + [-1, 2] = [-0.55, 2.9]; w = [1.005, -2.39]
  MLSYS_EXPECT_ALLCLOSE(w->value, vec({1.005f, -2.39f}));
  opt.step({vec({0, 0})});      // v = [-0.495, 2.61];                 w = [1.0545, -2.651]
  MLSYS_EXPECT_ALLCLOSE(w->value, vec({1.0545f, -2.651f}));
}

TEST(Task3_1_SGD, WeightDecayAndMomentum) {
  NodePtr w = variable("w", vec({2}));
  SGD opt({w}, 0.2f, 0.5f, 0.1f);
  opt.step({vec({1})});     // g = 1 + 0.1*2 = 1.2;          v = 1.2;                 w = 2 - 0.24 = 1.76
  MLSYS_EXPECT_ALLCLOSE(w->value, vec({1.76f}));
  opt.step({vec({-1})});    // g = -1 + 0.176 = -0.824;      v = 0.6 - 0.824 = -0.224; w = 1.8048
  MLSYS_EXPECT_ALLCLOSE(w->value, vec({1.8048f}));
  opt.step({vec({0.5f})});  // g = 0.5 + 0.18048 = 0.68048;  v = 0.56848;             w = 1.691104
  MLSYS_EXPECT_ALLCLOSE(w->value, vec({1.691104f}));
}

TEST(Task3_1_SGD, WeightDecayWithoutMomentum) {
  NodePtr w = variable("w", vec({1, 4}));
  SGD opt({w}, 0.5f, 0.f, 0.5f);
  opt.step({vec({0, 1})});  // g = [0.5, 1 + 2] = [0.5, 3]; w = [1 - 0.25, 4 - 1.5]
  MLSYS_EXPECT_ALLCLOSE(w->value, vec({0.75f, 2.5f}));
}

TEST(Task3_1_SGD, SeveralParametersInPlace) {
  // Each parameter gets its own velocity; values change in place, so an alias of the tensor
  // and every executor reading the variable see the update.
  NodePtr a = variable("a", mlsys::from_vector<float>({1, 2, 3, 4}, {2, 2}));
  NodePtr b = variable("b", vec({10}));
  Tensor alias = a->value;
  Executor ex({a * 1.f});
  SGD opt({a, b}, 1.f, 0.5f);
  opt.step({mlsys::full({2, 2}, 1.f), vec({-2})});  // a -= 1; b += 2
  opt.step({mlsys::full({2, 2}, 1.f), vec({0})});   // v_a = 1.5: a -= 1.5; v_b = -1: b += 1
  Tensor expect_a = mlsys::from_vector<float>({-1.5f, -0.5f, 0.5f, 1.5f}, {2, 2});
  MLSYS_EXPECT_ALLCLOSE(a->value, expect_a);
  MLSYS_EXPECT_ALLCLOSE(alias, expect_a);
  MLSYS_EXPECT_ALLCLOSE(ex.run()[0], expect_a);
  MLSYS_EXPECT_ALLCLOSE(b->value, vec({13}));
}

TEST(Task3_1_SGD, LearningRateCanChange) {
  NodePtr w = variable("w", vec({0}));
  SGD opt({w}, 1.f);
  opt.step({vec({1})});
  opt.lr = 0.5f;
  opt.step({vec({1})});
  MLSYS_EXPECT_ALLCLOSE(w->value, vec({-1.5f}));
}
