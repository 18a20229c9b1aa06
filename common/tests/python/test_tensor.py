"""Tests of the mlsys Python package (common/python) against NumPy as the reference.

Every expected value comes from NumPy (or, for the random generator, from the Philox
known-answer vectors), never from mlsys itself. Sections: creation, NumPy interop and
zero-copy, views and indexing, elementwise ops, reductions, linear algebra, softmax, random
numbers, errors, I/O, CUDA (skipped without a GPU).
"""

import copy
import gc
import pathlib

import numpy as np
import pytest

import mlsys

DTYPES = [(mlsys.float32, np.float32), (mlsys.int32, np.int32), (mlsys.int64, np.int64)]
SHAPES = [(), (1,), (5,), (0,), (2, 0, 3), (2, 3), (2, 3, 4), (1, 2, 1, 3, 1, 2, 1, 2)]

requires_cuda = pytest.mark.skipif(
    not mlsys.cuda_available(),
    reason="no usable CUDA device"
    + ("" if mlsys.cuda_built() else " (this build has no CUDA support: configure with MLSYS_CUDA=ON)"),
)


def check(got, want, rtol=1e-5, atol=1e-6, hint=""):
    """Asserts that Tensor `got` has the shape, dtype and values of ndarray `want`.

    On a mismatch, NumPy's message lists the mismatching elements and the max abs/rel error.
    """
    assert isinstance(got, mlsys.Tensor), f"expected an mlsys.Tensor, got {type(got).__name__}"
    want = np.asarray(want)
    assert got.shape == want.shape, f"shape {got.shape}, expected {want.shape}. {hint}"
    assert got.numpy().dtype == want.dtype, f"dtype {got.dtype}, expected {want.dtype}. {hint}"
    np.testing.assert_allclose(got.numpy(), want, rtol=rtol, atol=atol, err_msg=hint)


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def rand_f32(rng, shape, low=-2.0, high=2.0):
    return rng.uniform(low, high, size=shape).astype(np.float32)


def noncontiguous(rng, shape, kind):
    """A float32 array of `shape` and the mlsys view that holds the same values with a
    non-contiguous layout: a transposed view or every other element of a wider tensor."""
    if kind == "transposed":
        base = rand_f32(rng, shape[::-1])
        return base.T, mlsys.from_numpy(base).T
    base = rand_f32(rng, shape[:-1] + (2 * shape[-1],))
    return base[..., ::2], mlsys.from_numpy(base).slice(-1, 0, None, 2)


# ============================================================================================
# Creation
# ============================================================================================


@pytest.mark.parametrize("shape", [(), (3,), (2, 0), (2, 3, 4)])
@pytest.mark.parametrize("dtype,np_dtype", DTYPES)
def test_zeros_ones_full(shape, dtype, np_dtype):
    check(mlsys.zeros(shape, dtype=dtype), np.zeros(shape, np_dtype))
    check(mlsys.ones(shape, dtype=dtype), np.ones(shape, np_dtype))
    check(mlsys.full(shape, 7, dtype=dtype), np.full(shape, 7, np_dtype))
    e = mlsys.empty(shape, dtype=dtype)
    assert e.shape == shape and e.dtype == dtype and e.device == mlsys.Device.cpu


def test_creation_defaults_and_argument_forms():
    t = mlsys.zeros(3)
    assert t.shape == (3,) and t.dtype == mlsys.float32 and t.device == mlsys.Device.cpu
    assert mlsys.ones([2, 3]).shape == (2, 3)
    # dtype as DType, name or NumPy dtype; device as Device or string.
    for dt in (mlsys.int32, "int32", np.int32, np.dtype("int32")):
        assert mlsys.zeros(2, dtype=dt).dtype == mlsys.int32
    assert mlsys.zeros(2, device="cpu").device == mlsys.Device.cpu
    assert mlsys.zeros(2, device=mlsys.Device.cpu).device == mlsys.Device.cpu
    check(mlsys.scalar(2.5), np.float32(2.5))
    x = mlsys.rand((2, 3), seed=0)
    check(mlsys.zeros_like(x), np.zeros((2, 3), np.float32))
    check(mlsys.ones_like(mlsys.zeros(4, dtype="int64")), np.ones(4, np.int64))


@pytest.mark.parametrize(
    "args,kwargs",
    [((5,), {}), ((2, 7), {}), ((0, 1, 0.1), {}), ((3, -2, -0.5), {}), ((1, 1), {}),
     ((0, 10, 3), {"dtype": "int64"}), ((-4, 4), {"dtype": "int32"})],
)
def test_arange(args, kwargs):
    np_dtype = np.dtype(kwargs.get("dtype", "float32"))
    want = np.arange(*args, dtype=np.float64).astype(np_dtype)
    check(mlsys.arange(*args, **kwargs), want)


# ============================================================================================
# NumPy interop: round trips, conversions, zero-copy, lifetime
# ============================================================================================


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype,np_dtype", DTYPES)
def test_numpy_round_trip(rng, shape, dtype, np_dtype):
    a = (rng.standard_normal(shape) * 100).astype(np_dtype)
    t = mlsys.from_numpy(a)
    assert t.shape == shape and t.dtype == dtype
    assert t.numel() == 0 or t.is_contiguous()  # zero-size: see test_zero_size_is_contiguous
    back = t.numpy()
    assert back.dtype == np_dtype and back.shape == shape
    np.testing.assert_array_equal(back, a)
    np.testing.assert_array_equal(np.asarray(t), a)  # __array__
    assert t.tolist() == a.tolist()


def test_zero_size_is_contiguous():
    assert mlsys.zeros((2, 0, 3)).is_contiguous()
    assert mlsys.from_numpy(np.zeros((2, 0, 3), np.float32)).is_contiguous()


def test_from_numpy_copies_and_accepts_any_layout(rng):
    a = rand_f32(rng, (4, 6))
    t = mlsys.from_numpy(a)
    a[0, 0] = 100.0
    assert t[0, 0].item() != 100.0, "from_numpy must copy: NumPy memory is not ours to keep"
    for view in (a.T, a[::2, 1::3], a[::-1], a[:, ::-2], np.asfortranarray(a)):
        check(mlsys.from_numpy(view), view, rtol=0, atol=0)


