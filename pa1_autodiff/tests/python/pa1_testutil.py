"""Helpers shared by the PA1 Python tests: random inputs, finite differences, comparisons.

Every expected value in these tests comes from an independent computation written in the test:
NumPy in float64 (forward formulas, and central finite differences of those formulas for
gradients), closed forms, or arithmetic done by hand. Never from mlsys.pa1's own output.
"""

import contextlib
import re

import numpy as np
import pytest

import mlsys


def uniform(rng, shape, low=-2.0, high=2.0):
    """float32 values in [low, high)."""
    return rng.uniform(low, high, size=shape).astype(np.float32)


def away_from_zero(rng, shape, low=0.2, high=2.0):
    """float32 values with |x| in [low, high) and a random sign: for ops with a kink or a pole
    at 0 (relu, 1/x), where finite differences across 0 would be meaningless."""
    mag = rng.uniform(low, high, size=shape)
    sign = np.where(rng.uniform(size=shape) < 0.5, -1.0, 1.0)
    return (mag * sign).astype(np.float32)


def numeric_gradient(f, x, eps=1e-6):
    """Central finite differences of the scalar function f at x, in float64.

    f takes a float64 array of x's shape. Used with NumPy reference formulas in float64, the
    error is about eps^2 (truncation) plus 1e-16 / eps (rounding): far below the float32
    tolerances the tests use.
    """
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        saved = x[i]
        x[i] = saved + eps
        plus = f(x)
        x[i] = saved - eps
        minus = f(x)
        x[i] = saved
        grad[i] = (plus - minus) / (2 * eps)
    return grad


def check_close(got, want, rtol=1e-4, atol=1e-5, what="value", hint=""):
    """Asserts that array `got` has want's shape and values. On a mismatch the message shows the
    first mismatching elements (index, got, want), the max abs/rel error and `hint`."""
    got = np.asarray(got)
    want = np.asarray(want)
    assert got.shape == want.shape, f"{what}: shape {got.shape}, expected {want.shape}. {hint}"
    err = np.abs(got.astype(np.float64) - want.astype(np.float64))
    bad = err > atol + rtol * np.abs(want)
    if bad.any():
        idx = [tuple(int(k) for k in i) for i in np.argwhere(bad)[:5]]
        firsts = ", ".join(f"{i}: got {got[i]:.6g}, expected {want[i]:.6g}" for i in idx)
        rel = (err / np.maximum(np.abs(want), atol)).max()
        pytest.fail(f"{what}: {int(bad.sum())} of {want.size} elements differ (first: {firsts}); "
                    f"max abs error {err.max():.3g}, max rel error {rel:.3g}. {hint}", pytrace=False)


def log_softmax_np(z, axis=-1):
    """Stable log-softmax in float64."""
    z = np.asarray(z, dtype=np.float64)
    m = z.max(axis=axis, keepdims=True)
    return z - m - np.log(np.exp(z - m).sum(axis=axis, keepdims=True))


def cross_entropy_np(logits, labels):
    """Mean over rows of -log_softmax(logits)[row, label], float64."""
    lp = log_softmax_np(logits)
    rows = np.take_along_axis(lp, np.asarray(labels)[..., None], axis=-1)[..., 0]
    return float(-rows.mean())


@contextlib.contextmanager
def raises_error(match):
    """Like pytest.raises(mlsys.Error, match=match), except that mlsys.NotImplemented (a
    subclass of mlsys.Error) propagates, so an unfinished task is reported as such."""
    try:
        yield
    except mlsys.NotImplemented:
        raise
    except mlsys.Error as e:
        assert re.search(match, str(e)), f"mlsys.Error raised, but its message does not match {match!r}: {e}"
    else:
        pytest.fail(f"expected mlsys.Error matching {match!r}, nothing was raised", pytrace=False)
