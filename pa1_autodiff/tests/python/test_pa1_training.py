"""PA1 Task 4 — the Trainer (loss graph, train_step, accuracy) and a short training run on the
shipped digits, from Python.

The loss and the parameter update are checked against a NumPy float64 MLP (finite differences
for the gradient), accuracy against a count done by hand, and training by what it must achieve.
"""

import numpy as np
import pytest

import mlsys
import mlsys.pa1 as pa1
from pa1_testutil import check_close, cross_entropy_np, numeric_gradient, uniform


def mlp_loss_np(params, images, labels):
    """Mean cross-entropy of an MLP with relu hidden layers, float64. params: [W1, b1, ...]."""
    h = np.asarray(images, dtype=np.float64)
    layers = len(params) // 2
    for i in range(layers):
        h = h @ params[2 * i] + params[2 * i + 1]
        if i + 1 < layers:
            h = np.maximum(h, 0.0)
    return cross_entropy_np(h, labels)


def test_task4_trainer_builds_the_loss_graph(rng):
    model = pa1.build_mlp([4, 5, 3], seed=0)
    trainer = pa1.Trainer(model, pa1.SGD(model.params, lr=0.5))
    labels = trainer.labels
    assert (labels.name, labels.kind, labels.dtype, labels.shape) == (
        "labels", pa1.NodeKind.placeholder, mlsys.int64, (-1,))
    assert trainer.loss.shape == () and trainer.loss.op == "softmax_cross_entropy"
    assert [g.shape for g in trainer.grads] == [p.shape for p in model.params]
    images, y = uniform(rng, (6, 4)), rng.integers(0, 3, size=6)
    params = [p.value.numpy().astype(np.float64) for p in model.params]
    loss = pa1.evaluate(trainer.loss, {model.x: images, labels: y})
    check_close(loss, mlp_loss_np(params, images, y), rtol=1e-5, what="Trainer.loss")


def test_task4_train_step_returns_loss_and_updates(rng):
    """With SGD, one step must move every parameter by -lr * dloss/dparam (finite differences of
    the NumPy MLP) and return the loss computed before the update."""
    model = pa1.build_mlp([4, 5, 3], seed=1)
    # Non-zero biases, so that their gradients are not a special case.
    for p in model.params[1::2]:
        p.value = uniform(rng, p.shape, -0.5, 0.5)
    lr = 0.5
    opt = pa1.SGD(model.params, lr=lr)
    trainer = pa1.Trainer(model, opt)
    images, y = uniform(rng, (8, 4)), rng.integers(0, 3, size=8)
    before = [p.value.numpy().astype(np.float64) for p in model.params]
    loss = trainer.train_step(images, y)
    assert isinstance(loss, float)
    check_close(loss, mlp_loss_np(before, images, y), rtol=1e-5, what="the loss train_step returns",
                hint="return the loss of the batch computed before the update")
    assert opt.steps == 1
    for i, p in enumerate(model.params):
        def loss_of(v, i=i):
            return mlp_loss_np(before[:i] + [v] + before[i + 1:], images, y)
        want = before[i] - lr * numeric_gradient(loss_of, before[i])
        check_close(p.value.numpy(), want, rtol=1e-4, atol=1e-5, what=f"{p.name} after one step")


def test_task4_accuracy_counts_correct_rows():
    """Identity weights make the logits relu(x), so the predicted class is the argmax of each
    row: rows 0, 1, 3 and 4 below are right, 2 is wrong: 4 of 5."""
    for dropout in (0.0, 0.5):  # dropout must be off while evaluating
        model = pa1.build_mlp([3, 3, 3], seed=0, dropout=dropout)
        for p, v in zip(model.params, [np.eye(3), np.zeros(3), np.eye(3), np.zeros(3)]):
            p.value = v
        trainer = pa1.Trainer(model, pa1.SGD(model.params, lr=0.1))
        images = np.array([[3, 1, 0], [0, 2, 1], [1, 0, 5], [0, 1, 9], [7, 0, 0]], np.float32)
        labels = np.array([0, 1, 0, 2, 0])
        for batch_size in (512, 2):
            acc = trainer.accuracy(images, labels, batch_size=batch_size)
            assert acc == pytest.approx(0.8), f"dropout {dropout}, batch_size {batch_size}: {acc}"


def test_task4_short_training_on_digits_improves_accuracy():
    train, test = mlsys.train_test_split(mlsys.load_digits(), 0.2, 0)
    model = pa1.build_mlp([64, 32, 10], seed=0)
    trainer = pa1.Trainer(model, pa1.Adam(model.params, lr=1e-2))
    initial = trainer.accuracy(test.images, test.labels)
    lines = []
    history = pa1.fit(trainer, train, test, epochs=4, batch_size=32, seed=0, log=lines.append)
    assert [s.epoch for s in history] == [1, 2, 3, 4]
    assert len(lines) == 4 and lines[0].startswith("epoch") and "test" in lines[-1]
    assert history[-1].loss < history[0].loss, [s.loss for s in history]
    final = history[-1].test_accuracy
    assert final == pytest.approx(trainer.accuracy(test.images, test.labels))
    assert initial < 0.3 and final > 0.9, f"test accuracy {initial:.3f} before, {final:.3f} after 4 epochs"
    arrays = pa1.history_arrays(history)
    assert arrays["loss"].shape == (4,) and arrays["test_accuracy"][-1] == final
