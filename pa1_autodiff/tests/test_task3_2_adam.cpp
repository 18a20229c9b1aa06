// PA1 Task 3.2 — Adam and AdamW (src/optim.cpp). The reference is the update rule of
// pa1/optim.h written out below in double precision, one scalar at a time, plus first-step
// values worked out by hand.
#include <cmath>

#include "pa1_test_util.h"

using namespace pa1;
using pa1::test::uniform;

namespace {

Tensor vec(std::vector<float> v) {
  const int64_t n = static_cast<int64_t>(v.size());
  return mlsys::from_vector(v, {n});
}

// Adam / AdamW on a list of scalars, in double.
struct RefAdam {
  double lr, b1, b2, eps, wd;
  bool decoupled;
  std::vector<double> m, v;
  int t = 0;
  void step(std::vector<double>& w, const std::vector<double>& grad) {
    if (m.empty()) m.assign(w.size(), 0.0), v.assign(w.size(), 0.0);
    ++t;
    for (size_t i = 0; i < w.size(); ++i) {
      double g = grad[i];
      if (wd != 0 && decoupled) w[i] *= 1 - lr * wd;
      if (wd != 0 && !decoupled) g += wd * w[i];
      m[i] = b1 * m[i] + (1 - b1) * g;
      v[i] = b2 * v[i] + (1 - b2) * g * g;
      const double m_hat = m[i] / (1 - std::pow(b1, t)), v_hat = v[i] / (1 - std::pow(b2, t));
      w[i] -= lr * m_hat / (std::sqrt(v_hat) + eps);
    }
  }
};

void check_against_reference(float wd, bool decoupled) {
  NodePtr a = variable("a", uniform({3, 4}, 1));
  NodePtr b = variable("b", uniform({4}, 2));
  Adam opt({a, b}, 0.05f, 0.8f, 0.95f, 1e-6f, wd, decoupled);
  RefAdam ra{0.05, 0.8, 0.95, 1e-6, wd, decoupled, {}, {}};
  RefAdam rb = ra;
  std::vector<double> wa = a->value.to_vector<double>(), wb = b->value.to_vector<double>();
  for (int step = 0; step < 3; ++step) {
    Tensor ga = uniform({3, 4}, 10 + step), gb = uniform({4}, 20 + step);
    opt.step({ga, gb});
    ra.step(wa, ga.to_vector<double>());
    rb.step(wb, gb.to_vector<double>());
    SCOPED_TRACE("step " + std::to_string(step + 1));
    MLSYS_EXPECT_ALLCLOSE(a->value, mlsys::from_vector(std::vector<float>(wa.begin(), wa.end()), {3, 4}), 1e-5, 1e-6);
    MLSYS_EXPECT_ALLCLOSE(b->value, mlsys::from_vector(std::vector<float>(wb.begin(), wb.end()), {4}), 1e-5, 1e-6);
  }
}

}  // namespace

TEST(Task3_2_Adam, FirstStepMovesByLr) {
  // Step 1: m_hat = g, v_hat = g^2, so w moves by lr * g / (|g| + eps) = lr * sign(g).
  NodePtr w = variable("w", vec({1, 1, 1}));
  Adam opt({w}, 0.1f);
  opt.step({vec({0.5f, -3, 1e-3f})});
  MLSYS_EXPECT_ALLCLOSE(w->value, vec({0.9f, 1.1f, 0.9f}), 1e-5, 1e-5);
}

TEST(Task3_2_Adam, SecondStepByHand) {
  // w = 1, lr 0.1, betas 0.9 / 0.999. g1 = 0.5: w = 0.9 (see above).
  // g2 = -1: m = 0.9 * 0.05 - 0.1 = -0.055, v = 0.999 * 0.00025 + 0.001 = 0.00124975
  //          m_hat = -0.055 / 0.19 = -0.28947368, v_hat = 0.00124975 / 0.001999 = 0.62518759
  //          w = 0.9 + 0.1 * 0.28947368 / 0.79068805 = 0.93661006
  NodePtr w = variable("w", vec({1}));
  Adam opt({w}, 0.1f);
  opt.step({vec({0.5f})});
  opt.step({vec({-1})});
  MLSYS_EXPECT_ALLCLOSE(w->value, vec({0.93661006f}), 1e-5, 1e-6);
}

TEST(Task3_2_Adam, MatchesReference) { check_against_reference(0.f, false); }
TEST(Task3_2_Adam, L2WeightDecay) { check_against_reference(0.1f, false); }
TEST(Task3_2_Adam, AdamW) { check_against_reference(0.1f, true); }

TEST(Task3_2_Adam, AdamWFirstStepByHand) {
  // w = 2, lr 0.1, weight decay 0.5: w = 2 (1 - 0.05) = 1.9, then w -= 0.1 sign(g) -> 1.8.
  NodePtr w = variable("w", vec({2}));
  AdamW opt({w}, 0.1f, 0.9f, 0.999f, 1e-8f, 0.5f);
  opt.step({vec({4})});
  MLSYS_EXPECT_ALLCLOSE(w->value, vec({1.8f}), 1e-5, 1e-6);
}
