// Helpers shared by the PA1 tests (public and hidden): evaluating nodes, random inputs, and
// the gradient check of one op.
//
// check_op_gradient(build, inputs) is the Task 1 check. It builds y = build(placeholders),
// draws random weights W of y's shape, and asks the op for the gradient of
// L = sum(y * W) directly (y->op->gradient(y, W)), so that it exercises only that op's
// *_backward function, not gradients() (Task 2.2). Each float input's analytic gradient is
// compared with central finite differences of L computed in double from forward runs.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "mlsys/ops.h"
#include "mlsys/testing.h"
#include "pa1/pa1.h"

namespace pa1::test {

using mlsys::Tensor;

// Runs one node with the given feeds; the value, contiguous.
inline Tensor eval(const NodePtr& node, const FeedDict& feeds = {}) {
  return Executor({node}).run(feeds)[0];
}

// Uniform in [lo, hi).
inline Tensor uniform(Shape shape, uint64_t seed, float lo = -2.f, float hi = 2.f) {
  return mlsys::rand(std::move(shape), seed, lo, hi);
}

// Uniform with |x| in [0.2, 2): for ops with a kink or a pole at 0 (relu, 1/x).
inline Tensor away_from_zero(Shape shape, uint64_t seed) {
  Tensor u = mlsys::rand(shape, seed, -1.8f, 1.8f);
  return u + mlsys::sign(u) * 0.2f;
}

// sum(y * w) in double, the scalar whose gradient the checks compare.
inline double weighted_sum(const Tensor& y, const Tensor& w) {
  std::vector<double> a = y.to_vector<double>(), b = w.to_vector<double>();
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

struct GradCheckOptions {
  double eps = 1e-3, rtol = 1e-2, atol = 1e-3;
  uint64_t weight_seed = 12345;
  // Static shapes for the placeholders (default: each input's own shape). Use -1 dims to
  // check that a gradient works when shapes are only known at run time.
  std::vector<Shape> static_shapes;
};

// Checks the op built by `build` from placeholders fed with `inputs`. Integer inputs (labels,
// indices) are fed but not differentiated: their gradient must be nullptr.
inline ::testing::AssertionResult check_op_gradient(
    const std::function<NodePtr(const std::vector<NodePtr>&)>& build,
    const std::vector<Tensor>& inputs, GradCheckOptions opt = {}) {
  std::vector<NodePtr> ph;
  for (size_t i = 0; i < inputs.size(); ++i) {
    Shape s = i < opt.static_shapes.size() ? opt.static_shapes[i] : inputs[i].shape();
    ph.push_back(placeholder("in" + std::to_string(i), s, inputs[i].dtype()));
  }
  NodePtr y = build(ph);
  if (y->is_leaf() || y->inputs != ph)
    return ::testing::AssertionFailure()
           << "build() must apply one op to its placeholders, in order (composites are checked "
              "through gradients(), Task 2.2)";
  auto feeds_with = [&](const std::vector<Tensor>& values) {
    FeedDict f;
    for (size_t i = 0; i < ph.size(); ++i) f[ph[i]] = values[i];
    return f;
  };
  Tensor y0 = eval(y, feeds_with(inputs));
  Tensor w = uniform(y0.shape(), opt.weight_seed, -1.f, 1.f);
  NodePtr w_node = placeholder("dL_dy", y->shape);
  std::vector<NodePtr> grads = y->op->gradient(y, w_node);
  if (grads.size() != inputs.size())
    return ::testing::AssertionFailure() << "the gradient of '" << y->op->name() << "' returned "
                                         << grads.size() << " nodes for " << inputs.size()
                                         << " inputs";
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (inputs[i].dtype() != DType::Float32) {
      if (grads[i] != nullptr)
        return ::testing::AssertionFailure()
               << "input " << i << " of '" << y->op->name()
               << "' is an integer tensor (labels/indices): its gradient must be nullptr";
      continue;
    }
    if (grads[i] == nullptr)
      return ::testing::AssertionFailure() << "the gradient of '" << y->op->name()
                                           << "' for float input " << i << " is nullptr";
    FeedDict feeds = feeds_with(inputs);
    feeds[w_node] = w;
    Tensor analytic = eval(grads[i], feeds);
    std::vector<Tensor> perturbed = inputs;
    auto f = [&](const Tensor& xi) {
      perturbed[i] = xi;
      return weighted_sum(eval(y, feeds_with(perturbed)), w);
    };
    Tensor numeric = mlsys::test::numeric_gradient(f, inputs[i], opt.eps);
    auto r = mlsys::test::allclose(
        analytic, numeric, opt.rtol, opt.atol,
        "the analytic gradient (actual) disagrees with central finite differences (expected); "
        "check the derivative and that broadcast dims are summed back to the input's shape");
    if (!r)
      return ::testing::AssertionFailure() << "op '" << y->op->name() << "', input " << i
                                           << " " << inputs[i].describe() << ":\n" << r.message();
  }
  return ::testing::AssertionSuccess();
}

// Asserts that `fn` throws mlsys::Error whose message contains every string of `parts`.
inline ::testing::AssertionResult throws_error_with(const std::function<void()>& fn,
                                                   const std::vector<std::string>& parts) {
  try {
    fn();
  } catch (const mlsys::NotImplemented&) {
    throw;  // let a stub's message reach the test report unchanged
  } catch (const mlsys::Error& e) {
    const std::string msg = e.what();
    for (const std::string& p : parts)
      if (msg.find(p) == std::string::npos)
        return ::testing::AssertionFailure() << "the message does not mention '" << p
                                             << "':\n  " << msg;
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << "no mlsys::Error was thrown";
}

}  // namespace pa1::test