@pytest.mark.parametrize(
    "data,dtype",
    [
        ([[1.5, 2.0], [3.0, 4.0]], np.float32),
        ([[1, 2], [3, 4]], np.int64),
        (3.5, np.float32),
        (7, np.int64),
        ([], np.float32),
        (np.arange(6, dtype=np.float64).reshape(2, 3), np.float32),
        (np.arange(6, dtype=np.float16), np.float32),
        (np.arange(6, dtype=np.int32), np.int32),
        (np.arange(6, dtype=np.int16), np.int64),
        (np.arange(6, dtype=np.uint8), np.int64),
        (np.array([True, False, True]), np.float32),
        (np.arange(4, dtype=">f4"), np.float32),
    ],
)
def test_tensor_converts(data, dtype):
    t = mlsys.tensor(data)
    check(t, np.asarray(data).astype(dtype), rtol=0, atol=0)


def test_tensor_dtype_device_and_tensor_input():
    check(mlsys.tensor([1.7, -2.2], dtype="int32"), np.array([1, -2], np.int32))
    check(mlsys.tensor([1, 2], dtype=mlsys.float32, device="cpu"), np.array([1, 2], np.float32))
    src = mlsys.tensor([1.0, 2.0])
    dup = mlsys.tensor(src)
    dup[0] = 9.0
    assert src[0].item() == 1.0, "mlsys.tensor(t) must copy"


def test_from_numpy_rejects_unsupported_dtypes():
    for bad in (np.zeros(3), np.zeros(3, np.uint8), np.zeros(3, bool), np.zeros(3, ">f4")):
        with pytest.raises(mlsys.Error, match="from_numpy.*unsupported numpy dtype"):
            mlsys.from_numpy(bad)
    with pytest.raises(mlsys.Error, match="float64"):
        mlsys.from_numpy(np.zeros(3))
    with pytest.raises(mlsys.Error, match="expected a numpy.ndarray"):
        mlsys.from_numpy([1.0, 2.0])
    with pytest.raises(mlsys.Error, match="tensor"):
        mlsys.tensor(["a", "b"])


def test_numpy_is_a_view_of_the_tensor():
    t = mlsys.zeros((4,))
    a, b = t.numpy(), t.numpy()
    assert a.ctypes.data == t.data_ptr()
    assert np.shares_memory(a, b)
    a[0] = 5.0
    assert b[0] == 5.0
    assert t[0].item() == 5.0, "a write through numpy() must be visible in the tensor"
    t.fill_(2.0)  # a C++-side write is visible through the array
    np.testing.assert_array_equal(a, [2, 2, 2, 2])


@pytest.mark.parametrize("dtype,np_dtype", DTYPES)
def test_numpy_of_non_contiguous_views(dtype, np_dtype):
    base_np = np.arange(24).reshape(2, 3, 4).astype(np_dtype)
    t = mlsys.from_numpy(base_np)
    item = np.dtype(np_dtype).itemsize
    cases = [
        (t.T, base_np.T),
        (t.transpose(0, 2), base_np.transpose(2, 1, 0)),
        (t.permute(1, 2, 0), base_np.transpose(1, 2, 0)),
        (t.slice(2, 1, None, 2), base_np[:, :, 1::2]),
        (t[1, :, 1:3], base_np[1, :, 1:3]),
        (t.select(1, 2), base_np[:, 2]),
    ]
    for view, want in cases:
        a = view.numpy()
        assert not view.is_contiguous() or view.numel() <= 1 or a.flags.c_contiguous
        np.testing.assert_array_equal(a, want)
        assert a.strides == tuple(s * item for s in view.strides)
        assert np.shares_memory(a, t.numpy()), "numpy() of a view must not copy"
    # Transposed 2-d float32: byte strides swap.
    m = mlsys.zeros((2, 3))
    assert m.T.numpy().strides == (4, 12)
    # Writes through a view's array land in the base tensor.
    t.slice(2, 1, None, 2).numpy()[...] = 0
    assert t.numpy()[:, :, 1::2].sum() == 0


def test_numpy_of_broadcast_view_is_read_only():
    t = mlsys.tensor([1.0, 2.0, 3.0])
    a = t.expand(4, 3).numpy()
    assert a.strides == (0, 4)
    np.testing.assert_array_equal(a, np.broadcast_to([1, 2, 3], (4, 3)))
    assert not a.flags.writeable
    with pytest.raises(ValueError):
        a[0, 0] = 1.0


def test_numpy_keeps_storage_alive():
    a = mlsys.ones((3,)).numpy()
    gc.collect()
    assert a.sum() == 3
    b = mlsys.arange(12).reshape(3, 4).T.numpy()  # base tensor and view both gone
    gc.collect()
    junk = [mlsys.full((3, 4), -1.0) for _ in range(10)]  # reuse of freed memory would show
    np.testing.assert_array_equal(b, np.arange(12, dtype=np.float32).reshape(3, 4).T)
    del junk


def test_arithmetic_with_numpy_arrays_is_refused():
    t = mlsys.ones(3)
    with pytest.raises(TypeError):
        np.ones(3) + t
    with pytest.raises(TypeError):
        t + np.ones(3)
    # NumPy scalars act like Python numbers and give tensors.
    assert isinstance(np.float64(2.0) * t, mlsys.Tensor)
    assert isinstance(t * np.float32(2.0), mlsys.Tensor)


# ============================================================================================
# Views, copies and indexing
# ============================================================================================


def test_metadata_and_repr():
    t = mlsys.arange(6).reshape(2, 3)
    assert t.shape == (2, 3) and t.strides == (3, 1) and t.ndim == 2 and t.numel() == 6
    assert t.offset == 0 and t.is_contiguous() and not t.T.is_contiguous()
    assert t.dtype == mlsys.float32 and t.device == mlsys.Device.cpu
    r = repr(t)
    assert "float32" in r and "[2, 3]" in r and "cpu" in r and "5." in r
    assert "int64" in repr(mlsys.zeros(2, dtype="int64"))
    assert "..." in repr(mlsys.zeros((1000,)))  # long tensors are summarized


def test_views_share_memory_and_match_numpy(rng):
    a = rand_f32(rng, (2, 3, 4))
    t = mlsys.from_numpy(a)
    tn = t.numpy()
    cases = [
        (t.reshape(6, 4), a.reshape(6, 4)),
        (t.reshape((4, -1)), a.reshape(4, -1)),
        (t.view([24]), a.reshape(24)),
        (t.flatten(), a.reshape(-1)),
        (t.permute((2, 0, 1)), a.transpose(2, 0, 1)),
        (t.transpose(0, 1), a.transpose(1, 0, 2)),
        (t.t(), np.swapaxes(a, -1, -2)),
        (t.mT, np.swapaxes(a, -1, -2)),
        (t.T, a.T),
        (t.slice(1, -2, None), a[:, -2:]),
        (t.slice(2, 1, 100, 2), a[:, :, 1:100:2]),
        (t.select(0, -1), a[-1]),
        (t.unsqueeze(1), a[:, None]),
        (t.unsqueeze(-1), a[..., None]),
        (t[:, :1].squeeze(1), a[:, 0]),
        (t.reshape(1, 2, 1, 12).squeeze(), a.reshape(2, 12)),
        (t[:1].expand(5, 3, 4), np.broadcast_to(a[:1], (5, 3, 4))),
        (t.select(2, 0).unsqueeze(-1).broadcast_to((2, 3, 4)), np.broadcast_to(a[..., :1], (2, 3, 4))),
    ]
    for view, want in cases:
        check(view, want, rtol=0, atol=0)
        assert np.shares_memory(view.numpy(), tn)


