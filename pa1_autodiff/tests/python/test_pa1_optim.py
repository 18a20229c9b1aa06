"""PA1 Tasks 3.1 and 3.2 — SGD (momentum, weight decay), Adam and AdamW, from Python.

The first steps are checked against numbers worked out by hand (in the comments); longer runs
against the update formulas of the handout applied in float64 NumPy, written here.
"""

import numpy as np

import mlsys.pa1 as pa1
from pa1_testutil import check_close, uniform


def values(params):
    return [p.value.numpy().copy() for p in params]


# ============================================================================================
# Task 3.1: SGD
# ============================================================================================


def test_task3_1_sgd_plain_step_by_hand():
    # w = [1, -2], g = [0.5, -1], lr = 0.1:  w - lr g = [0.95, -1.9]
    w = pa1.variable("w", np.array([1.0, -2.0]))
    opt = pa1.SGD([w], lr=0.1)
    opt.step([np.array([0.5, -1.0])])
    check_close(w.value.numpy(), [0.95, -1.9], rtol=1e-6, what="w after one SGD step")
    assert opt.steps == 1


def test_task3_1_sgd_momentum_by_hand():
    # momentum 0.9, the same g twice:  v1 = g = [0.5, -1],        w1 = [0.95, -1.9]
    #                                  v2 = 0.9 v1 + g = [0.95, -1.9], w2 = w1 - 0.1 v2 = [0.855, -1.71]
    w = pa1.variable("w", np.array([1.0, -2.0]))
    opt = pa1.SGD([w], lr=0.1, momentum=0.9)
    opt.step([np.array([0.5, -1.0])])
    check_close(w.value.numpy(), [0.95, -1.9], rtol=1e-6, what="w after step 1")
    opt.step([np.array([0.5, -1.0])])
    check_close(w.value.numpy(), [0.855, -1.71], rtol=1e-6, what="w after step 2 (momentum)")


def test_task3_1_sgd_weight_decay_by_hand():
    # weight_decay 0.1: g' = g + 0.1 w = [0.6, -1.2];  w - 0.1 g' = [0.94, -1.88]
    w = pa1.variable("w", np.array([1.0, -2.0]))
    pa1.SGD([w], lr=0.1, weight_decay=0.1).step([np.array([0.5, -1.0])])
    check_close(w.value.numpy(), [0.94, -1.88], rtol=1e-6, what="w after one step with weight decay")


def sgd_reference(w, grads, lr, momentum, weight_decay):
    w, v = w.astype(np.float64), np.zeros(w.shape)
    for g in grads:
        g = g + weight_decay * w
        v = momentum * v + g
        w = w - lr * v
    return w


def test_task3_1_sgd_three_steps_two_params(rng):
    params = [pa1.variable("W", uniform(rng, (3, 4))), pa1.variable("b", uniform(rng, (4,)))]
    start = values(params)
    grads = [[uniform(rng, p.shape) for p in params] for _ in range(3)]
    opt = pa1.SGD(params, lr=0.05, momentum=0.9, weight_decay=0.01)
    for g in grads:
        opt.step(g)
    for i, p in enumerate(params):
        want = sgd_reference(start[i], [g[i] for g in grads], 0.05, 0.9, 0.01)
        check_close(p.value.numpy(), want, rtol=1e-5, atol=1e-6, what=f"{p.name} after 3 steps")


def test_task3_1_sgd_updates_in_place():
    """Graphs and executors that read the variable see the update; the value tensor is the same
    memory as before (written into, not replaced)."""
    w = pa1.variable("w", np.array([1.0, 2.0]))
    ex = pa1.Executor([w * 2.0])
    before = w.value.data_ptr()
    pa1.SGD([w], lr=0.5).step([np.array([1.0, 1.0])])
    assert w.value.data_ptr() == before, "update w.value in place (copy_), do not replace it"
    check_close(ex.run()[0], [1.0, 3.0], what="a graph reading w after the step")


# ============================================================================================
# Task 3.2: Adam and AdamW
# ============================================================================================


def test_task3_2_adam_steps_by_hand():
    # Step 1: m = 0.1 g, v = 0.001 g^2; bias correction gives m_hat = g, v_hat = g^2, so the
    # step is lr * g / (|g| + eps) = lr * sign(g):  [1, -2] -> [0.9, -1.9]. With the same g
    # again, m_hat = g and v_hat = g^2 still (m = 0.19 g / 0.19, v = 0.001999 g^2 / 0.001999):
    # [0.8, -1.8].
    w = pa1.variable("w", np.array([1.0, -2.0]))
    opt = pa1.Adam([w], lr=0.1)
    opt.step([np.array([0.5, -1.0])])
    check_close(w.value.numpy(), [0.9, -1.9], rtol=1e-6, what="w after Adam step 1")
    opt.step([np.array([0.5, -1.0])])
    check_close(w.value.numpy(), [0.8, -1.8], rtol=1e-6, what="w after Adam step 2 (bias correction)")


def test_task3_2_adamw_step_by_hand():
    # AdamW, weight_decay 0.1, lr 0.1: w = w (1 - 0.01) = [0.99, -1.98], then - lr sign(g):
    # [0.89, -1.88].
    w = pa1.variable("w", np.array([1.0, -2.0]))
    pa1.AdamW([w], lr=0.1, weight_decay=0.1).step([np.array([0.5, -1.0])])
    check_close(w.value.numpy(), [0.89, -1.88], rtol=1e-6, what="w after one AdamW step")


def adam_reference(w, grads, lr, beta1, beta2, eps, weight_decay, decoupled):
    w = w.astype(np.float64)
    m = np.zeros(w.shape)
    v = np.zeros(w.shape)
    for t, g in enumerate(grads, start=1):
        g = g.astype(np.float64)
        if decoupled:
            w = w * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * w
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        w = w - lr * (m / (1 - beta1 ** t)) / (np.sqrt(v / (1 - beta2 ** t)) + eps)
    return w


def check_adam(rng, make, decoupled, weight_decay):
    params = [pa1.variable("W", uniform(rng, (3, 4))), pa1.variable("b", uniform(rng, (4,)))]
    start = values(params)
    grads = [[uniform(rng, p.shape) for p in params] for _ in range(3)]
    opt = make(params)
    for g in grads:
        opt.step(g)
    for i, p in enumerate(params):
        want = adam_reference(start[i], [g[i] for g in grads], 0.01, 0.8, 0.99, 1e-8, weight_decay, decoupled)
        check_close(p.value.numpy(), want, rtol=1e-5, atol=1e-6, what=f"{p.name} after 3 steps")


def test_task3_2_adam_three_steps(rng):
    check_adam(rng, lambda ps: pa1.Adam(ps, lr=0.01, beta1=0.8, beta2=0.99), False, 0.0)


def test_task3_2_adam_l2_weight_decay(rng):
    check_adam(rng, lambda ps: pa1.Adam(ps, lr=0.01, beta1=0.8, beta2=0.99, weight_decay=0.1), False, 0.1)


def test_task3_2_adamw_decoupled_weight_decay(rng):
    check_adam(rng, lambda ps: pa1.AdamW(ps, lr=0.01, beta1=0.8, beta2=0.99, weight_decay=0.1), True, 0.1)
