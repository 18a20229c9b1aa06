"""PA1 Tasks 1.1, 1.2, 1.3 — the gradient of each op, one op at a time, from Python.

Each case builds y = op(placeholders) and asks the op itself for the gradient of
L = sum(y * R), R random: y.op_gradient(R) runs the student's *_backward function alone (not
gradients(), which is Task 2.2). The reference is the central finite difference, in float64,
of a NumPy formula of the op written here; the formula's forward value is checked against the
op's first, so a wrong reference cannot hide.
"""

import numpy as np
import pytest

import mlsys.pa1 as pa1
from pa1_testutil import away_from_zero, check_close, log_softmax_np, numeric_gradient, uniform


def check_op_gradient(build, ref, inputs, rng, static_shapes=None, rtol=1e-3, atol=1e-4):
    """build(*placeholders) applies one op to the placeholders; ref(*arrays) is that op in
    NumPy (float64). Integer inputs (labels, indices) must get no gradient (None)."""
    static_shapes = static_shapes or [a.shape for a in inputs]
    ph = [pa1.placeholder(f"in{i}", s, a.dtype) for i, (a, s) in enumerate(zip(inputs, static_shapes))]
    y = build(*ph)
    assert y.inputs == ph, "build() must apply one op to its placeholders, in order"
    feeds = dict(zip(ph, inputs))
    as64 = [a.astype(np.float64) if a.dtype.kind == "f" else a for a in inputs]
    check_close(pa1.evaluate(y, feeds), ref(*as64), rtol=1e-5, atol=1e-5,
                what=f"forward of {y.op} (the test's reference formula)")
    r = rng.uniform(-1.0, 1.0, size=np.shape(ref(*as64)))
    grads = y.op_gradient(pa1.constant(r.astype(np.float32)))
    assert len(grads) == len(ph), f"{y.op}: {len(grads)} gradients for {len(ph)} inputs"
    for i, (a, g) in enumerate(zip(inputs, grads)):
        if a.dtype.kind in "iu":
            assert g is None, f"{y.op}: input {i} holds integers; its gradient must be None"
            continue
        assert g is not None, f"{y.op}: the gradient of float input {i} is None"

        def loss(v, i=i):
            args = list(as64)
            args[i] = v
            return float(np.sum(ref(*args) * r))

        check_close(pa1.evaluate(g, feeds), numeric_gradient(loss, a), rtol=rtol, atol=atol,
                    what=f"d(sum(y * R))/d(input {i}) of {y.describe()}",
                    hint="a broadcast input's gradient must be summed back to its shape"
                    if a.shape != np.shape(ref(*as64)) else "")


# ============================================================================================
# Task 1.1: elementwise
# ============================================================================================

def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


# name: (build, reference, [(shape, kind)], static shapes or None). kinds: "any" uniform in
# [-2, 2), "pos" in [0.2, 2), "nz" away from zero.
ELEMENTWISE = {
    "add": (pa1.add, np.add, [((2, 3), "any"), ((2, 3), "any")], None),
    "add_broadcast_row": (pa1.add, np.add, [((2, 3), "any"), ((3,), "any")], None),
    "add_broadcast_both": (pa1.add, np.add, [((4, 1), "any"), ((1, 5), "any")], None),
    "add_runtime_batch": (pa1.add, np.add, [((4, 3), "any"), ((3,), "any")], [(-1, 3), (3,)]),
    "sub_broadcast": (pa1.sub, np.subtract, [((3, 1), "any"), ((3, 4), "any")], None),
    "mul_broadcast": (pa1.mul, np.multiply, [((2, 3), "any"), ((2, 1), "any")], None),
    "div_broadcast": (pa1.div, np.divide, [((2, 3), "any"), ((3,), "nz")], None),
    "add_scalar": (lambda x: pa1.add_scalar(x, 1.5), lambda a: a + 1.5, [((3, 2), "any")], None),
    "mul_scalar": (lambda x: pa1.mul_scalar(x, -2.0), lambda a: a * -2.0, [((3, 2), "any")], None),
    "pow_scalar_cube": (lambda x: pa1.pow_scalar(x, 3.0), lambda a: a ** 3, [((3, 2), "any")], None),
    "pow_scalar_sqrt": (lambda x: pa1.pow_scalar(x, 0.5), np.sqrt, [((3, 2), "pos")], None),
    "pow_scalar_inverse": (lambda x: pa1.pow_scalar(x, -1.0), lambda a: 1 / a, [((3, 2), "nz")], None),
    "neg": (pa1.neg, np.negative, [((2, 3), "any")], None),
    "exp": (pa1.exp, np.exp, [((2, 3), "any")], None),
    "log": (pa1.log, np.log, [((2, 3), "pos")], None),
    "sqrt": (pa1.sqrt, np.sqrt, [((2, 3), "pos")], None),
    "relu": (pa1.relu, lambda a: np.maximum(a, 0), [((2, 3), "nz")], None),
    "sigmoid": (pa1.sigmoid, _sigmoid, [((2, 3), "any")], None),
    "tanh": (pa1.tanh, np.tanh, [((2, 3), "any")], None),
}