def test_reshape_of_non_viewable_layout_raises():
    t = mlsys.zeros((2, 3)).T
    with pytest.raises(mlsys.Error, match="reshape.*contiguous"):
        t.reshape(6)
    check(t.contiguous().reshape(6), np.zeros(6, np.float32))


def test_copies(rng):
    a = rand_f32(rng, (3, 4))
    t = mlsys.from_numpy(a)
    c = t.T.contiguous()
    assert c.is_contiguous() and not np.shares_memory(c.numpy(), t.numpy())
    check(c, a.T, rtol=0, atol=0)
    k = t.clone()
    k[0, 0] = 42.0
    assert t[0, 0].item() == a[0, 0]
    for cpy in (copy.copy(t), copy.deepcopy(t)):
        assert not np.shares_memory(cpy.numpy(), t.numpy())
        check(cpy, a, rtol=0, atol=0)
    assert t.to("cpu").data_ptr() == t.data_ptr() and t.cpu().data_ptr() == t.data_ptr()


@pytest.mark.parametrize("src,dst", [(np.float32, np.int32), (np.float32, np.int64),
                                     (np.int64, np.float32), (np.int32, np.int64)])
def test_astype(rng, src, dst):
    a = (rng.standard_normal((3, 5)) * 50).astype(src)
    check(mlsys.from_numpy(a).T.astype(dst), a.T.astype(dst), rtol=0, atol=0)


@pytest.mark.parametrize(
    "key",
    [1, -1, (1, 2), (slice(None), 1), (slice(1, None),), (slice(None, None, 2),),
     (Ellipsis, 0), (None, 1), (1, Ellipsis, None), (slice(-3, -1), slice(None), 2),
     (slice(10, 20),), ()],
)
def test_getitem_matches_numpy(rng, key):
    a = rand_f32(rng, (4, 3, 5))
    t = mlsys.from_numpy(a)
    view = t[key]
    check(view, a[key], rtol=0, atol=0)
    if view.numel():
        assert np.shares_memory(view.numpy(), t.numpy()), "indexing must give views"


def test_setitem_and_copy_writes_in_place(rng):
    a = rand_f32(rng, (3, 4))
    t = mlsys.from_numpy(a)
    t[0] = 5.0
    a[0] = 5.0
    t[:, 1] = mlsys.tensor([7.0, 8.0, 9.0])
    a[:, 1] = [7.0, 8.0, 9.0]
    t[1:, 2:] = [[1.0, 2.0], [3.0, 4.0]]
    a[1:, 2:] = [[1.0, 2.0], [3.0, 4.0]]
    t[2, 3] = -1
    a[2, 3] = -1
    check(t, a, rtol=0, atol=0)
    t.T.copy_(mlsys.tensor([1.0, 2.0, 3.0]))  # broadcast along the rows of t.T
    check(t, np.broadcast_to(np.array([[1.0], [2.0], [3.0]], np.float32), (3, 4)), rtol=0, atol=0)


# dst = src between views of one tensor: NumPy's result is as if src were copied first. Each
# pair is written in both directions (the source before and after the destination in memory).
OVERLAPPING_PAIRS = [
    ((12,), np.s_[2::2], np.s_[:-2:2]),
    ((12,), np.s_[1:], np.s_[:-1]),
    ((12,), np.s_[3:], np.s_[:-3]),
    ((12,), np.s_[::2], np.s_[1::2]),
    ((4, 5), np.s_[1:, :3], np.s_[:-1, :3]),
    ((4, 5), np.s_[:, 1:], np.s_[:, :-1]),
    ((4, 5), np.s_[1:, 1:], np.s_[:-1, :-1]),
    ((4, 5), np.s_[1:, :-1], np.s_[:-1, 1:]),
]
OVERLAPPING = ([(shape, a, b) for shape, a, b in OVERLAPPING_PAIRS]
               + [(shape, b, a) for shape, a, b in OVERLAPPING_PAIRS]
               + [((4, 5), np.s_[:], np.s_[2])])  # a broadcast source inside the destination


@pytest.mark.parametrize("shape,dst,src", OVERLAPPING, ids=str)
@pytest.mark.parametrize("dtype,np_dtype", [(mlsys.float32, np.float32), (mlsys.int64, np.int64)])
def test_assignment_between_overlapping_views_matches_numpy(shape, dst, src, dtype, np_dtype):
    a = np.arange(np.prod(shape)).reshape(shape).astype(np_dtype)
    t = mlsys.from_numpy(a)
    t[dst] = t[src]
    a[dst] = a[src]
    check(t, a, rtol=0, atol=0)


def test_copy_from_transpose_of_itself_matches_numpy():
    a = np.arange(16, dtype=np.float32).reshape(4, 4)
    t = mlsys.from_numpy(a)
    t.copy_(t.T)
    check(t, a.T.copy(), rtol=0, atol=0)
    b = np.arange(30, dtype=np.float32).reshape(5, 6)
    u = mlsys.from_numpy(b)
    u[1:4, 2:5] = u[1:4, 2:5].T
    b[1:4, 2:5] = b[1:4, 2:5].T
    check(u, b, rtol=0, atol=0)


def test_writing_into_a_broadcast_view_raises():
    t = mlsys.tensor([[1.0], [2.0], [3.0]])
    e = t.expand(3, 4)
    for write in (lambda: e.__setitem__((0, 1), 5.0), lambda: e.fill_(0.0),
                  lambda: e.copy_(mlsys.zeros((3, 4))), lambda: e.__setitem__(Ellipsis, e + 1)):
        with pytest.raises(mlsys.Error, match="cannot write into the broadcast view.*read-only"):
            write()
    check(t, np.array([[1.0], [2.0], [3.0]], np.float32), rtol=0, atol=0)


