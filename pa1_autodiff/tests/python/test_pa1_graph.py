"""Building and running graphs from Python (staff code: graph, ops' forward, executor, MLP
builder) and bad input. No task: these pass in the untouched student build too.

Sections: leaves and static shapes, operators, forward values of every op vs NumPy, executor
feeds and re-runs, errors that name the node, the MLP builder, stubs.
"""

import numpy as np
import pytest

import mlsys
import mlsys.pa1 as pa1
from pa1_testutil import away_from_zero, check_close, cross_entropy_np, log_softmax_np, uniform


# ============================================================================================
# Leaves and static shapes
# ============================================================================================


def test_graph_leaves_from_numpy():
    x = pa1.placeholder("x", (-1, 3))
    labels = pa1.placeholder("labels", -1, dtype=np.int64)
    w = pa1.variable("W", np.arange(6.0).reshape(3, 2))       # float64 in, float32 held
    c = pa1.constant([1, 2, 3])                               # integers stay integers
    assert (x.kind, x.shape, x.dtype, x.name) == (pa1.NodeKind.placeholder, (-1, 3), mlsys.float32, "x")
    assert (labels.shape, labels.dtype) == ((-1,), mlsys.int64)
    assert (w.kind, w.shape, w.dtype) == (pa1.NodeKind.variable, (3, 2), mlsys.float32)
    assert isinstance(w.value, mlsys.Tensor)
    check_close(w.value.numpy(), np.arange(6.0).reshape(3, 2), what="variable value")
    assert (c.kind, c.dtype, c.shape) == (pa1.NodeKind.constant, mlsys.int64, (3,))
    assert x.value is None and x.op is None and x.inputs == [] and x.is_leaf()
    assert w.id > x.id  # ids increase in creation order


def test_graph_static_shapes_and_names():
    x = pa1.placeholder("x", (-1, 4))
    w = pa1.variable("W", np.zeros((4, 5), np.float32))
    h = pa1.relu(pa1.matmul(x, w))
    assert h.shape == (-1, 5) and h.op == "relu" and not h.is_leaf()
    assert h.inputs[0].op == "matmul" and h.inputs[0].inputs == [x, w]
    assert h.name.startswith("relu_")
    h.name = "h1"
    assert "'h1' (relu, float32[-1, 5])" in h.describe() and "h1" in repr(h)
    s = pa1.sum(h, axes=1, keepdims=True)
    assert s.shape == (-1, 1)
    assert pa1.mean(h).shape == ()
    assert pa1.transpose(h).shape == (5, -1)
    assert pa1.reshape(pa1.constant(np.zeros((2, 6), np.float32)), (3, -1)).shape == (3, 4)


def test_graph_node_identity_is_dict_key():
    x = pa1.placeholder("x", (2,))
    y = pa1.exp(x)
    assert y.inputs[0] is x            # the same C++ node is the same Python object
    assert y.inputs[0] == x and x != y
    assert {x: 1}[y.inputs[0]] == 1
    assert len({x, y.inputs[0], y}) == 2


# ============================================================================================
# Operators
# ============================================================================================


def test_graph_operators_build_the_scalar_ops():
    x = pa1.placeholder("x", (2, 3))
    y = pa1.placeholder("y", (3,))
    w = pa1.placeholder("w", (3, 4))
    assert (x + y).op == "add" and (x - y).op == "sub" and (x * y).op == "mul" and (x / y).op == "div"
    assert (x + 2).op == "add_scalar" and (2 + x).op == "add_scalar"
    assert (x * 2.5).op == "mul_scalar" and (x / 2).op == "mul_scalar"
    assert (x ** 2).op == "pow_scalar" and (-x).op == "neg"
    assert (x @ w).op == "matmul" and (x @ w).shape == (2, 4)
    # Arrays and Tensors become constants, on either side.
    left = np.ones((2, 3), np.float32) + x
    assert left.op == "add" and left.inputs[0].kind == pa1.NodeKind.constant and left.inputs[1] is x
    assert (x * mlsys.ones((3,))).inputs[1].kind == pa1.NodeKind.constant
    with pytest.raises(TypeError):
        x + "two"


def test_graph_operators_compute_like_numpy(rng):
    a, b = uniform(rng, (2, 3)), away_from_zero(rng, (3,))
    x, y = pa1.placeholder("x", (2, 3)), pa1.placeholder("y", (3,))
    exprs = [
        (x + y * 2 - 1, lambda a, b: a + b * 2 - 1),
        (3 - x / y, lambda a, b: 3 - a / b),
        (2 / y + x, lambda a, b: 2 / b + a),
        ((x * x) ** 3, lambda a, b: (a * a) ** 3),
        (-(x @ pa1.reshape(y, (3, 1))), lambda a, b: -(a @ b.reshape(3, 1))),
    ]
    outs = pa1.evaluate([e for e, _ in exprs], {x: a, y: b})
    for (node, ref), out in zip(exprs, outs):
        check_close(out, ref(a.astype(np.float64), b.astype(np.float64)), rtol=1e-5, what=node.describe())


