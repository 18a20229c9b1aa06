// Helpers of the PA1 hidden tests, on top of pa1_autodiff/tests/pa1_test_util.h.
//
// check_hvp: the Hessian-vector product of L(x) = sum(f(x) * W), built with gradients() twice,
// against central finite differences of the (analytic) gradient along v:
//   H v ~ (grad L(x + eps v) - grad L(x - eps v)) / (2 eps)
// With op_first (the default) it first calls the op's own gradient once, so that with the
// starter code a Task 1.x test fails with the NotImplemented of its own task, not Task 2.2's;
// Task 2.2 tests pass op_first = false.
#pragma once

#include "pa1_test_util.h"

namespace pa1::hidden {

using mlsys::Tensor;

inline ::testing::AssertionResult check_hvp(const std::function<NodePtr(const NodePtr&)>& f,
                                            const Tensor& x0, uint64_t seed, double eps = 1e-2,
                                            double rtol = 2e-2, double atol = 2e-3,
                                            bool op_first = true) {
  NodePtr x = placeholder("x", x0.shape());
  NodePtr y = f(x);
  Tensor w0 = mlsys::rand(pa1::test::eval(y, {{x, x0}}).shape(), seed, -1.f, 1.f);
  NodePtr w = constant(w0, "W");
  if (op_first) (void)y->op->gradient(y, w);
  NodePtr loss = sum(y * w);
  NodePtr g = gradients(loss, {x})[0];
  NodePtr v = placeholder("v", x0.shape());
  NodePtr hv = gradients(sum(g * v), {x})[0];
  Tensor v0 = mlsys::rand(x0.shape(), seed + 1, -1.f, 1.f);
  Executor grad_ex({g});
  Tensor up = grad_ex.run({{x, x0 + v0 * static_cast<float>(eps)}})[0];
  Tensor down = grad_ex.run({{x, x0 - v0 * static_cast<float>(eps)}})[0];
  Tensor numeric = (up - down) * static_cast<float>(1.0 / (2 * eps));
  Tensor analytic = Executor({hv}).run({{x, x0}, {v, v0}})[0];
  return mlsys::test::allclose(analytic, numeric, rtol, atol,
                               "the Hessian-vector product (gradient of a gradient) disagrees with "
                               "finite differences of the gradient: is every gradient built from "
                               "differentiable ops, reusing nodes correctly?");
}

}  // namespace pa1::hidden
