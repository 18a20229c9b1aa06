// pa1_autodiff/src/grad_elementwise.cpp — PA1 Task 1.1: gradients of the elementwise ops.
// Edit only the marked regions (each function body below a TODO); the rest is given.
//
// Every function here has the same contract (pa1/backward.h):
//
//   node   the forward node, e.g. node = mul(a, b) with a = node->inputs[0], b = node->inputs[1]
//   grad   a node holding dL/d(node); it has node's shape
//   return one node per input, holding dL/d(input) with that input's shape
//
// You build graph nodes with the ops of pa1/ops.h (add, mul, neg, ..., and the operators
// + - * / on NodePtr and float); nothing is computed here. Two things to get right:
//
// 1. Broadcasting. add(a, b) with a [4, 3] and b [3] has shape [4, 3], and so has grad. The
//    gradient of b must have b's shape [3]: every element of b was used in 4 places, so its
//    gradient is the sum of those 4 contributions. sum_to_like(g, b) sums g down to b's shape
//    (it is free when the shapes already match), so wrap every binary op's result in it.
// 2. Reuse. Where the derivative is easiest to write with the op's own output (d exp(x) =
//    exp(x) dx), use `node` itself rather than building the forward computation again.
//
// Tests (tests/test_task1_1_elementwise.cpp) compare each gradient against central finite
// differences on random inputs, including broadcast shapes, size-1 dims and 0-dim scalars.
#include "pa1/backward.h"
#include "pa1/ops.h"