# ============================================================================================
# Forward values of every op against NumPy
# ============================================================================================


def _gelu(x):
    return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))


def _layernorm(x, g, b, eps=1e-5):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * g + b


FORWARD_CASES = {
    "exp": (lambda x: pa1.exp(x), np.exp),
    "log": (lambda x: pa1.log(x * x + 1), lambda a: np.log(a * a + 1)),
    "sqrt": (lambda x: pa1.sqrt(x * x + 1), lambda a: np.sqrt(a * a + 1)),
    "relu": (pa1.relu, lambda a: np.maximum(a, 0)),
    "sigmoid": (pa1.sigmoid, lambda a: 1 / (1 + np.exp(-a))),
    "tanh": (pa1.tanh, np.tanh),
    "neg": (pa1.neg, np.negative),
    "permute": (lambda x: pa1.permute(x, (1, 0)), lambda a: a.T),
    "broadcast_to": (lambda x: pa1.broadcast_to(x, (2, 3, 4)), lambda a: np.broadcast_to(a, (2, 3, 4))),
    "sum_all": (pa1.sum, lambda a: a.sum()),
    "sum_axis": (lambda x: pa1.sum(x, axes=0), lambda a: a.sum(0)),
    "mean_keepdims": (lambda x: pa1.mean(x, axes=[1], keepdims=True), lambda a: a.mean(1, keepdims=True)),
    "max": (lambda x: pa1.max(x, 1), lambda a: a.max(1)),
    "softmax": (pa1.softmax, lambda a: np.exp(log_softmax_np(a))),
    "log_softmax": (lambda x: pa1.log_softmax(x, axis=0), lambda a: log_softmax_np(a, axis=0)),
    "gelu": (pa1.gelu, _gelu),
    "layernorm": (lambda x: pa1.layernorm(x, pa1.constant(np.full(4, 2.0)), pa1.constant(np.full(4, 0.5))),
                  lambda a: _layernorm(a, 2.0, 0.5)),
}


@pytest.mark.parametrize("name", sorted(FORWARD_CASES))
def test_graph_forward_matches_numpy(name, rng):
    build, ref = FORWARD_CASES[name]
    a = uniform(rng, (3, 4))
    x = pa1.placeholder("x", (-1, 4))
    check_close(pa1.evaluate(build(x), {x: a}), ref(a.astype(np.float64)), rtol=1e-5, atol=1e-6, what=name)


def test_graph_forward_nn_ops_match_numpy(rng):
    logits = uniform(rng, (5, 4)) * 3
    labels = rng.integers(0, 4, size=5)
    table = uniform(rng, (6, 3))
    idx = np.array([[0, 5, 5], [2, 1, 0]])
    z, y = pa1.placeholder("z", (-1, 4)), pa1.placeholder("y", (-1,), np.int64)
    t, i = pa1.placeholder("t", (6, 3)), pa1.placeholder("i", (2, 3), np.int64)
    loss, emb, hot = pa1.evaluate(
        [pa1.softmax_cross_entropy(z, y), pa1.embedding(t, i), pa1.one_hot(y, 4)],
        {z: logits, y: labels, t: table, i: idx})
    check_close(loss, cross_entropy_np(logits, labels), rtol=1e-5, what="softmax_cross_entropy")
    check_close(emb, table[idx], what="embedding")
    check_close(hot, np.eye(4)[labels], what="one_hot")


def test_graph_matmul_transpose_flags(rng):
    a, b = uniform(rng, (4, 3)), uniform(rng, (5, 4))
    x, w = pa1.constant(a), pa1.constant(b)
    got = pa1.evaluate(pa1.matmul(x, w, trans_a=True, trans_b=True))
    check_close(got, a.T.astype(np.float64) @ b.T, rtol=1e-5, what="matmul(trans_a, trans_b)")


def test_graph_dropout_is_identity_without_training(rng):
    a = uniform(rng, (8, 16))
    x = pa1.placeholder("x", (8, 16))
    d = pa1.dropout(x, 0.5, seed=3)
    ex = pa1.Executor([d])
    check_close(ex.run({x: a}, training=False)[0], a, what="dropout(training=False)")
    kept = ex.run({x: a}, step=0)[0]
    assert np.all((kept == 0) | np.isclose(kept, 2 * a)), "inverted dropout scales kept values by 1/(1-p)"
    check_close(ex.run({x: a}, step=0)[0], kept, what="dropout with the same step")


