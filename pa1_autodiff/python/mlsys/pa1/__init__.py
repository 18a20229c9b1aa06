"""mlsys.pa1 — PA1 (autodiff and computational graphs) from Python.

A thin layer over the C++ library (pa1_autodiff/include/pa1/*.h); the extension module
mlsys.pa1._C holds the bindings, this package re-exports them and adds three small pure-Python
helpers (evaluate, gradcheck, history_arrays). The handout is handouts/pa1.md.

    import numpy as np, mlsys
    import mlsys.pa1 as pa1

    x = pa1.placeholder("x", (-1, 3))                  # -1: the batch size, known at run time
    W = pa1.variable("W", np.ones((3, 2)))             # float64 arrays become float32
    y = pa1.sum(pa1.relu(x @ W) * 2.0)                 # operators build nodes, nothing runs yet
    gW, = pa1.gradients(y, [W])                        # Task 2.2: the gradient is a graph too
    ex = pa1.Executor([y, gW])
    y_val, gW_val = ex.run({x: np.random.rand(5, 3)})  # numpy arrays out

Graph
    placeholder(name, shape, dtype=float32), variable(name, value), constant(value, name="");
    Node: kind, op, inputs, name (writable), shape (-1: run-time dim), dtype, value, id,
    describe(), op_gradient(grad) (one op's gradient graph: Task 1); == and hash by identity.
    Operators: + - * / (nodes, arrays/Tensors as constants, numbers as the scalar ops),
    x ** p (pow_scalar), @ (matmul), unary -.
Ops (each returns a new node)
    elementwise: add sub mul div add_scalar mul_scalar pow_scalar neg exp log sqrt relu
                 sigmoid tanh
    structural:  matmul(a, b, trans_a, trans_b) permute transpose reshape broadcast_to
                 sum(x, axes=None, keepdims) mean max(x, axis, keepdims)
    nn:          softmax log_softmax softmax_cross_entropy layernorm gelu embedding dropout
    helpers:     sum_to_like broadcast_to_like reshape_like unsqueeze squeeze numel one_hot
                 equal relu_mask scatter_add_rows zeros_like ones_like
Autodiff
    topological_sort(outputs) (Task 2.1), gradients(output, wrt, output_grad=None) (Task 2.2).
Executor
    Executor(outputs).run(feeds, training=True, step=None, numpy=True) -> list of arrays
    (numpy=False: mlsys.Tensor). Feeds: {placeholder: array, list, number or Tensor}; arrays
    are converted to the placeholder's dtype (never float to int). Returned arrays never
    share memory with a variable, so later optimizer steps do not change them.
    .schedule (evaluation order), .outputs, .runs. evaluate(nodes, feeds) runs once.
Optimizers (Tasks 3.1, 3.2) and initializers
    SGD(params, lr, momentum=0, weight_decay=0), Adam(params, lr=1e-3, beta1, beta2, eps,
    weight_decay=0, decoupled_weight_decay=False), AdamW(..., weight_decay=0.01);
    opt.step(grads) updates the variables in place; opt.lr is writable.
    xavier_uniform / xavier_normal / he_uniform / he_normal(shape, seed) -> mlsys.Tensor.
Training (Task 4)
    build_mlp(widths, seed=0, activation="relu", dropout=0.0) -> Model (x, logits, params);
    Trainer(model, optimizer): train_step(images, labels) -> loss, accuracy(images, labels);
    fit(trainer, train, test, epochs=20, batch_size=64, seed=0, verbose=True, log=None)
    -> [EpochStats(epoch, loss, train_accuracy, test_accuracy, seconds)];
    history_arrays(history) turns that into numpy columns for plotting.
Errors
    Misuse raises mlsys.Error naming the op or node (a wrong feed shape names the
    placeholder). A stub not filled in yet raises mlsys.NotImplemented (a subclass of
    mlsys.Error and NotImplementedError) whose .task is e.g. "PA1 Task 2.2".

`from mlsys.pa1 import *` leaves out the names that would shadow Python builtins (max, sum).
"""

import mlsys as _mlsys  # registers Tensor, Dataset and the error translators first