@pytest.mark.parametrize("value", [16777217, 2**40 + 1, 2**53 + 1, 2**62 + 3, 2**63 - 1, -2**63])
def test_integer_values_stay_exact(value):
    np.testing.assert_array_equal(mlsys.full((2,), value, mlsys.int64).numpy(),
                                  np.full((2,), value, np.int64))
    t = mlsys.zeros((2, 3), mlsys.int64)
    t.fill_(value)
    assert t.numpy().tolist() == [[value] * 3] * 2
    t[1, 2] = value - 1 if value > -2**63 else value + 1
    t[0] = np.int64(value)
    assert t[1, 2].item() == (value - 1 if value > -2**63 else value + 1)
    assert t[0, 0].item() == value


def test_number_conversions_follow_numpy():
    assert mlsys.full((1,), 16777217).item() == float(np.float32(16777217))  # rounded once
    assert mlsys.full((1,), 2**31 - 1, mlsys.int32).item() == 2**31 - 1
    assert mlsys.full((1,), True, mlsys.int64).item() == 1
    assert mlsys.full((1,), -2.75, "int32").item() == -2  # truncation toward zero
    with pytest.raises(mlsys.Error, match="full: value 1099511627776 cannot be converted to int32"):
        mlsys.full((1,), 2**40, mlsys.int32)
    with pytest.raises(mlsys.Error, match="does not fit in int64"):
        mlsys.full((1,), 2**63, mlsys.int64)
    with pytest.raises(mlsys.Error, match="expected a number, got str"):
        mlsys.full((1,), "1")


def test_astype_to_the_same_dtype_is_a_copy():
    for dtype in (mlsys.float32, mlsys.int32, mlsys.int64):
        t = mlsys.arange(4, dtype=dtype)
        c = t.astype(dtype)
        assert not np.shares_memory(c.numpy(), t.numpy())
        c.fill_(9)
        assert t.numpy().tolist() == [0, 1, 2, 3]


def test_astype_int64_to_float32_rounds_once_like_numpy():
    a = np.array([2**60 + 2**36 + 1, -(2**60 + 2**36 + 1), 2**24 + 1, 2**53 + 1], np.int64)
    np.testing.assert_array_equal(mlsys.from_numpy(a).astype(mlsys.float32).numpy(),
                                  a.astype(np.float32))


@pytest.mark.parametrize("value,shown,dtype", [
    (np.nan, "nan", "int32"), (np.nan, "nan", "int64"), (np.inf, "inf", "int32"),
    (-np.inf, "-inf", "int64"), (3e9, "3000000000", "int32"), (-3e9, "-3000000000", "int32"),
    (1e19, "9.99999998", "int64"), (-1e19, "-9.99999998", "int64")])
def test_astype_float_to_int_refuses_values_without_an_integer(value, shown, dtype):
    t = mlsys.tensor([1.0, value])
    with pytest.raises(mlsys.Error, match=f"astype: value {shown}.* cannot be converted to {dtype}"):
        t.astype(dtype)
    assert mlsys.tensor([-2.75, 2.75]).astype(dtype).numpy().tolist() == [-2, 2]


def test_sizes_and_bounds_are_checked():
    with pytest.raises(mlsys.Error, match=r"shape \[3, 4611686018427387904\] has more elements"):
        mlsys.ones((3, 2**62))
    with pytest.raises(mlsys.Error, match="has more elements"):
        mlsys.zeros((1,)).expand(2**62, 4)
    with pytest.raises(mlsys.Error, match="does not fit in int64"):
        mlsys.zeros(2**64)
    for args in [(0, float("inf")), (float("-inf"), 0), (0, float("nan")), (0, 1, float("nan"))]:
        with pytest.raises(mlsys.Error, match="arange: start, stop and step must be finite"):
            mlsys.arange(*args)


def test_out_of_range_enums_are_refused():
    x = mlsys.ones(3)
    with pytest.raises(mlsys.Error, match=r"UnaryOp\(99\) is not a unary op"):
        mlsys.unary(mlsys.UnaryOp(99), x)
    with pytest.raises(mlsys.Error, match=r"UnaryOp\(-1\) is not a unary op"):
        mlsys.unary(mlsys.UnaryOp(-1), x)
    for b in ((x, x), (x, 2.0), (2.0, x)):
        with pytest.raises(mlsys.Error, match=r"BinaryOp\(99\) is not a binary op"):
            mlsys.binary(mlsys.BinaryOp(99), *b)
    with pytest.raises(mlsys.Error, match=r"DType\(7\) is not a dtype"):
        mlsys.zeros(2, dtype=mlsys.DType(7))
    with pytest.raises(mlsys.Error, match=r"DType\(7\) is not a dtype"):
        x.astype(mlsys.DType(7))
    with pytest.raises(mlsys.Error, match=r"Device\(5\) is not a device"):
        mlsys.zeros(2, device=mlsys.Device(5))


def test_python_protocols():
    t = mlsys.arange(6).reshape(2, 3)
    assert len(t) == 2
    rows = list(t)
    assert len(rows) == 2 and rows[1].shape == (3,)
    check(rows[1], np.array([3, 4, 5], np.float32))
    s = mlsys.scalar(3.75)
    assert float(s) == 3.75 and int(s) == 3 and bool(s) and s.item() == 3.75
    assert isinstance(mlsys.tensor(7).item(), int) and mlsys.tensor(7).item() == 7
    with pytest.raises(mlsys.Error, match="ambiguous"):
        bool(t)
    with pytest.raises(TypeError):
        len(s)
    with pytest.raises(TypeError):
        iter(s)
    assert len({t, t, s}) == 2, "tensors hash by identity"


def test_index_errors():
    t = mlsys.zeros((2, 3))
    with pytest.raises(IndexError, match="out of range"):
        t[2]
    with pytest.raises(IndexError, match="too many indices"):
        t[0, 0, 0]
    with pytest.raises(IndexError, match="step"):
        t[::-1]
    with pytest.raises(TypeError, match="advanced indexing"):
        t[[0, 1]]


# ============================================================================================
# Elementwise ops
# ============================================================================================

UNARY = {
    "neg": (np.negative, -3, 3),
    "exp": (np.exp, -3, 3),
    "log": (np.log, 0.05, 5),
    "sqrt": (np.sqrt, 0.0, 5),
    "tanh": (np.tanh, -4, 4),
    "relu": (lambda x: np.maximum(x, 0), -3, 3),
    "sigmoid": (lambda x: 1 / (1 + np.exp(-x)), -8, 8),
    "abs": (np.abs, -3, 3),
    "sign": (np.sign, -3, 3),
}