# ============================================================================================
# Executor: feeds, re-runs, outputs
# ============================================================================================


def test_executor_feeds_and_reruns(rng):
    x = pa1.placeholder("x", (-1, 3))
    w = pa1.variable("W", uniform(rng, (3, 2)))
    y = pa1.relu(x @ w)
    ex = pa1.Executor([y])
    w_np = w.value.numpy().astype(np.float64)
    for batch in (1, 5, 7):
        a = rng.uniform(-1, 1, size=(batch, 3))        # float64 feed: converted to float32
        out, = ex.run({x: a})
        assert out.dtype == np.float32 and out.shape == (batch, 2)
        check_close(out, np.maximum(a @ w_np, 0), rtol=1e-5, atol=1e-6, what=f"batch {batch}")
    assert ex.runs == 3
    # A Tensor feed and a list feed work as well; numpy=False returns mlsys.Tensor.
    t = mlsys.ones((2, 3))
    out_t, = ex.run({x: t}, numpy=False)
    assert isinstance(out_t, mlsys.Tensor)
    check_close(out_t.numpy(), np.maximum(np.ones((2, 3)) @ w_np, 0), rtol=1e-5, what="Tensor feed")
    check_close(ex.run({x: [[1.0, 1.0, 1.0]]})[0], np.maximum(np.ones((1, 3)) @ w_np, 0), rtol=1e-5)
    # Feeds for placeholders the outputs do not need are ignored.
    ex.run({x: t, pa1.placeholder("unused", (9,)): np.zeros(9)})


def test_executor_converts_feeds_to_the_placeholder_dtype():
    labels = pa1.placeholder("labels", (-1,), np.int64)
    hot = pa1.one_hot(labels, 3)
    out, = pa1.Executor([hot]).run({labels: np.array([2, 0], dtype=np.int32)})
    check_close(out, [[0, 0, 1], [1, 0, 0]], what="one_hot of int32 labels")
    x = pa1.placeholder("x", (2,))
    out, = pa1.Executor([x * 2]).run({x: [1, 2]})       # integers feed a float32 placeholder
    assert out.dtype == np.float32
    check_close(out, [2.0, 4.0], what="integer list fed to a float32 placeholder")


def test_executor_sees_variable_updates_and_outputs_are_snapshots():
    w = pa1.variable("W", np.array([1.0, 2.0]))
    y = w * 3
    ex = pa1.Executor([w, y, pa1.reshape(w, (2, 1))])
    w0, y0, r0 = ex.run()
    w.value = np.array([10.0, 20.0])   # in place: the executor reads the new values
    w1, y1, r1 = ex.run()
    check_close(w0, [1.0, 2.0], what="an array returned before the update")
    check_close(r0, [[1.0], [2.0]], what="a reshape of a variable returned before the update")
    check_close(y1, [30.0, 60.0], what="the run after the update")
    check_close(w1, [10.0, 20.0])
    with pytest.raises(mlsys.Error, match="W"):
        w.value = np.zeros(3)          # shape mismatch names the variable
    with pytest.raises(mlsys.Error):
        y.value = np.zeros(2)          # only variables can be assigned


def test_executor_evaluates_shared_nodes_once():
    x = pa1.placeholder("x", (3,))
    s = pa1.exp(x)                     # used three times
    y = s * s + s
    ex = pa1.Executor([y, s])
    assert len(ex.schedule) == len(set(ex.schedule)) == 4   # x, exp, mul, add
    positions = {n: i for i, n in enumerate(ex.schedule)}
    for n in ex.schedule:
        assert all(positions[i] < positions[n] for i in n.inputs), "every node after its inputs"
    out_y, out_s = ex.run({x: np.zeros(3)})
    check_close(out_y, [2.0, 2.0, 2.0], what="exp(0)^2 + exp(0)")
    check_close(out_s, [1.0, 1.0, 1.0], what="exp(0)")


# ============================================================================================
# Bad input: errors name the node
# ============================================================================================


def test_bad_feed_shape_names_the_placeholder():
    x = pa1.placeholder("images", (-1, 3))
    y = pa1.sum(x * 2)
    ex = pa1.Executor([y])
    with pytest.raises(mlsys.Error) as e:
        ex.run({x: np.zeros((4, 5), np.float32)})
    msg = str(e.value)
    assert "'images'" in msg and "[4, 5]" in msg and "[-1, 3]" in msg, msg
    with pytest.raises(mlsys.Error, match="'images'"):
        ex.run({x: np.zeros(3, np.float32)})               # wrong rank
    with pytest.raises(mlsys.Error, match="missing feed.*'images'"):
        ex.run({})