def _draw(rng, shape, kind):
    if kind == "pos":
        return uniform(rng, shape, 0.2, 2.0)
    if kind == "nz":
        return away_from_zero(rng, shape)
    return uniform(rng, shape)


@pytest.mark.parametrize("case", sorted(ELEMENTWISE))
def test_task1_1_elementwise_gradient(case, rng):
    build, ref, specs, static = ELEMENTWISE[case]
    check_op_gradient(build, ref, [_draw(rng, s, k) for s, k in specs], rng, static_shapes=static)


def test_task1_1_gradient_is_a_graph(rng):
    """The gradient is built from nodes (so that it can be differentiated again), not computed."""
    x = pa1.placeholder("x", (3,))
    y = pa1.exp(x)
    g, = y.op_gradient(pa1.ones_like(y))
    assert not g.is_leaf(), "the gradient must be a compute node built from ops"
    a = uniform(rng, (3,))
    check_close(pa1.evaluate(g, {x: a}), np.exp(a.astype(np.float64)), rtol=1e-5, what="d exp(x)/dx")


# ============================================================================================
# Task 1.2: matmul, shapes, reductions
# ============================================================================================

STRUCTURAL = {
    "matmul": (lambda a, b: pa1.matmul(a, b), lambda a, b: a @ b, [(3, 4), (4, 5)]),
    "matmul_trans_a": (lambda a, b: pa1.matmul(a, b, trans_a=True), lambda a, b: a.T @ b, [(4, 3), (4, 5)]),
    "matmul_trans_b": (lambda a, b: pa1.matmul(a, b, trans_b=True), lambda a, b: a @ b.T, [(3, 4), (5, 4)]),
    "matmul_trans_both": (lambda a, b: pa1.matmul(a, b, True, True), lambda a, b: a.T @ b.T, [(4, 3), (5, 4)]),
    "matmul_batched_weights": (pa1.matmul, np.matmul, [(2, 3, 4), (4, 5)]),
    "matmul_broadcast_batch": (pa1.matmul, np.matmul, [(3, 4), (2, 4, 5)]),
    "permute": (lambda x: pa1.permute(x, (2, 0, 1)), lambda a: a.transpose(2, 0, 1), [(2, 3, 4)]),
    "transpose": (lambda x: pa1.transpose(x, 0, 2), lambda a: a.swapaxes(0, 2), [(2, 3, 4)]),
    "reshape": (lambda x: pa1.reshape(x, (3, -1)), lambda a: a.reshape(3, -1), [(2, 6)]),
    "broadcast_to_new_dims": (lambda x: pa1.broadcast_to(x, (2, 3, 4)),
                              lambda a: np.broadcast_to(a, (2, 3, 4)), [(3, 1)]),
    "broadcast_to_rows": (lambda x: pa1.broadcast_to(x, (3, 4)), lambda a: np.broadcast_to(a, (3, 4)), [(4,)]),
    "sum_all": (pa1.sum, np.sum, [(2, 3, 4)]),
    "sum_axis": (lambda x: pa1.sum(x, axes=1), lambda a: a.sum(1), [(2, 3, 4)]),
    "sum_axes_keepdims": (lambda x: pa1.sum(x, axes=(0, 2), keepdims=True),
                          lambda a: a.sum((0, 2), keepdims=True), [(2, 3, 4)]),
    "sum_negative_axis": (lambda x: pa1.sum(x, axes=-1), lambda a: a.sum(-1), [(2, 3, 4)]),
    "mean_all": (pa1.mean, np.mean, [(3, 4)]),
    "mean_axis": (lambda x: pa1.mean(x, axes=0), lambda a: a.mean(0), [(3, 4)]),
    "max_axis": (lambda x: pa1.max(x, 1), lambda a: a.max(1), [(3, 5)]),
    "max_keepdims": (lambda x: pa1.max(x, 0, keepdims=True), lambda a: a.max(0, keepdims=True), [(4, 3)]),
}


