"""mlsys — the course's shared tensor library, from Python.

A thin layer over the C++ library (common/include/mlsys/*.h); the extension module
mlsys._C holds all the code, this package re-exports it. Each PA adds a subpackage
(mlsys.pa1, ...) next to this file.

    import numpy as np, mlsys
    x = mlsys.randn((4, 3), seed=0)           # seeded: the same values on every machine
    w = mlsys.tensor(np.eye(3))               # float64 input becomes float32
    y = mlsys.softmax(x @ w, axis=-1)
    y.numpy()                                 # a NumPy view of y's memory, no copy

Tensors
    shape / strides (in elements) / dtype / device / ndim, numel(), is_contiguous();
    views that share memory: reshape, permute, transpose, t() / .mT (last two dims),
    .T (all dims, as NumPy), slice, select, expand / broadcast_to, squeeze, unsqueeze,
    and indexing with ints, slices (step > 0), None and ...;
    copies: contiguous, clone, to(device), cpu(), cuda(), astype(dtype);
    arithmetic with tensors and Python numbers (+ - * / ** @, unary -), comparisons as
    float32 0/1 masks. Assignment t[...] = value writes in place.

NumPy interop
    t.numpy()       views a CPU tensor's memory (no copy, any strides); the array keeps the
                    memory alive on its own. Broadcast views are read-only. CUDA tensors are
                    copied to the host.
    from_numpy(a)   copies a float32 / int32 / int64 array (any layout); other dtypes raise
                    mlsys.Error naming the dtype.
    tensor(x)       copies lists, numbers and arrays of any numeric dtype: float64 -> float32,
                    other integer types -> int64, bool -> float32.
    Mixing tensors and NumPy arrays in arithmetic raises TypeError: convert one side.

Arguments
    shape: an int or a sequence of ints. dtype: mlsys.float32 / int32 / int64, a name
    ("float32") or a NumPy dtype. device: mlsys.Device.cpu / cuda or "cpu" / "cuda".
    Reductions take axis=None (all), an int or a sequence, and keepdims.

Errors
    Every misuse raises mlsys.Error (a RuntimeError) whose message names the op, e.g.
    "mlsys::add: shapes [2, 3] and [4] cannot be broadcast together ...". Unfilled student
    stubs raise mlsys.NotImplemented (a subclass of mlsys.Error and NotImplementedError)
    with a .task attribute.

`from mlsys import *` leaves out the names that would shadow Python builtins (abs, max, min,
pow, sum, NotImplemented); use them as mlsys.sum(...) etc.
"""

from ._C import (
    BinaryOp,
    Dataset,
    Device,
    DType,
    Error,
    NotImplemented,
    Tensor,
    UnaryOp,
    # dtypes
    float32,
    int32,
    int64,
    # creation
    arange,
    empty,
    from_numpy,
    full,
    ones,
    ones_like,
    rand,
    randint,
    randn,
    scalar,
    tensor,
    zeros,
    zeros_like,
    # elementwise
    abs,
    add,
    binary,
    div,
    eq,
    exp,
    ge,
    gt,
    le,
    log,
    lt,
    maximum,
    minimum,
    mul,
    ne,
    neg,
    pow,
    relu,
    sigmoid,
    sign,
    sqrt,
    sub,
    tanh,
    unary,
    where,
    # reductions, linear algebra, normalization
    argmax,
    max,
    mean,
    min,
    sum,
    sum_to,
    matmul,
    log_softmax,
    softmax,
    # I/O and datasets
    data_dir,
    data_path,
    load_digits,
    load_idx,
    load_npy,
    save_npy,
    train_test_split,
    # runtime
    cuda_available,
    cuda_built,
)

try:
    from ._C import __version__
except ImportError:  # built without the version definition
    __version__ = "0+unknown"

# Show the public classes as mlsys.X rather than mlsys._C.X.
for _cls in (BinaryOp, Dataset, Device, DType, Tensor, UnaryOp):
    _cls.__module__ = __name__
del _cls

_SHADOWS_BUILTINS = {"abs", "max", "min", "pow", "sum", "NotImplemented"}

__all__ = sorted(
    name for name in list(globals()) if not name.startswith("_") and name not in _SHADOWS_BUILTINS
)
