// PA1 hidden tests, Task 3.2: Adam/AdamW against a double-precision reference over many
// steps (bias correction fading out), unusual hyperparameters, strided gradients.
#include <cmath>

#include "hidden_util.h"

using namespace pa1;
using pa1::test::uniform;

namespace {

struct Ref {
  double lr, b1, b2, eps, wd;
  bool decoupled;
  std::vector<double> m, v;
  int t = 0;
  void step(std::vector<double>& w, const std::vector<double>& grad) {
    if (m.empty()) m.assign(w.size(), 0), v.assign(w.size(), 0);
    ++t;
    for (size_t i = 0; i < w.size(); ++i) {
      double g = grad[i];
      if (decoupled) w[i] *= 1 - lr * wd;
      else g += wd * w[i];
      m[i] = b1 * m[i] + (1 - b1) * g;
      v[i] = b2 * v[i] + (1 - b2) * g * g;
      w[i] -= lr * (m[i] / (1 - std::pow(b1, t))) / (std::sqrt(v[i] / (1 - std::pow(b2, t))) + eps);
    }
  }
};

void run(float lr, float b1, float b2, float eps, float wd, bool decoupled, int steps) {
  NodePtr w = variable("w", uniform({3, 5}, 1));
  Adam opt({w}, lr, b1, b2, eps, wd, decoupled);
  Ref ref{lr, b1, b2, eps, wd, decoupled, {}, {}};
  std::vector<double> wr = w->value.to_vector<double>();
  for (int t = 0; t < steps; ++t) {
    Tensor g = uniform({5, 3}, 50 + t, -0.5f, 1.f).transpose(0, 1);
    opt.step({g});
    ref.step(wr, g.to_vector<double>());
  }
  MLSYS_EXPECT_ALLCLOSE(w->value, mlsys::from_vector(std::vector<float>(wr.begin(), wr.end()), {3, 5}), 1e-4, 1e-5);
}

}  // namespace

TEST(Task3_2_Hidden, HundredSteps) { run(1e-2f, 0.9f, 0.999f, 1e-8f, 0.f, false, 100); }
TEST(Task3_2_Hidden, NoFirstMoment) { run(1e-2f, 0.f, 0.99f, 1e-8f, 0.f, false, 10); }
TEST(Task3_2_Hidden, LargeEps) { run(1e-1f, 0.5f, 0.9f, 1.f, 0.f, false, 10); }
TEST(Task3_2_Hidden, L2DecayManySteps) { run(1e-2f, 0.9f, 0.999f, 1e-8f, 0.05f, false, 30); }
TEST(Task3_2_Hidden, AdamWManySteps) { run(1e-2f, 0.9f, 0.999f, 1e-8f, 0.05f, true, 30); }

TEST(Task3_2_Hidden, StepCountIsPerOptimizer) {
  // Two optimizers on two parameters, stepped a different number of times: each keeps its
  // own t (bias correction) and moments.
  NodePtr a = variable("a", mlsys::ones({2})), b = variable("b", mlsys::ones({2}));
  Adam oa({a}, 0.1f), ob({b}, 0.1f);
  for (int i = 0; i < 3; ++i) oa.step({mlsys::full({2}, 0.5f)});
  ob.step({mlsys::full({2}, 0.5f)});
  // A constant gradient keeps m_hat / sqrt(v_hat) = 1: each step moves by lr (up to eps).
  MLSYS_EXPECT_ALLCLOSE(a->value, mlsys::full({2}, 0.7f), 1e-5, 1e-5);
  MLSYS_EXPECT_ALLCLOSE(b->value, mlsys::full({2}, 0.9f), 1e-5, 1e-5);
  EXPECT_EQ(oa.steps(), 3);
}

TEST(Task3_2_Hidden, StridedParameter) {
  for (bool decoupled : {false, true}) {
    Tensor base = uniform({4, 2}, 7);
    NodePtr w = variable("w", base.transpose(0, 1));  // [2, 4], strided
    Adam opt({w}, 0.05f, 0.9f, 0.99f, 1e-6f, 0.1f, decoupled);
    Ref ref{0.05, 0.9, 0.99, 1e-6, 0.1, decoupled, {}, {}};
    std::vector<double> wr = w->value.to_vector<double>();
    for (int t = 0; t < 4; ++t) {
      Tensor g = uniform({2, 4}, 70 + t);
      opt.step({g});
      ref.step(wr, g.to_vector<double>());
    }
    MLSYS_EXPECT_ALLCLOSE(w->value, mlsys::from_vector(std::vector<float>(wr.begin(), wr.end()), {2, 4}), 1e-4, 1e-5);
    MLSYS_EXPECT_ALLCLOSE(base.transpose(0, 1), w->value, 0, 0);
  }
}