@pytest.mark.parametrize("case", sorted(STRUCTURAL))
def test_task1_2_structural_gradient(case, rng):
    build, ref, shapes = STRUCTURAL[case]
    check_op_gradient(build, ref, [uniform(rng, s) for s in shapes], rng)


def test_task1_2_runtime_batch(rng):
    """Static shapes with -1 (the batch): gradients must get their shapes at run time."""
    a, b = uniform(rng, (6, 4)), uniform(rng, (4, 3))
    check_op_gradient(pa1.matmul, np.matmul, [a, b], rng, static_shapes=[(-1, 4), (4, 3)])
    check_op_gradient(lambda x: pa1.mean(x, axes=0), lambda v: v.mean(0), [a], rng, static_shapes=[(-1, 4)])


# ============================================================================================
# Task 1.3: neural-network ops
# ============================================================================================

def _softmax(a, axis=-1):
    return np.exp(log_softmax_np(a, axis))


def _cross_entropy(logits, labels):
    lp = log_softmax_np(logits)
    return -np.take_along_axis(lp, labels[..., None], axis=-1).mean()


def _layernorm(x, g, b, eps=1e-5):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * g + b


def _gelu(x):
    return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))


def test_task1_3_softmax_gradient(rng):
    check_op_gradient(pa1.softmax, _softmax, [uniform(rng, (3, 5))], rng)
    check_op_gradient(lambda x: pa1.softmax(x, axis=0), lambda a: _softmax(a, 0), [uniform(rng, (4, 2))], rng)


def test_task1_3_log_softmax_gradient(rng):
    check_op_gradient(pa1.log_softmax, log_softmax_np, [uniform(rng, (3, 5))], rng)


def test_task1_3_cross_entropy_gradient(rng):
    logits = uniform(rng, (6, 4)) * 2
    labels = rng.integers(0, 4, size=6)
    check_op_gradient(pa1.softmax_cross_entropy, _cross_entropy, [logits, labels], rng)
    # [B, T, C] logits with [B, T] labels, and a run-time batch.
    check_op_gradient(pa1.softmax_cross_entropy, _cross_entropy,
                      [uniform(rng, (2, 3, 4)), rng.integers(0, 4, size=(2, 3))], rng,
                      static_shapes=[(-1, 3, 4), (-1, 3)])


def test_task1_3_layernorm_gradient(rng):
    x, g, b = uniform(rng, (3, 5)), uniform(rng, (5,), 0.5, 1.5), uniform(rng, (5,))
    check_op_gradient(pa1.layernorm, _layernorm, [x, g, b], rng, rtol=2e-3, atol=2e-4)
    check_op_gradient(pa1.layernorm, _layernorm, [uniform(rng, (2, 3, 4)), uniform(rng, (4,)), uniform(rng, (4,))],
                      rng, rtol=2e-3, atol=2e-4)


def test_task1_3_gelu_gradient(rng):
    check_op_gradient(pa1.gelu, _gelu, [uniform(rng, (3, 4), -3, 3)], rng)


def test_task1_3_embedding_gradient(rng):
    """Repeated indices: their rows' gradients add up. No gradient for the indices."""
    table = uniform(rng, (6, 3))
    indices = np.array([[0, 5, 5, 2], [2, 2, 1, 0]])
    check_op_gradient(pa1.embedding, lambda t, i: t[i], [table, indices], rng)


def test_task1_3_dropout_gradient_uses_the_forward_mask(rng):
    """The gradient of dropout is R masked and scaled exactly like the forward pass of the same
    run: (y / x) * R wherever x != 0."""
    a = away_from_zero(rng, (6, 8))
    x = pa1.placeholder("x", (6, 8))
    y = pa1.dropout(x, 0.25, seed=7)
    r = uniform(rng, (6, 8))
    g, = y.op_gradient(pa1.constant(r))
    ex = pa1.Executor([y, g])
    y_val, g_val = ex.run({x: a}, step=4)
    assert 0 < np.count_nonzero(y_val) < y_val.size, "p = 0.25 should drop some elements, not all"
    check_close(g_val, (y_val / a) * r, rtol=1e-5, atol=1e-6, what="dropout gradient",
                hint="the gradient must use the mask of the same run (same seed and step)")
    y_eval, g_eval = ex.run({x: a}, training=False)
    check_close(g_eval, r, what="dropout gradient with training=False (the identity)")