BINARY = {
    "add": (np.add, False),
    "sub": (np.subtract, False),
    "mul": (np.multiply, False),
    "div": (np.divide, False),
    "pow": (np.power, False),
    "maximum": (np.maximum, False),
    "minimum": (np.minimum, False),
    "eq": (np.equal, True),
    "ne": (np.not_equal, True),
    "lt": (np.less, True),
    "le": (np.less_equal, True),
    "gt": (np.greater, True),
    "ge": (np.greater_equal, True),
}

BROADCAST_SHAPES = [((2, 3), (2, 3)), ((2, 3), (3,)), ((4, 1, 3), (2, 1)), ((1,), (5,)),
                    ((), (2, 2)), ((3, 1), (1, 4)), ((0, 3), (3,))]


def binary_inputs(rng, name, shape_a, shape_b):
    """Operands that keep the op well defined: positive bases for pow, no zero divisors, and
    small integers (as floats) for comparisons so that ties occur."""
    if BINARY[name][1]:
        return (rng.integers(-2, 3, shape_a).astype(np.float32),
                rng.integers(-2, 3, shape_b).astype(np.float32))
    a = rand_f32(rng, shape_a, 0.5, 2.0) if name == "pow" else rand_f32(rng, shape_a)
    b = rand_f32(rng, shape_b, 0.5, 2.0) * rng.choice([-1, 1], size=shape_b).astype(np.float32)
    return a, b


def np_ref(fn, *args):
    """The NumPy result in float64, cast to float32 (masks to 0/1 floats)."""
    return np.asarray(fn(*[np.asarray(x, np.float64) for x in args])).astype(np.float32)


@pytest.mark.parametrize("name", list(UNARY))
@pytest.mark.parametrize("layout", ["contiguous", "transposed", "strided"])
def test_unary(rng, name, layout):
    fn, lo, hi = UNARY[name]
    if layout == "contiguous":
        a = rand_f32(rng, (3, 5), lo, hi)
        t = mlsys.from_numpy(a)
    else:
        a, t = noncontiguous(rng, (3, 5), layout)
        a = (a + 2) / 4 * (hi - lo) + lo  # rescale [-2, 2) to [lo, hi)
        t = (t + 2) / 4 * (hi - lo) + lo
    want = np_ref(fn, a)
    check(getattr(mlsys, name)(t), want, hint=f"mlsys.{name}")
    check(getattr(t, name)(), want, hint=f"Tensor.{name}")
    check(mlsys.unary(getattr(mlsys.UnaryOp, name), t), want, hint=f"unary({name})")


@pytest.mark.parametrize("name", list(BINARY))
@pytest.mark.parametrize("shapes", BROADCAST_SHAPES, ids=str)
def test_binary_broadcasting(rng, name, shapes):
    a, b = binary_inputs(rng, name, *shapes)
    fn = BINARY[name][0]
    check(getattr(mlsys, name)(mlsys.from_numpy(a), mlsys.from_numpy(b)), np_ref(fn, a, b),
          hint=f"mlsys.{name}{shapes}")
    check(mlsys.binary(getattr(mlsys.BinaryOp, name), mlsys.from_numpy(a), mlsys.from_numpy(b)),
          np_ref(fn, a, b))


@pytest.mark.parametrize("name", list(BINARY))
def test_binary_non_contiguous(rng, name):
    a, ta = noncontiguous(rng, (4, 3), "transposed")
    b, tb = noncontiguous(rng, (4, 3), "strided")
    if BINARY[name][1]:
        a, b = np.round(a), np.round(b)
        ta, tb = mlsys.tensor(a).T.contiguous().T, mlsys.tensor(b)[:, :]
    if name == "pow":
        a, ta = np.abs(a) + 0.5, mlsys.abs(ta) + 0.5
    if name == "div":
        b, tb = b + np.sign(b) + (b == 0), tb + mlsys.sign(tb) + mlsys.eq(tb, 0.0)
    check(getattr(mlsys, name)(ta, tb), np_ref(BINARY[name][0], a, b))
    # Expanded (stride-0) operands as well.
    row = rand_f32(rng, (1, 3), 0.5, 2.0)
    check(getattr(mlsys, name)(mlsys.from_numpy(row).expand(4, 3), tb),
          np_ref(BINARY[name][0], np.broadcast_to(row, (4, 3)), b))


@pytest.mark.parametrize("name", list(BINARY))
def test_binary_with_python_scalars(rng, name):
    a = rand_f32(rng, (2, 3), 0.5, 2.0)
    t = mlsys.from_numpy(a)
    fn = getattr(mlsys, name)
    ref = BINARY[name][0]
    check(fn(t, 1.5), np_ref(ref, a, 1.5))
    check(fn(1.5, t), np_ref(ref, 1.5, a))
    check(fn(t, 2), np_ref(ref, a, 2))


def test_operators(rng):
    a = rand_f32(rng, (2, 3), 0.5, 2.0)
    b = rand_f32(rng, (3,), 0.5, 2.0)
    ta, tb = mlsys.from_numpy(a), mlsys.from_numpy(b)
    check(ta + tb, a + b)
    check(ta - tb, a - b)
    check(ta * tb, a * b)
    check(ta / tb, a / b)
    check(ta ** tb, np_ref(np.power, a, b))
    check(-ta, -a)
    check(+ta, a)
    check(abs(-ta), a)
    for s in (2, 0.5):
        check(ta + s, a + np.float32(s))
        check(s + ta, np.float32(s) + a)
        check(ta - s, a - np.float32(s))
        check(s - ta, np.float32(s) - a)
        check(ta * s, a * np.float32(s))
        check(s * ta, np.float32(s) * a)
        check(ta / s, a / np.float32(s))
        check(s / ta, np.float32(s) / a)
        check(ta ** s, np_ref(np.power, a, s))
        check(s ** ta, np_ref(np.power, s, a))
    check(ta < tb, (a < b).astype(np.float32))
    check(ta <= 1.0, (a <= 1).astype(np.float32))
    check(ta > tb, (a > b).astype(np.float32))
    check(1.0 > ta, (1 > a).astype(np.float32))
    check(ta >= tb, (a >= b).astype(np.float32))
    check(ta == ta, np.ones((2, 3), np.float32))
    check(ta != tb, (a != b).astype(np.float32))


def test_where(rng):
    c = rng.integers(0, 2, (3, 1)).astype(np.float32)
    a = rand_f32(rng, (3, 4))
    b = rand_f32(rng, (4,))
    check(mlsys.where(mlsys.from_numpy(c), mlsys.from_numpy(a), mlsys.from_numpy(b)),
          np.where(c != 0, a, b))
    check(mlsys.where(mlsys.from_numpy(c), mlsys.from_numpy(a), 0.0), np.where(c != 0, a, 0))
    check(mlsys.where(mlsys.from_numpy(a) > 0, 1.0, -1.0), np.where(a > 0, 1, -1).astype(np.float32))


