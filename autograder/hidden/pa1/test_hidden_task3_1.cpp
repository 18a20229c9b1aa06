// PA1 hidden tests, Task 3.1: SGD against a double-precision reference over many steps, with
// strided gradients, zero learning rate and independent per-parameter state.
#include "hidden_util.h"

using namespace pa1;
using pa1::test::uniform;

namespace {

void reference_sgd(std::vector<double>& w, std::vector<double>& v, const std::vector<double>& g,
                   double lr, double momentum, double wd) {
  for (size_t i = 0; i < w.size(); ++i) {
    double d = g[i] + wd * w[i];
    v[i] = momentum * v[i] + d;
    w[i] -= lr * v[i];
  }
}

}  // namespace

TEST(Task3_1_Hidden, TwentyStepsAgainstReference) {
  NodePtr a = variable("a", uniform({4, 3}, 1)), b = variable("b", uniform({3}, 2));
  SGD opt({a, b}, 0.05f, 0.8f, 0.01f);
  std::vector<double> wa = a->value.to_vector<double>(), wb = b->value.to_vector<double>();
  std::vector<double> va(wa.size()), vb(wb.size());
  for (int t = 0; t < 20; ++t) {
    Tensor ga = uniform({3, 4}, 100 + t).transpose(0, 1);  // a strided gradient
    Tensor gb = uniform({3}, 200 + t);
    opt.step({ga, gb});
    reference_sgd(wa, va, ga.to_vector<double>(), 0.05, 0.8, 0.01);
    reference_sgd(wb, vb, gb.to_vector<double>(), 0.05, 0.8, 0.01);
  }
  MLSYS_EXPECT_ALLCLOSE(a->value, mlsys::from_vector(std::vector<float>(wa.begin(), wa.end()), {4, 3}), 1e-4, 1e-5);
  MLSYS_EXPECT_ALLCLOSE(b->value, mlsys::from_vector(std::vector<float>(wb.begin(), wb.end()), {3}), 1e-4, 1e-5);
  EXPECT_TRUE(a->value.is_contiguous());
}

TEST(Task3_1_Hidden, ZeroLearningRateAccumulatesVelocityOnly) {
  NodePtr w = variable("w", mlsys::from_vector<float>({1, 2}, {2}));
  SGD opt({w}, 0.f, 0.9f);
  opt.step({mlsys::ones({2})});
  opt.step({mlsys::ones({2})});
  MLSYS_EXPECT_ALLCLOSE(w->value, mlsys::from_vector<float>({1, 2}, {2}), 0, 0);
  opt.lr = 1.f;  // v = 0.9 * 1.9 + 1 = 2.71
  opt.step({mlsys::ones({2})});
  MLSYS_EXPECT_ALLCLOSE(w->value, mlsys::from_vector<float>({1 - 2.71f, 2 - 2.71f}, {2}), 1e-5, 1e-6);
}

TEST(Task3_1_Hidden, ZeroDimParameter) {
  NodePtr s = variable("s", mlsys::scalar(3.f));
  SGD opt({s}, 0.5f, 0.f, 1.f);
  opt.step({mlsys::scalar(1.f)});  // g = 1 + 3 = 4; s = 3 - 2
  EXPECT_FLOAT_EQ(s->value.item(), 1.f);
  mlsys::test::record_value("s", s->value.item(), 4 * 1.1920929e-7, 0);  // 4 ulp, as EXPECT_FLOAT_EQ
}

TEST(Task3_1_Hidden, StridedParameter) {
  // A variable whose value is a transposed view: updated in place, through the view.
  Tensor base = uniform({3, 2}, 5);
  NodePtr w = variable("w", base.transpose(0, 1));  // [2, 3], strided
  std::vector<double> wr = w->value.to_vector<double>(), vr(wr.size());
  SGD opt({w}, 0.1f, 0.5f, 0.2f);
  for (int t = 0; t < 3; ++t) {
    Tensor g = uniform({2, 3}, 60 + t);
    opt.step({g});
    reference_sgd(wr, vr, g.to_vector<double>(), 0.1, 0.5, 0.2);
  }
  MLSYS_EXPECT_ALLCLOSE(w->value, mlsys::from_vector(std::vector<float>(wr.begin(), wr.end()), {2, 3}), 1e-5, 1e-6);
  MLSYS_EXPECT_ALLCLOSE(base.transpose(0, 1), w->value, 0, 0);  // same storage
}