def test_bad_feed_dtype_and_key_name_the_node():
    labels = pa1.placeholder("labels", (-1,), np.int64)
    ex = pa1.Executor([pa1.one_hot(labels, 4)])
    with pytest.raises(mlsys.Error, match="'labels'.*int64|int64.*'labels'"):
        ex.run({labels: np.array([0.5, 1.5])})              # floats fed to int64 labels
    w = pa1.variable("W", np.zeros(2))
    with pytest.raises(mlsys.Error, match="'W'"):
        pa1.Executor([w * 2]).run({w: np.ones(2)})          # only placeholders can be fed
    with pytest.raises(TypeError):
        ex.run({"labels": np.array([0])})
    with pytest.raises(TypeError):
        ex.run([np.array([0])])


def test_incompatible_shapes_fail_when_built():
    a = pa1.placeholder("a", (2, 3))
    b = pa1.placeholder("b", (4, 5))
    with pytest.raises(mlsys.Error, match="matmul"):
        pa1.matmul(a, b)
    with pytest.raises(mlsys.Error, match="add"):
        a + b
    with pytest.raises(mlsys.Error, match="axes"):
        pa1.sum(a, axes=())


def test_runtime_shape_error_names_the_node():
    a = pa1.placeholder("a", (-1, 3))
    b = pa1.placeholder("b", (-1, 3))
    s = a + b
    s.name = "the_sum"
    with pytest.raises(mlsys.Error, match="the_sum"):
        pa1.evaluate(s, {a: np.zeros((2, 3)), b: np.zeros((5, 3))})


def test_optimizer_rejects_bad_grads():
    w = pa1.variable("W", np.zeros((2, 2)))
    opt = pa1.SGD([w], lr=0.1)
    with pytest.raises(mlsys.Error, match="'W'"):
        opt.step([np.zeros(3)])
    with pytest.raises(mlsys.Error, match="1 parameters"):
        opt.step([])
    with pytest.raises(mlsys.Error, match="'x'"):
        pa1.Adam([pa1.placeholder("x", (2,))])              # only variables can be optimized
    assert opt.steps == 0


# ============================================================================================
# The MLP builder and stubs
# ============================================================================================


def test_mlp_builder_shapes_and_forward(rng):
    model = pa1.build_mlp([64, 32, 10], seed=0)
    assert model.x.shape == (-1, 64) and model.logits.shape == (-1, 10)
    assert [p.name for p in model.params] == ["W1", "b1", "W2", "b2"]
    assert [p.shape for p in model.params] == [(64, 32), (32,), (32, 10), (10,)]
    bound = np.sqrt(6 / 64)                                  # He-uniform for relu
    assert np.abs(model.params[0].value.numpy()).max() <= bound
    images = uniform(rng, (5, 64), 0, 1)
    w1, b1, w2, b2 = (p.value.numpy().astype(np.float64) for p in model.params)
    want = np.maximum(images @ w1 + b1, 0) @ w2 + b2
    check_close(pa1.evaluate(model.logits, {model.x: images}), want, rtol=1e-4, atol=1e-5, what="MLP logits")
    tanh_model = pa1.build_mlp([4, 3, 2], seed=1, activation="tanh")
    assert tanh_model.logits.inputs[0].inputs[0].op == "tanh"   # logits = h1 @ W2 + b2
    with pytest.raises(mlsys.Error, match="activation"):
        pa1.build_mlp([4, 2], activation="swish")


def test_stubs_raise_not_implemented_naming_their_task():
    """In the student build each unfilled stub raises mlsys.NotImplemented with its task id; in
    the solution build the calls succeed. Either way nothing else may come out."""
    x = pa1.placeholder("x", (2,))
    y = pa1.sum(x * x)
    calls = {
        "PA1 Task 2.1": lambda: pa1.topological_sort(y),
        "PA1 Task 3.1": lambda: pa1.SGD([pa1.variable("w", np.zeros(2))], lr=0.1).step([np.ones(2)]),
        "PA1 Task 3.2": lambda: pa1.Adam([pa1.variable("w", np.zeros(2))]).step([np.ones(2)]),
        "PA1 Task 4": lambda: pa1.Trainer(pa1.build_mlp([2, 2]), pa1.SGD([], lr=0.1)),
    }
    for task, call in calls.items():
        try:
            call()
        except mlsys.NotImplemented as e:
            assert e.task == task, f"expected {task}, got {e.task}: {e}"
            assert isinstance(e, mlsys.Error) and isinstance(e, NotImplementedError)
            assert "handouts/pa1.md#task-" + task.split()[-1].replace(".", "") in str(e)
