"""PA1 Tasks 2.1 and 2.2 — topological order and reverse-mode gradients(), from Python.

Orders are written out by hand for small graphs and checked as properties (each node once,
after its inputs, exactly the reachable set found by a search written here) for larger ones.
Gradients are compared with central finite differences of NumPy float64 formulas and with
closed forms (fan-out, shared weights, second derivatives).
"""

import numpy as np

import mlsys.pa1 as pa1
from pa1_testutil import check_close, cross_entropy_np, numeric_gradient, raises_error, uniform


# ============================================================================================
# Task 2.1: topological order
# ============================================================================================


def names(nodes):
    return [n.name for n in nodes]


def named(node, name):
    node.name = name
    return node


def test_task2_1_small_expression_in_dfs_post_order():
    # y = a*b + exp(a): depth-first from y, inputs in order, each node after its inputs.
    a, b = pa1.placeholder("a", (2,)), pa1.placeholder("b", (2,))
    m = named(a * b, "m")
    e = named(pa1.exp(a), "e")
    y = named(m + e, "y")
    assert names(pa1.topological_sort(y)) == ["a", "b", "m", "e", "y"]
    assert names(pa1.topological_sort([y])) == ["a", "b", "m", "e", "y"]


def test_task2_1_several_outputs_and_repeated_inputs():
    a, b = pa1.placeholder("a", (2,)), pa1.placeholder("b", (2,))
    m = named(a * b, "m")
    e = named(pa1.exp(a), "e")
    y = named(m + e, "y")
    assert names(pa1.topological_sort([e, y])) == ["a", "e", "b", "m", "y"]
    sq = named(a * a, "sq")  # the same input twice: listed once
    assert names(pa1.topological_sort(sq)) == ["a", "sq"]


def reachable(outputs):
    """Every node reachable from outputs, found by a plain search over .inputs."""
    seen, stack = set(), list(outputs)
    while stack:
        n = stack.pop()
        if n not in seen:
            seen.add(n)
            stack.extend(n.inputs)
    return seen


def test_task2_1_every_node_once_after_its_inputs(rng):
    # A random DAG: each new node combines two earlier ones.
    nodes = [pa1.placeholder(f"p{i}", (3,)) for i in range(4)]
    ops = [pa1.add, pa1.mul, pa1.sub, lambda a, b: pa1.exp(a) + b]
    for _ in range(40):
        i, j = rng.integers(0, len(nodes), size=2)
        nodes.append(ops[int(rng.integers(0, len(ops)))](nodes[i], nodes[j]))
    outputs = [nodes[-1], nodes[-7], nodes[2]]
    order = pa1.topological_sort(outputs)
    assert len(order) == len(set(order)), "each node exactly once"
    assert set(order) == reachable(outputs), "exactly the nodes reachable from the outputs"
    position = {n: k for k, n in enumerate(order)}
    for n in order:
        for i in n.inputs:
            assert position[i] < position[n], f"{i.describe()} must come before {n.describe()}"


def test_task2_1_deep_chain_without_recursion():
    x = pa1.placeholder("x", (1,))
    y = x
    for _ in range(20000):
        y = y + 1.0
    order = pa1.topological_sort(y)
    assert len(order) == 20001 and order[0] is x and order[-1] is y


# ============================================================================================
# Task 2.2: gradients()
# ============================================================================================


def mlp_loss_np(x, labels, w1, b1, w2, b2):
    """The reference: a 2-layer MLP's mean cross-entropy in float64 NumPy."""
    h = np.maximum(x @ w1 + b1, 0.0)
    return cross_entropy_np(h @ w2 + b2, labels)


def test_task2_2_gradients_of_mlp(rng):
    """Loss of a 2-layer relu MLP w.r.t. all four parameters and the input, vs finite
    differences of the same MLP written in NumPy."""
    values = {"W1": uniform(rng, (4, 5)), "b1": uniform(rng, (5,), -0.5, 0.5),
              "W2": uniform(rng, (5, 3)), "b2": uniform(rng, (3,), -0.5, 0.5)}
    params = {k: pa1.variable(k, v) for k, v in values.items()}
    x = pa1.placeholder("x", (-1, 4))
    labels = pa1.placeholder("labels", (-1,), np.int64)
    h = pa1.relu(x @ params["W1"] + params["b1"])
    loss = pa1.softmax_cross_entropy(h @ params["W2"] + params["b2"], labels)
    wrt = [params[k] for k in ("W1", "b1", "W2", "b2")] + [x]
    grads = pa1.gradients(loss, wrt)
    assert [g.shape for g in grads] == [w.shape for w in wrt]

    xv, yv = uniform(rng, (6, 4)), rng.integers(0, 3, size=6)
    got = pa1.Executor([loss] + grads).run({x: xv, labels: yv})
    args = {"x": xv.astype(np.float64), **{k: v.astype(np.float64) for k, v in values.items()}}

    def reference(a):
        return mlp_loss_np(a["x"], yv, a["W1"], a["b1"], a["W2"], a["b2"])

    check_close(got[0], reference(args), rtol=1e-5, what="loss")
    for name, g in zip(["W1", "b1", "W2", "b2", "x"], got[1:]):
        want = numeric_gradient(lambda v, name=name: reference(dict(args, **{name: v})), args[name])
        check_close(g, want, rtol=1e-3, atol=1e-5, what=f"dloss/d{name}",
                    hint="check the accumulation over every path and the unbroadcasting of b")