namespace pa1 {

// ============================================================================================
// Binary ops, with broadcasting
// ============================================================================================

// node = a + b. Returns {dL/da, dL/db}.
Grads add_backward(const NodePtr& node, const NodePtr& grad) {
  // TODO(student): PA1 Task 1.1 — see handouts/pa1.md#task-11
  throw mlsys::NotImplemented("PA1 Task 1.1", "pa1_autodiff/src/grad_elementwise.cpp", "handouts/pa1.md#task-11");
}

// node = a - b.
Grads sub_backward(const NodePtr& node, const NodePtr& grad) {
  // TODO(student): PA1 Task 1.1 — see handouts/pa1.md#task-11
  throw mlsys::NotImplemented("PA1 Task 1.1", "pa1_autodiff/src/grad_elementwise.cpp", "handouts/pa1.md#task-11");
}

// node = a * b (elementwise).
Grads mul_backward(const NodePtr& node, const NodePtr& grad) {
  // TODO(student): PA1 Task 1.1 — see handouts/pa1.md#task-11
  throw mlsys::NotImplemented("PA1 Task 1.1", "pa1_autodiff/src/grad_elementwise.cpp", "handouts/pa1.md#task-11");
}

// node = a / b. d(a/b)/db = -a / b^2 = -node / b.
Grads div_backward(const NodePtr& node, const NodePtr& grad) {
  // TODO(student): PA1 Task 1.1 — see handouts/pa1.md#task-11
  throw mlsys::NotImplemented("PA1 Task 1.1", "pa1_autodiff/src/grad_elementwise.cpp", "handouts/pa1.md#task-11");
}

// ============================================================================================
// Scalar ops: node = op(a, c) for a float c fixed when the node was built
// ============================================================================================

// node = a + c.
Grads add_scalar_backward(const NodePtr& node, const NodePtr& grad, float c) {
  // TODO(student): PA1 Task 1.1 — see handouts/pa1.md#task-11
  throw mlsys::NotImplemented("PA1 Task 1.1", "pa1_autodiff/src/grad_elementwise.cpp", "handouts/pa1.md#task-11");
}

// node = a * c.
Grads mul_scalar_backward(const NodePtr& node, const NodePtr& grad, float c) {
  // TODO(student): PA1 Task 1.1 — see handouts/pa1.md#task-11
  throw mlsys::NotImplemented("PA1 Task 1.1", "pa1_autodiff/src/grad_elementwise.cpp", "handouts/pa1.md#task-11");
}

// node = a ^ p (elementwise power, p a float). The derivative is p a^(p-1), except for p = 0:
// a^0 = 1 everywhere, so its derivative is 0 everywhere, also at a = 0, where 0 * a^(-1)
// would be 0 * inf = NaN. Tests use p in {-1, 0, 0.5, 1, 2, 3}; a > 0 for the fractional and
// negative powers, and a = 0 for p in {0, 1, 2, 3}.
Grads pow_scalar_backward(const NodePtr& node, const NodePtr& grad, float p) {
  // TODO(student): PA1 Task 1.1 — see handouts/pa1.md#task-11
  throw mlsys::NotImplemented("PA1 Task 1.1", "pa1_autodiff/src/grad_elementwise.cpp", "handouts/pa1.md#task-11");
}

// ============================================================================================
// Unary ops: node = f(x)
// ============================================================================================

// node = -x.
Grads neg_backward(const NodePtr& node, const NodePtr& grad) {
  // TODO(student): PA1 Task 1.1 — see handouts/pa1.md#task-11
  throw mlsys::NotImplemented("PA1 Task 1.1", "pa1_autodiff/src/grad_elementwise.cpp", "handouts/pa1.md#task-11");
}

// node = exp(x).
Grads exp_backward(const NodePtr& node, const NodePtr& grad) {
  // TODO(student): PA1 Task 1.1 — see handouts/pa1.md#task-11
  throw mlsys::NotImplemented("PA1 Task 1.1", "pa1_autodiff/src/grad_elementwise.cpp", "handouts/pa1.md#task-11");
}

// node = log(x) (tests use x > 0).
Grads log_backward(const NodePtr& node, const NodePtr& grad) {
  // TODO(student): PA1 Task 1.1 — see handouts/pa1.md#task-11
  throw mlsys::NotImplemented("PA1 Task 1.1", "pa1_autodiff/src/grad_elementwise.cpp", "handouts/pa1.md#task-11");
}

// node = sqrt(x) (tests use x > 0).
Grads sqrt_backward(const NodePtr& node, const NodePtr& grad) {
  // TODO(student): PA1 Task 1.1 — see handouts/pa1.md#task-11
  throw mlsys::NotImplemented("PA1 Task 1.1", "pa1_autodiff/src/grad_elementwise.cpp", "handouts/pa1.md#task-11");
}

// node = relu(x) = max(x, 0). Use relu_mask(x) (1 where x > 0, else 0); the derivative at
// exactly 0 is taken as 0, and tests keep inputs away from 0.
Grads relu_backward(const NodePtr& node, const NodePtr& grad) {
  // TODO(student): PA1 Task 1.1 — see handouts/pa1.md#task-11
  throw mlsys::NotImplemented("PA1 Task 1.1", "pa1_autodiff/src/grad_elementwise.cpp", "handouts/pa1.md#task-11");
}

// node = sigmoid(x) = 1 / (1 + exp(-x)). Its derivative is sigmoid(x) (1 - sigmoid(x)).
Grads sigmoid_backward(const NodePtr& node, const NodePtr& grad) {
  // TODO(student): PA1 Task 1.1 — see handouts/pa1.md#task-11
  throw mlsys::NotImplemented("PA1 Task 1.1", "pa1_autodiff/src/grad_elementwise.cpp", "handouts/pa1.md#task-11");
}

// node = tanh(x). Its derivative is 1 - tanh(x)^2.
Grads tanh_backward(const NodePtr& node, const NodePtr& grad) {
  // TODO(student): PA1 Task 1.1 — see handouts/pa1.md#task-11
  throw mlsys::NotImplemented("PA1 Task 1.1", "pa1_autodiff/src/grad_elementwise.cpp", "handouts/pa1.md#task-11");
}

}  // namespace pa1