from ._C import (
    Activation,
    Adam,
    AdamW,
    EpochStats,
    Executor,
    Model,
    Node,
    NodeKind,
    Optimizer,
    SGD,
    Trainer,
    # leaves
    constant,
    placeholder,
    variable,
    # elementwise
    add,
    add_scalar,
    div,
    exp,
    log,
    mul,
    mul_scalar,
    neg,
    pow_scalar,
    relu,
    sigmoid,
    sqrt,
    sub,
    tanh,
    # structural
    broadcast_to,
    matmul,
    max,
    mean,
    permute,
    reshape,
    sum,
    transpose,
    # neural networks
    dropout,
    embedding,
    gelu,
    layernorm,
    log_softmax,
    softmax,
    softmax_cross_entropy,
    # helpers gradients are built from
    broadcast_to_like,
    equal,
    numel,
    one_hot,
    ones_like,
    relu_mask,
    reshape_like,
    scatter_add_rows,
    squeeze,
    sum_to_like,
    unsqueeze,
    zeros_like,
    # autodiff
    gradients,
    topological_sort,
    # initializers
    he_normal,
    he_uniform,
    xavier_normal,
    xavier_uniform,
    # training
    build_mlp,
    fit,
    take_rows,
)

import collections as _collections

import numpy as _np

# Show the classes as mlsys.pa1.X rather than mlsys.pa1._C.X.
for _cls in (Activation, Adam, AdamW, EpochStats, Executor, Model, Node, NodeKind, Optimizer,
             SGD, Trainer):
    _cls.__module__ = __name__
del _cls


def evaluate(nodes, feeds=None, *, training=True, numpy=True):
    """Runs `nodes` once: a Node gives its value, a list of Nodes a list of values."""
    single = isinstance(nodes, Node)
    values = Executor([nodes] if single else list(nodes)).run(feeds, training=training, numpy=numpy)
    return values[0] if single else values


GradcheckResult = _collections.namedtuple(
    "GradcheckResult", "node max_abs_error max_rel_error ok first_bad")
GradcheckResult.__doc__ = """One row of gradcheck(): the node checked, the largest absolute and
relative differences between gradients() and finite differences, whether every element is
within tolerance, and the first element that is not (index, analytic, numeric) or None."""


def gradcheck(output, wrt, feeds=None, *, eps=1e-3, rtol=1e-2, atol=1e-3, seed=0):
    """Checks gradients(output, wrt) against central finite differences.

    The scalar differentiated is L = sum(output * R) for a fixed random R (so every element of
    a non-scalar output matters); its gradient w.r.t. each node of `wrt` (placeholders fed in
    `feeds`, or variables) is compared elementwise with (L(v + eps) - L(v - eps)) / (2 eps),
    L computed by forward runs only, summed in float64. Returns one GradcheckResult per node.
    Cost: two forward runs per element of every wrt node, so keep the inputs small.
    """
    wrt = [wrt] if isinstance(wrt, Node) else list(wrt)
    feeds = dict(feeds or {})
    forward = Executor([output])
    out0 = forward.run(feeds)[0]
    r = _np.random.default_rng(seed).uniform(-1.0, 1.0, size=out0.shape)
    analytic = Executor(gradients(output, wrt, constant(r.astype(_np.float32)))).run(feeds)

    def loss():
        return float(_np.sum(forward.run(feeds)[0].astype(_np.float64) * r))

    results = []
    for node, grad in zip(wrt, analytic):
        if node.kind == NodeKind.variable:
            values = node.value.numpy()  # a writable view of the variable's memory
        elif node in feeds:
            values = _np.array(feeds[node], dtype=_np.float32)
            feeds[node] = values
        else:
            raise _mlsys.Error(f"gradcheck: {node.describe()} is neither a variable nor fed in feeds")
        numeric = _np.zeros(values.shape)
        for i in _np.ndindex(values.shape):
            saved = values[i]
            values[i] = saved + eps
            plus = loss()
            values[i] = saved - eps
            minus = loss()
            values[i] = saved
            numeric[i] = (plus - minus) / (2 * eps)
        abs_err = _np.abs(grad - numeric)
        bad = abs_err > atol + rtol * _np.abs(numeric)
        first = None
        if bad.any():
            i = tuple(int(k) for k in _np.argwhere(bad)[0])
            first = (i, float(grad[i]), float(numeric[i]))
        results.append(GradcheckResult(
            node=node,
            max_abs_error=float(abs_err.max(initial=0.0)),
            max_rel_error=float((abs_err / _np.maximum(_np.abs(numeric), atol)).max(initial=0.0)),
            ok=not bad.any(),
            first_bad=first))
    return results


def history_arrays(history):
    """fit()'s history as numpy columns: {"epoch", "loss", "train_accuracy", "test_accuracy",
    "seconds"} -> arrays of one entry per epoch, ready for matplotlib."""
    keys = ("epoch", "loss", "train_accuracy", "test_accuracy", "seconds")
    return {k: _np.array([getattr(s, k) for s in history]) for k in keys}


_SHADOWS_BUILTINS = {"max", "sum"}

__all__ = sorted(
    name for name in list(globals())
    if not name.startswith("_") and name not in _SHADOWS_BUILTINS
)