def test_task2_2_fan_out_accumulates(rng):
    """x is used by three consumers: the contributions of every path add up."""
    x = pa1.placeholder("x", (5,))
    y = pa1.sum(x * x + x * 3.0 + pa1.exp(x))
    g, = pa1.gradients(y, [x])
    a = uniform(rng, (5,)).astype(np.float64)
    check_close(pa1.evaluate(g, {x: a}), 2 * a + 3 + np.exp(a), rtol=1e-5, what="d/dx (x^2 + 3x + e^x)")


def test_task2_2_shared_weights_with_broadcast(rng):
    """w [3] is used twice, once broadcast against x [4, 3]: d/dw (sum(x * w) + sum(w * w)) =
    x.sum(0) + 2 w."""
    x = pa1.placeholder("x", (-1, 3))
    w = pa1.variable("w", uniform(rng, (3,)))
    z = pa1.sum(x * w) + pa1.sum(w * w)
    gw, gx = pa1.gradients(z, [w, x])
    xv = uniform(rng, (4, 3))
    gw_val, gx_val = pa1.Executor([gw, gx]).run({x: xv})
    wv = w.value.numpy().astype(np.float64)
    check_close(gw_val, xv.sum(0) + 2 * wv, rtol=1e-5, what="dz/dw")
    check_close(gx_val, np.broadcast_to(wv, (4, 3)), rtol=1e-5, what="dz/dx")


def test_task2_2_output_grad_and_wrt_order(rng):
    """gradients(y, wrt, output_grad=v) is the vector-Jacobian product v^T dy/dwrt; wrt may
    repeat a node and list it in any order."""
    a, b = pa1.placeholder("a", (3,)), pa1.placeholder("b", (3,))
    y = a * b * 2.0
    v = uniform(rng, (3,))
    gb, ga, gb2 = pa1.gradients(y, [b, a, b], output_grad=pa1.constant(v))
    av, bv = uniform(rng, (3,)), uniform(rng, (3,))
    out = pa1.Executor([gb, ga, gb2]).run({a: av, b: bv})
    check_close(out[0], 2 * v * av, rtol=1e-5, what="v * dy/db")
    check_close(out[1], 2 * v * bv, rtol=1e-5, what="v * dy/da")
    check_close(out[2], out[0], what="a repeated wrt node")
    y_itself, = pa1.gradients(y, [y])
    check_close(pa1.evaluate(y_itself, {a: av, b: bv}), np.ones(3), what="dy/dy (ones)")


def test_task2_2_second_derivatives(rng):
    """Gradients are graphs, so gradients of gradients work: a Hessian-vector product of
    sum(x^3) is 6 x v, and d2/dx2 tanh(x) = -2 tanh(x) (1 - tanh(x)^2)."""
    x = pa1.placeholder("x", (4,))
    v = uniform(rng, (4,))
    g, = pa1.gradients(pa1.sum(x ** 3.0), [x])
    hvp, = pa1.gradients(pa1.sum(g * pa1.constant(v)), [x])
    xv = uniform(rng, (4,)).astype(np.float64)
    check_close(pa1.evaluate(hvp, {x: xv}), 6 * xv * v, rtol=1e-4, what="Hessian-vector product of sum(x^3)")
    t = pa1.tanh(x)
    d1, = pa1.gradients(t, [x])
    d2, = pa1.gradients(d1, [x])
    th = np.tanh(xv)
    check_close(pa1.evaluate(d2, {x: xv}), -2 * th * (1 - th ** 2), rtol=1e-4, atol=1e-5, what="tanh''")


def test_task2_2_node_not_in_graph_is_an_error():
    x = pa1.placeholder("x", (2,))
    stranger = pa1.placeholder("stranger", (2,))
    with raises_error("stranger"):
        pa1.gradients(pa1.sum(x * 2.0), [stranger])


def test_task2_2_gradcheck_helper_agrees(rng):
    """mlsys.pa1.gradcheck (used by the notebook) on a small layer-norm + gelu network."""
    x = pa1.placeholder("x", (3, 4))
    w = pa1.variable("w", uniform(rng, (4, 4)))
    gain, bias = pa1.variable("gain", np.ones(4)), pa1.variable("bias", np.zeros(4))
    y = pa1.gelu(pa1.layernorm(x @ w, gain, bias))
    results = pa1.gradcheck(y, [w, gain, bias, x], {x: uniform(rng, (3, 4))})
    for r in results:
        assert r.ok, f"gradcheck of {r.node.describe()}: {r}"


def test_task2_2_gradcheck_with_run_time_dims(rng):
    """gradcheck seeds with a constant of the output's run-time shape; the gradients then mix
    known and -1 dims (a [-1, -1] @ b [3, -1] seeded with a [2, 1] constant)."""
    a, b = pa1.placeholder("a", (-1, -1)), pa1.placeholder("b", (3, -1))
    results = pa1.gradcheck(a @ b, [a, b], {a: uniform(rng, (2, 3)), b: uniform(rng, (3, 1))})
    for r in results:
        assert r.ok, f"gradcheck of {r.node.describe()}: {r}"