# ============================================================================================
# Reductions
# ============================================================================================

AXES = [None, 0, 1, -1, (0, 2), [1, 2], (0, 1, 2), ()]


@pytest.mark.parametrize("name", ["sum", "mean", "max", "min"])
@pytest.mark.parametrize("axis", AXES, ids=str)
@pytest.mark.parametrize("keepdims", [False, True])
def test_reductions(rng, name, axis, keepdims):
    a, t = noncontiguous(rng, (3, 4, 5), "transposed")
    np_axis = tuple(axis) if isinstance(axis, list) else axis
    want = getattr(np, name)(a.astype(np.float64), axis=np_axis, keepdims=keepdims)
    want = np.asarray(want, np.float32)
    check(getattr(mlsys, name)(t, axis=axis, keepdims=keepdims), want, rtol=1e-5, atol=1e-5)
    check(getattr(t, name)(axis, keepdims), want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("axis", [None, 0, 1, -1])
@pytest.mark.parametrize("keepdims", [False, True])
def test_argmax(rng, axis, keepdims):
    a = rng.integers(0, 4, (4, 6)).astype(np.float32)  # ties: the first index wins
    t = mlsys.from_numpy(a).T
    want = np.argmax(a.T, axis=axis, keepdims=keepdims).astype(np.int64)
    check(mlsys.argmax(t, axis=axis, keepdims=keepdims), want, rtol=0, atol=0)
    check(t.argmax(axis, keepdims), want, rtol=0, atol=0)


@pytest.mark.parametrize("shape,target", [((2, 3, 4), (3, 4)), ((2, 3, 4), (3, 1)),
                                          ((2, 3, 4), (1, 1, 1)), ((2, 3), ()), ((5,), (5,)),
                                          ((4, 1, 3), (1, 3))])
def test_sum_to(rng, shape, target):
    a = rand_f32(rng, shape)
    lead = len(shape) - len(target)
    want = a.astype(np.float64).sum(axis=tuple(range(lead)))
    want = want.sum(axis=tuple(i for i, d in enumerate(target) if d == 1 and want.shape[i] != 1),
                    keepdims=True).reshape(target)
    check(mlsys.sum_to(mlsys.from_numpy(a), target), want.astype(np.float32), atol=1e-5)
    check(mlsys.from_numpy(a).sum_to(target), want.astype(np.float32), atol=1e-5)


def with_nans(rng, shape, where):
    """Small integers as float32 with NaN at the given flat positions."""
    a = rng.integers(-5, 6, shape).astype(np.float32)
    a.reshape(-1)[list(where)] = np.nan
    return a


@pytest.mark.parametrize("cols", [3, 37, 1000])
def test_nan_propagates_like_numpy(rng, cols):
    for where in ([0], [cols // 2, cols - 1], [cols - 1]):
        a = with_nans(rng, (cols,), where)
        t = mlsys.from_numpy(a)
        for name in ("max", "min"):
            np.testing.assert_array_equal(getattr(mlsys, name)(t).numpy(), getattr(np, name)(a))
        assert mlsys.argmax(t).item() == np.argmax(a)
        m = np.stack([a, a[::-1]], axis=1)  # NaN along a strided axis too
        tm = mlsys.from_numpy(m)
        for axis in (0, 1):
            np.testing.assert_array_equal(mlsys.max(tm, axis=axis).numpy(), m.max(axis=axis))
            np.testing.assert_array_equal(mlsys.min(tm, axis=axis).numpy(), m.min(axis=axis))
            np.testing.assert_array_equal(mlsys.argmax(tm, axis=axis).numpy(), m.argmax(axis=axis))
    x = np.array([np.nan, 1.0, np.nan, -2.0, np.inf], np.float32)
    y = np.array([1.0, np.nan, np.nan, 3.0, np.nan], np.float32)
    tx, ty = mlsys.from_numpy(x), mlsys.from_numpy(y)
    for name in ("maximum", "minimum"):
        fn = getattr(mlsys, name)
        np.testing.assert_array_equal(fn(tx, ty).numpy(), getattr(np, name)(x, y))
        np.testing.assert_array_equal(fn(ty, tx).numpy(), getattr(np, name)(y, x))
        np.testing.assert_array_equal(fn(tx, 0.0).numpy(), getattr(np, name)(x, np.float32(0)))
        np.testing.assert_array_equal(fn(0.0, tx).numpy(), getattr(np, name)(np.float32(0), x))
    np.testing.assert_array_equal(mlsys.relu(tx).numpy(), np.maximum(x, np.float32(0)))
    np.testing.assert_array_equal(mlsys.sign(tx).numpy(), np.sign(x))


# float32 sums must stay within a few ulps of the exact (float64) sum of the same float32
# values however many there are; a float32 running sum of 10^7 copies of 0.1 was 1.1% off
# along a contiguous axis and 8.8% along a strided one.
SUM_RTOL = 8 * np.finfo(np.float32).eps


def test_long_sums_match_float64_along_any_axis(rng):
    n = 10**7
    a = np.full(n, 0.1, np.float32)
    t = mlsys.from_numpy(a)
    exact = a.astype(np.float64).sum()
    np.testing.assert_allclose(mlsys.sum(t).item(), exact, rtol=SUM_RTOL)
    np.testing.assert_allclose(t.reshape(-1, 2).sum(axis=0).numpy(), [exact / 2] * 2, rtol=SUM_RTOL)
    np.testing.assert_allclose(t.reshape(-1, 2).T.sum(axis=1).numpy(), [exact / 2] * 2, rtol=SUM_RTOL)
    np.testing.assert_allclose(mlsys.mean(t).item(), exact / n, rtol=SUM_RTOL)
    b = rand_f32(rng, (3, 10**6), -1.0, 3.0)
    tb = mlsys.from_numpy(b)
    mag = np.abs(b.astype(np.float64)).sum(axis=1)
    for got in (tb.sum(axis=1), tb.T.sum(axis=0)):
        err = np.abs(got.numpy() - b.astype(np.float64).sum(axis=1))
        assert np.all(err <= SUM_RTOL * mag), f"error {err}, bound {SUM_RTOL * mag}"


def test_log_softmax_over_a_million_columns_matches_float64(rng):
    a = rand_f32(rng, (2, 10**6), -4.0, 4.0)
    want = a.astype(np.float64) - a.max(axis=1, keepdims=True)
    want -= np.log(np.exp(want).sum(axis=1, keepdims=True))
    t = mlsys.from_numpy(a)
    np.testing.assert_allclose(mlsys.log_softmax(t).numpy(), want, rtol=0, atol=1e-5)
    np.testing.assert_allclose(mlsys.softmax(t).numpy(), np.exp(want), rtol=1e-5, atol=0)


# ============================================================================================
# Linear algebra and normalization
# ============================================================================================


@pytest.mark.parametrize(
    "shape_a,shape_b",
    [((3, 4), (4, 5)), ((1, 1), (1, 1)), ((2, 3, 4), (4, 5)), ((3, 4), (2, 4, 5)),
     ((2, 1, 3, 4), (5, 4, 6)), ((2, 3, 0), (0, 4)), ((17, 33), (33, 9))],
)
def test_matmul_batch_broadcasting(rng, shape_a, shape_b):
    a, b = rand_f32(rng, shape_a), rand_f32(rng, shape_b)
    want = np.matmul(a.astype(np.float64), b.astype(np.float64)).astype(np.float32)
    ta, tb = mlsys.from_numpy(a), mlsys.from_numpy(b)
    check(mlsys.matmul(ta, tb), want, rtol=1e-5, atol=1e-5)
    check(ta @ tb, want, rtol=1e-5, atol=1e-5)
    check(ta.matmul(tb), want, rtol=1e-5, atol=1e-5)


def test_matmul_transposed_views(rng):
    a, b = rand_f32(rng, (5, 3)), rand_f32(rng, (6, 5))
    want = (a.T.astype(np.float64) @ b.T.astype(np.float64)).astype(np.float32)
    check(mlsys.from_numpy(a).T @ mlsys.from_numpy(b).T, want, rtol=1e-5, atol=1e-5)
    x = rand_f32(rng, (2, 4, 3))
    want = np.matmul(x, np.swapaxes(x, -1, -2).astype(np.float64)).astype(np.float32)
    check(mlsys.from_numpy(x) @ mlsys.from_numpy(x).mT, want, rtol=1e-5, atol=1e-5)


def np_softmax(x, axis):
    z = x.astype(np.float64) - x.max(axis=axis, keepdims=True)
    return np.exp(z) / np.exp(z).sum(axis=axis, keepdims=True)


def np_log_softmax(x, axis):
    z = x.astype(np.float64) - x.max(axis=axis, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=axis, keepdims=True))


@pytest.mark.parametrize("axis", [-1, 0, 1])
def test_softmax_and_log_softmax(rng, axis):
    a, t = noncontiguous(rng, (3, 4, 5), "strided")
    a, t = a * 10, t * 10  # a wide range: the max must be subtracted
    check(mlsys.softmax(t, axis=axis), np_softmax(a, axis).astype(np.float32), atol=1e-6)
    check(mlsys.log_softmax(t, axis=axis), np_log_softmax(a, axis).astype(np.float32),
          rtol=1e-5, atol=1e-5)
    check(t.softmax(axis), np_softmax(a, axis).astype(np.float32), atol=1e-6)
    check(t.log_softmax(axis), np_log_softmax(a, axis).astype(np.float32), rtol=1e-5, atol=1e-5)


def test_softmax_is_stable_for_large_inputs():
    x = mlsys.tensor([[1000.0, 1001.0, 1002.0], [-1000.0, -1000.0, -1000.0]])
    want = np_softmax(x.numpy(), -1).astype(np.float32)
    check(mlsys.softmax(x), want, atol=1e-6)
    assert np.isfinite(mlsys.log_softmax(x).numpy()).all()


# ============================================================================================
# Random numbers
# ============================================================================================

MASK32 = 0xFFFFFFFF


def philox4x32_10(ctr, key):
    """Philox-4x32-10 (Salmon et al., SC'11), written from the paper for this test."""
    c, k = list(ctr), list(key)
    for _ in range(10):
        p0, p1 = 0xD2511F53 * c[0], 0xCD9E8D57 * c[2]
        c = [(p1 >> 32) ^ c[1] ^ k[0], p1 & MASK32, (p0 >> 32) ^ c[3] ^ k[1], p0 & MASK32]
        k = [(k[0] + 0x9E3779B9) & MASK32, (k[1] + 0xBB67AE85) & MASK32]
    return c


def test_philox_reference_matches_known_answers():
    # Known-answer vectors of Random123 (kat_vectors, philox4x32_10).
    assert philox4x32_10([0, 0, 0, 0], [0, 0]) == [0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8]
    assert philox4x32_10([0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344],
                         [0xA4093822, 0x299F31D0]) == [0xD16CFE09, 0x94FDCCEB, 0x5001E420,
                                                       0x24126EA1]


@pytest.mark.parametrize("seed", [0, 1, 2**40 + 7])
def test_rand_matches_philox_reference(seed):
    # mlsys/random.h: element i uses key=seed, counter=i//4, word i%4, and keeps 24 bits.
    n = 11
    words = [philox4x32_10([i // 4, 0, 0, 0], [seed & MASK32, seed >> 32])[i % 4] for i in range(n)]
    want = np.array([(w >> 8) / 16777216.0 for w in words], np.float32).reshape(1, n)
    check(mlsys.rand((1, n), seed=seed), want, rtol=0, atol=0)


def test_random_is_reproducible_and_seed_dependent():
    for make in (lambda s: mlsys.rand((4, 5), seed=s),
                 lambda s: mlsys.randn((4, 5), seed=s),
                 lambda s: mlsys.randint((4, 5), seed=s, low=0, high=1000)):
        np.testing.assert_array_equal(make(3).numpy(), make(3).numpy())
        assert not np.array_equal(make(3).numpy(), make(4).numpy())


def test_random_distributions():
    u = mlsys.rand((20000,), seed=5, low=-2.0, high=3.0).numpy()
    assert u.dtype == np.float32 and u.min() >= -2.0 and u.max() < 3.0
    assert abs(u.mean() - 0.5) < 0.05
    g = mlsys.randn((20000,), seed=6, mean=1.0, std=2.0).numpy()
    assert abs(g.mean() - 1.0) < 0.06 and abs(g.std() - 2.0) < 0.06
    k = mlsys.randint((20000,), seed=7, low=-3, high=4)
    assert k.dtype == mlsys.int64
    np.testing.assert_array_equal(np.unique(k.numpy()), np.arange(-3, 4))


# ============================================================================================
# Errors
# ============================================================================================


def test_shape_mismatch_names_the_op_and_shapes():
    a, b = mlsys.zeros((2, 3)), mlsys.zeros((4,))
    for op, fn in [("add", lambda: a + b), ("mul", lambda: mlsys.mul(a, b)),
                   ("lt", lambda: a < b), ("matmul", lambda: a @ mlsys.zeros((4, 2)))]:
        with pytest.raises(mlsys.Error) as info:
            fn()
        msg = str(info.value)
        assert f"mlsys::{op}" in msg and "[2, 3]" in msg, msg
    assert issubclass(mlsys.Error, RuntimeError)


def test_other_misuse_raises_mlsys_error():
    with pytest.raises(mlsys.Error, match="exp.*float32.*int64"):
        mlsys.exp(mlsys.zeros(3, dtype="int64"))
    with pytest.raises(mlsys.Error, match="item"):
        mlsys.zeros(3).item()
    with pytest.raises(mlsys.Error, match="unsupported dtype float64"):
        mlsys.zeros(3, dtype=np.float64)
    with pytest.raises(mlsys.Error, match="device"):
        mlsys.zeros(3, device="tpu")
    with pytest.raises(mlsys.Error, match="sum.*axis"):
        mlsys.sum(mlsys.zeros((2, 3)), axis=2)
    with pytest.raises(mlsys.Error, match="copy_.*dtype"):
        mlsys.zeros(3).copy_(mlsys.zeros(3, dtype="int32"))
    with pytest.raises(mlsys.Error, match="randint"):
        mlsys.randint(3, seed=0, low=5, high=5)


@pytest.mark.skipif(mlsys.cuda_available(), reason="checks the error raised without a GPU")
def test_cuda_without_gpu_raises():
    with pytest.raises(mlsys.Error, match="cuda"):
        mlsys.zeros(3).cuda()


def test_not_implemented_maps_to_its_own_exception():
    assert issubclass(mlsys.NotImplemented, mlsys.Error)
    assert issubclass(mlsys.NotImplemented, NotImplementedError)
    with pytest.raises(mlsys.NotImplemented, match="PA1 Task 2.3") as info:
        mlsys._C._throw_not_implemented("PA1 Task 2.3")
    assert info.value.task == "PA1 Task 2.3"


def test_star_import_does_not_shadow_builtins():
    ns = {}
    exec("from mlsys import *", ns)
    for name in ("sum", "max", "min", "abs", "pow", "NotImplemented"):
        assert name not in ns
    assert "tensor" in ns and "Tensor" in ns and "float32" in ns


# ============================================================================================
# I/O and datasets
# ============================================================================================


@pytest.mark.parametrize("dtype,np_dtype", DTYPES)
def test_npy_round_trips_with_numpy(tmp_path, rng, dtype, np_dtype):
    a = (rng.standard_normal((3, 4)) * 100).astype(np_dtype)
    path = tmp_path / "a.npy"
    mlsys.save_npy(path, mlsys.from_numpy(a).T)  # pathlib paths; a strided tensor
    np.testing.assert_array_equal(np.load(path), a.T)
    np.save(str(tmp_path / "b.npy"), a)
    check(mlsys.load_npy(str(tmp_path / "b.npy")), a, rtol=0, atol=0)


def test_load_npy_errors_name_the_file(tmp_path):
    np.save(tmp_path / "f8.npy", np.zeros(3))
    with pytest.raises(mlsys.Error, match="f8.npy"):
        mlsys.load_npy(tmp_path / "f8.npy")
    with pytest.raises(mlsys.Error, match="missing.npy"):
        mlsys.load_npy(pathlib.Path(tmp_path, "missing.npy"))


def test_load_digits():
    data = mlsys.load_digits()
    images, labels = data  # unpacks like a tuple
    assert images.shape == (1797, 64) and images.dtype == mlsys.float32
    assert labels.shape == (1797,) and labels.dtype == mlsys.int64 and len(data) == 1797
    x = images.numpy()
    assert x.min() == 0.0 and x.max() == 1.0
    np.testing.assert_array_equal(x * 16, np.round(x * 16))  # every pixel is k/16
    np.testing.assert_array_equal(np.unique(labels.numpy()), np.arange(10))
    train, test = mlsys.train_test_split(data, 0.2, seed=0)
    assert len(test) == round(0.2 * 1797) and len(train) + len(test) == 1797


# ============================================================================================
# CUDA (skipped without a GPU)
# ============================================================================================


@requires_cuda
def test_cuda_round_trip_and_ops(rng):
    a, b = rand_f32(rng, (3, 4)), rand_f32(rng, (4, 5))
    ta, tb = mlsys.from_numpy(a).cuda(), mlsys.tensor(b, device="cuda")
    assert ta.device == mlsys.Device.cuda and ta.is_cuda()
    check(ta.cpu(), a, rtol=0, atol=0)
    check(ta, a, rtol=0, atol=0)  # numpy() of a CUDA tensor copies to the host
    check(ta @ tb, (a.astype(np.float64) @ b).astype(np.float32), rtol=1e-5, atol=1e-5)
    check(mlsys.exp(ta.T) + 1.0, np.exp(a.T) + 1, rtol=1e-5)
    check(mlsys.sum(ta, axis=0), a.sum(axis=0), rtol=1e-5, atol=1e-5)
    check(mlsys.softmax(ta), np_softmax(a, -1).astype(np.float32), atol=1e-6)
    check(ta.to("cpu").to(mlsys.Device.cuda).to("cpu"), a, rtol=0, atol=0)


@requires_cuda
def test_cuda_random_matches_cpu():
    np.testing.assert_array_equal(mlsys.rand((3, 5), seed=9, device="cuda").numpy(),
                                  mlsys.rand((3, 5), seed=9).numpy())
    np.testing.assert_array_equal(mlsys.randn((3, 5), seed=9, device="cuda").numpy(),
                                  mlsys.randn((3, 5), seed=9).numpy())


@requires_cuda
def test_cuda_views_indexing_and_device_errors(rng):
    a = rand_f32(rng, (4, 6))
    t = mlsys.from_numpy(a).cuda()
    check(t.T[1:, ::2], a.T[1:, ::2], rtol=0, atol=0)
    arr = t.T.numpy()  # a host copy: the CUDA memory cannot be viewed
    assert arr.shape == (6, 4) and not np.shares_memory(arr, t.cpu().numpy())
    t[0] = 1.0
    a[0] = 1.0
    check(t, a, rtol=0, atol=0)
    assert "cuda" in repr(t)
    with pytest.raises(mlsys.Error, match="add.*same device"):
        t + mlsys.from_numpy(a)
