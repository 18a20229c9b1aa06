// common/python/bindings.cpp — the extension module mlsys._C: Python bindings of the shared
// tensor library (mlsys/tensor.h, ops.h, io.h). The only file of the library that includes
// pybind11; the package mlsys/__init__.py re-exports everything from here.
//
// NumPy interop, and who owns what:
//   t.numpy()          a CPU tensor gives an ndarray that *views* its storage (strides in bytes,
//                      non-contiguous views included, no copy). The array's base object holds
//                      a shared_ptr to the Storage, so the array stays valid after the Tensor
//                      is gone. Broadcast (expanded) views come back read-only, as from
//                      np.broadcast_to. A CUDA tensor is copied to the host first.
//   from_numpy(a)      always copies (NumPy's memory is not ours to keep); a must be float32,
//                      int32 or int64, any layout. Other dtypes raise mlsys.Error.
//   tensor(x)          lists, scalars and arrays of any numeric dtype: float64/float16 become
//                      float32, other integers int64, bool float32 (the library's mask dtype).
// NumPy is used only through its Python API (pybind11/numpy.h is not needed).
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "mlsys/error.h"
#include "mlsys/io.h"
#include "mlsys/ops.h"
#include "mlsys/tensor.h"
#include "py_convert.h"

namespace py = pybind11;
using mlsys::BinaryOp;
using mlsys::Device;
using mlsys::DType;
using mlsys::Shape;
using mlsys::Tensor;
using mlsys::UnaryOp;
using mlsys::detail::cat;
using namespace mlsys::pyconv;  // numpy, type_name, is_index, to_shape, to_dtype, to_device

namespace {

// ============================================================================================
// Exceptions: mlsys::Error -> mlsys.Error (a RuntimeError), mlsys::NotImplemented ->
// mlsys.NotImplemented (a subclass of both mlsys.Error and NotImplementedError, with .task)
// ============================================================================================

PyObject* g_error = nullptr;            // owned for the life of the interpreter
PyObject* g_not_implemented = nullptr;

void register_exceptions(py::module_& m) {
  g_error = PyErr_NewExceptionWithDoc(
      "mlsys.Error",
      "Raised for every misuse of the tensor library (shape, dtype, device, index, file). The "
      "message names the op, the argument, what was expected and what was given.",
      PyExc_RuntimeError, nullptr);
  py::tuple bases = py::make_tuple(py::handle(g_error), py::handle(PyExc_NotImplementedError));
  g_not_implemented = PyErr_NewExceptionWithDoc(
      "mlsys.NotImplemented",
      "Raised by a stub that a student has not filled in yet. `.task` is the task id, e.g. "
      "'PA1 Task 2.3'.",
      bases.ptr(), nullptr);
  if (!g_error || !g_not_implemented) throw py::error_already_set();
  m.attr("Error") = py::handle(g_error);
  m.attr("NotImplemented") = py::handle(g_not_implemented);
  // Translators run newest first; NotImplemented derives from Error, so it is caught first.
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const mlsys::NotImplemented& e) {
      py::object exc = py::reinterpret_borrow<py::object>(g_not_implemented)(e.what());
      exc.attr("task") = e.task();
      PyErr_SetObject(g_not_implemented, exc.ptr());
    } catch (const mlsys::Error& e) {
      PyErr_SetString(g_error, e.what());
    }
  });
}

// ============================================================================================
// Argument conversion: shapes, axes, dtypes, devices, paths
// ============================================================================================

// For methods called as f(2, 3) or f((2, 3)) or f([2, 3]).
Shape varargs_shape(const py::args& args, const char* op) {
  if (args.size() == 1 && !is_index(args[0])) return to_shape(args[0], op);
  return to_shape(args, op);
}

py::tuple to_tuple(const Shape& v) {
  py::tuple t(v.size());
  for (size_t i = 0; i < v.size(); ++i) t[i] = py::int_(v[i]);
  return t;
}

// axis=None reduces over all axes (the C++ empty list); an int or a sequence picks axes.
// An empty sequence means "no axes" as in NumPy: returns nullopt.
std::optional<std::vector<int64_t>> to_axes(py::handle axis, const char* op) {
  if (axis.is_none()) return std::vector<int64_t>{};
  std::vector<int64_t> axes = to_shape(axis, op);
  if (axes.empty()) return std::nullopt;
  return axes;
}

const char* numpy_name(DType dtype) { return mlsys::to_string(dtype); }

// os.fspath, so that pathlib.Path works wherever a file name does.
std::string to_path(py::handle obj) {
  return py::module_::import("os").attr("fspath")(obj).cast<std::string>();
}

// ============================================================================================
// NumPy interop
// ============================================================================================

// A view with stride 0 along a dim of size > 1 (an expanded, broadcast view). It is read-only,
// as in NumPy: its numpy() array, and every assignment through it, even to one element.
bool is_broadcast(const Tensor& t) {
  for (size_t i = 0; i < t.shape().size(); ++i)
    if (t.strides()[i] == 0 && t.shape()[i] > 1) return true;
  return false;
}

// Keeps a CPU Storage alive for the arrays that view it; exports it as one flat byte buffer.
struct HostStorage {
  std::shared_ptr<mlsys::Storage> storage;
};

py::object to_numpy(const Tensor& tensor) {
  MLSYS_CHECK(tensor.defined(), "numpy", "the tensor is undefined");
  Tensor t = tensor.device() == Device::CPU ? tensor : tensor.cpu();
  py::module_ np = numpy();
  if (t.numel() == 0)  // nothing to share; also sidesteps any offset bookkeeping
    return np.attr("empty")(to_tuple(t.shape()), numpy_name(t.dtype()));
  int64_t itemsize = static_cast<int64_t>(mlsys::dtype_size(t.dtype()));
  Shape byte_strides = t.strides();
  for (int64_t& s : byte_strides) s *= itemsize;
  py::object arr = np.attr("ndarray")(
      py::arg("shape") = to_tuple(t.shape()), py::arg("dtype") = numpy_name(t.dtype()),
      py::arg("buffer") = py::cast(HostStorage{t.storage()}),
      py::arg("offset") = t.offset() * itemsize, py::arg("strides") = to_tuple(byte_strides));
  if (is_broadcast(t)) arr.attr("flags").attr("writeable") = false;
  return arr;
}

Tensor from_numpy(py::handle obj) {
  py::module_ np = numpy();
  if (!py::isinstance(obj, np.attr("ndarray")) && !py::isinstance(obj, np.attr("generic")))
    MLSYS_FAIL("from_numpy", "expected a numpy.ndarray, got ", type_name(obj),
               " (mlsys.tensor() accepts lists and scalars)");
  py::object dt = obj.attr("dtype");
  DType dtype;
  if (dt.equal(np.attr("dtype")("float32")))
    dtype = DType::Float32;
  else if (dt.equal(np.attr("dtype")("int32")))
    dtype = DType::Int32;
  else if (dt.equal(np.attr("dtype")("int64")))
    dtype = DType::Int64;
  else
    MLSYS_FAIL("from_numpy", "unsupported numpy dtype ", std::string(py::str(dt)),
               " (supported: float32, int32, int64; convert with a.astype(np.float32), or use "
               "mlsys.tensor(a), which converts)");
  // C order without copying when it already is; keeps 0-d arrays 0-d (ascontiguousarray
  // would not).
  py::object c = np.attr("asarray")(obj, py::arg("order") = "C");
  py::buffer_info info = py::reinterpret_borrow<py::buffer>(c).request();
  Tensor t(to_shape(c.attr("shape"), "from_numpy"), dtype, Device::CPU);
  size_t nbytes = static_cast<size_t>(t.numel()) * mlsys::dtype_size(dtype);
  if (nbytes > 0) std::memcpy(t.raw_data(), info.ptr, nbytes);
  return t;
}

// mlsys.tensor(x): like np.asarray, then float64 -> float32 and other ints -> int64.
Tensor make_tensor(py::handle data, py::handle dtype, py::handle device) {
  Device dev = to_device(device);
  if (py::isinstance<Tensor>(data)) {
    Tensor t = data.cast<Tensor>().clone();
    if (!dtype.is_none()) t = t.astype(to_dtype(dtype));
    return t.to(dev);
  }
  py::module_ np = numpy();
  py::object a = np.attr("asarray")(data);
  py::object dt = a.attr("dtype");
  std::string kind = py::str(dt.attr("kind"));
  if (kind != "f" && kind != "i" && kind != "u" && kind != "b")
    MLSYS_FAIL("tensor", "cannot make a tensor from numpy dtype ",
               std::string(py::str(dt)), " (expected numbers)");
  const char* target;
  if (!dtype.is_none())
    target = numpy_name(to_dtype(dtype));
  else if (dt.equal(np.attr("dtype")("int32")))
    target = "int32";
  else if (kind == "i" || kind == "u")
    target = "int64";
  else
    target = "float32";
  a = a.attr("astype")(target, py::arg("copy") = false);
  return from_numpy(a).to(dev);
}

std::string tensor_repr(const Tensor& t) {
  if (!t.defined()) return "Tensor(undefined)";
  py::object values = numpy().attr("array2string")(
      to_numpy(t), py::arg("separator") = ", ", py::arg("prefix") = "Tensor(",
      py::arg("threshold") = 64, py::arg("edgeitems") = 3);
  return cat("Tensor(", std::string(py::str(values)), ", dtype=", mlsys::to_string(t.dtype()),
             ", shape=", mlsys::to_string(t.shape()), ", device=",
             mlsys::to_string(t.device()), ")");
}

// ============================================================================================
// Indexing: t[i], t[a:b:s], t[..., None] as views (select / slice / unsqueeze)
// ============================================================================================

Tensor index_view(const Tensor& t, py::handle key) {
  std::vector<py::handle> items;
  if (py::isinstance<py::tuple>(key))
    for (py::handle h : key) items.push_back(h);
  else
    items.push_back(key);
  int64_t consumed = 0;  // dims taken by ints and slices
  bool ellipsis = false;
  for (py::handle h : items) {
    if (h.is(py::ellipsis())) {
      if (ellipsis) throw py::index_error("an index can only have a single ellipsis (...)");
      ellipsis = true;
    } else if (!h.is_none()) {
      ++consumed;
    }
  }
  if (consumed > t.dim())
    throw py::index_error(cat("too many indices for a ", t.dim(), "-d tensor of shape ",
                              mlsys::to_string(t.shape()), ": got ", consumed));
  Tensor r = t;
  int64_t d = 0;  // the dim of r the next item applies to
  for (py::handle h : items) {
    if (h.is_none()) {
      r = r.unsqueeze(d++);
    } else if (h.is(py::ellipsis())) {
      d += t.dim() - consumed;
    } else if (PySlice_Check(h.ptr())) {
      Py_ssize_t start, stop, step;
      if (PySlice_Unpack(h.ptr(), &start, &stop, &step) < 0) throw py::error_already_set();
      if (step <= 0)
        throw py::index_error(cat("slice step must be positive, got ", step,
                                  " (mlsys views have non-negative strides)"));
      PySlice_AdjustIndices(static_cast<Py_ssize_t>(r.shape()[d]), &start, &stop, step);
      r = r.slice(d++, start, stop, step);
    } else if (is_index(h)) {
      int64_t i = h.cast<int64_t>(), n = r.shape()[d];
      if (i < -n || i >= n)
        throw py::index_error(cat("index ", i, " is out of range for dim ", d, " of size ", n,
                                  " (shape ", mlsys::to_string(r.shape()), ")"));
      r = r.select(d, i);
    } else {
      throw py::type_error(cat("unsupported index of type ", type_name(h),
                               ": tensors take ints, slices, None and ... (no advanced "
                               "indexing; use numpy() for that)"));
    }
  }
  return r;
}

void assign(Tensor& t, py::handle key, py::handle value) {
  if (is_broadcast(t))
    MLSYS_FAIL("__setitem__", "cannot write into the broadcast view ", t.describe(),
               " (or any element of it): broadcast (expanded) views are read-only, as in NumPy; "
               "write into the tensor it was expanded from, or into a clone()");
  Tensor view = index_view(t, key);
  if (py::isinstance<Tensor>(value)) {
    view.copy_(value.cast<Tensor>());
  } else if (py::isinstance<py::float_>(value) || py::isinstance<py::int_>(value)) {
    view.fill_(to_scalar(value, "__setitem__"));  // ints stay exact
  } else {
    view.copy_(make_tensor(value, py::cast(view.dtype()), py::cast(view.device())));
  }
}

// ============================================================================================
// Ops helpers
// ============================================================================================

using Reduce = Tensor (*)(const Tensor&, std::vector<int64_t>, bool);

Tensor reduce(Reduce fn, const Tensor& x, py::handle axis, bool keepdims, const char* op) {
  std::optional<std::vector<int64_t>> axes = to_axes(axis, op);
  if (!axes) return x.clone();  // NumPy: reducing over no axes leaves the values as they are
  return fn(x, *axes, keepdims);
}

// argmax(axis=None) is over the flattened tensor, as in NumPy.
Tensor argmax(const Tensor& x, py::handle axis, bool keepdims) {
  if (!axis.is_none()) return mlsys::argmax(x, axis.cast<int64_t>(), keepdims);
  Tensor flat = mlsys::argmax(x.contiguous().reshape({-1}), 0, false);
  return keepdims ? flat.reshape(Shape(x.shape().size(), 1)) : flat;
}

Tensor as_tensor_like(py::handle v, const Tensor& like) {
  if (py::isinstance<Tensor>(v)) return v.cast<Tensor>();
  return mlsys::full({}, v.cast<float>(), DType::Float32, like.device());
}

// mlsys.add(a, b) and friends: tensors or Python numbers on either side.
void def_binary(py::module_& m, const char* name, BinaryOp op, const char* doc) {
  m.def(name, [op](const Tensor& a, const Tensor& b) { return mlsys::binary(op, a, b); },
        py::arg("a"), py::arg("b"), doc);
  m.def(name, [op](const Tensor& a, float b) { return mlsys::binary(op, a, b); }, py::arg("a"),
        py::arg("b"));
  m.def(name, [op](float a, const Tensor& b) { return mlsys::binary(op, a, b); }, py::arg("a"),
        py::arg("b"));
}

// Tensor.__add__ / __radd__ and friends. py::is_operator returns NotImplemented for other
// operand types, so Python can try the other side.
void def_operator(py::class_<Tensor>& cls, const char* name, const char* rname, BinaryOp op) {
  cls.def(name, [op](const Tensor& a, const Tensor& b) { return mlsys::binary(op, a, b); },
          py::is_operator());
  cls.def(name, [op](const Tensor& a, float b) { return mlsys::binary(op, a, b); },
          py::is_operator());
  if (rname)
    cls.def(rname, [op](const Tensor& b, float a) { return mlsys::binary(op, a, b); },
            py::is_operator());
}

}  // namespace

// ============================================================================================
// The module
// ============================================================================================

PYBIND11_MODULE(_C, m) {
  m.doc() = "mlsys._C: bindings of the shared tensor library (import mlsys instead).";
#ifdef MLSYS_VERSION
  m.attr("__version__") = MLSYS_VERSION;
#endif
  register_exceptions(m);

  // ---- enums --------------------------------------------------------------------------------
  py::enum_<DType>(m, "DType", "Element type of a tensor. Also exported as mlsys.float32, ...")
      .value("float32", DType::Float32)
      .value("int32", DType::Int32)
      .value("int64", DType::Int64)
      .export_values();
  py::enum_<Device>(m, "Device", "Where a tensor lives. Arguments also accept 'cpu' / 'cuda'.")
      .value("cpu", Device::CPU)
      .value("cuda", Device::CUDA);
  py::enum_<UnaryOp>(m, "UnaryOp", "Elementwise unary ops, for mlsys.unary(op, x).")
      .value("neg", UnaryOp::Neg).value("exp", UnaryOp::Exp).value("log", UnaryOp::Log)
      .value("sqrt", UnaryOp::Sqrt).value("tanh", UnaryOp::Tanh).value("relu", UnaryOp::Relu)
      .value("sigmoid", UnaryOp::Sigmoid).value("abs", UnaryOp::Abs)
      .value("sign", UnaryOp::Sign).value("relu_grad", UnaryOp::ReluGrad);
  py::enum_<BinaryOp>(m, "BinaryOp", "Elementwise binary ops, for mlsys.binary(op, a, b).")
      .value("add", BinaryOp::Add).value("sub", BinaryOp::Sub).value("mul", BinaryOp::Mul)
      .value("div", BinaryOp::Div).value("pow", BinaryOp::Pow)
      .value("maximum", BinaryOp::Maximum).value("minimum", BinaryOp::Minimum)
      .value("eq", BinaryOp::Eq).value("ne", BinaryOp::Ne).value("lt", BinaryOp::Lt)
      .value("le", BinaryOp::Le).value("gt", BinaryOp::Gt).value("ge", BinaryOp::Ge);

  py::class_<HostStorage>(m, "_HostStorage", py::buffer_protocol(),
                          "The CPU memory behind arrays returned by Tensor.numpy().")
      .def_buffer([](const HostStorage& h) {
        return py::buffer_info(h.storage->data(), 1, py::format_descriptor<uint8_t>::format(), 1,
                               {static_cast<py::ssize_t>(h.storage->nbytes())}, {1});
      })
      .def_property_readonly("nbytes", [](const HostStorage& h) { return h.storage->nbytes(); });

  // ---- Tensor: metadata and conversion ----------------------------------------------------
  py::class_<Tensor> cls(m, "Tensor", R"doc(
An n-dimensional array: shape + strides (in elements) + offset over shared storage on the CPU
or a CUDA device. Views (reshape, permute, slice, expand, indexing) share storage; contiguous()
and clone() copy. Make tensors with mlsys.tensor, from_numpy, zeros, rand, ...

t.numpy() views a CPU tensor's memory without copying. Arithmetic takes tensors and Python
numbers; mixing with NumPy arrays raises TypeError (convert explicitly with mlsys.tensor or
t.numpy()). Comparisons return float32 0/1 masks.)doc");
  // NumPy defers binary operators to us (np.float64(2) * t is a Tensor) and ufuncs refuse.
  cls.attr("__array_ufunc__") = py::none();
  cls.def_property_readonly("shape", [](const Tensor& t) { return to_tuple(t.shape()); })
      .def_property_readonly("strides", [](const Tensor& t) { return to_tuple(t.strides()); },
                             "Strides in elements (NumPy's are in bytes).")
      .def_property_readonly("offset", &Tensor::offset, "Offset of the first element, in elements.")
      .def_property_readonly("dtype", &Tensor::dtype)
      .def_property_readonly("device", &Tensor::device)
      .def_property_readonly("ndim", &Tensor::dim)
      .def("dim", &Tensor::dim)
      .def("numel", &Tensor::numel)
      .def("defined", &Tensor::defined)
      .def("is_contiguous", &Tensor::is_contiguous)
      .def("is_cuda", &Tensor::is_cuda)
      .def("describe", &Tensor::describe)
      .def("data_ptr", [](const Tensor& t) { return reinterpret_cast<uintptr_t>(t.raw_data()); },
           "Address of the first element (storage + offset).")
      .def("item",
           [](const Tensor& t) -> py::object {
             if (t.defined() && t.dtype() != DType::Float32) return py::int_(t.item_int());
             return py::float_(t.item());
           },
           "The value of a one-element tensor: float for float32, int otherwise.")
      .def("numpy", &to_numpy,
           "A NumPy view of a CPU tensor's memory (no copy; it keeps the memory alive). A CUDA "
           "tensor is copied to the host first.")
      .def("tolist", [](const Tensor& t) { return to_numpy(t).attr("tolist")(); })
      .def("__array__",
           [](const Tensor& t, py::object dtype, py::object copy) {
             if (copy.is(py::bool_(false)) && t.is_cuda())
               throw py::value_error("a CUDA tensor cannot be viewed as a NumPy array without "
                                     "copying");
             py::object a = to_numpy(t);
             if (!dtype.is_none()) a = a.attr("astype")(dtype, py::arg("copy") = false);
             if (copy.is(py::bool_(true))) a = a.attr("copy")();
             return a;
           },
           py::arg("dtype") = py::none(), py::arg("copy") = py::none())
      .def("__repr__", &tensor_repr)
      .def("__len__",
           [](const Tensor& t) {
             if (t.dim() == 0) throw py::type_error("len() of a 0-d tensor");
             return t.shape()[0];
           })
      .def("__iter__",
           [](const Tensor& t) {
             if (t.dim() == 0) throw py::type_error("iteration over a 0-d tensor");
             py::list rows;
             for (int64_t i = 0; i < t.shape()[0]; ++i) rows.append(t.select(0, i));
             return py::iter(rows);
           })
      .def("__bool__",
           [](const Tensor& t) {
             MLSYS_CHECK(t.numel() == 1, "Tensor.__bool__", "the truth value of a tensor of shape ",
                         mlsys::to_string(t.shape()),
                         " is ambiguous; reduce it first (e.g. .max(), .sum())");
             return t.item() != 0.f;
           })
      .def("__float__", [](const Tensor& t) { return t.item(); })
      .def("__int__",
           [](const Tensor& t) -> py::object {
             if (t.dtype() != DType::Float32) return py::int_(t.item_int());
             return py::int_(py::float_(t.item()));
           })
      .def("__copy__", [](const Tensor& t) { return t.clone(); })
      .def("__deepcopy__", [](const Tensor& t, py::dict) { return t.clone(); }, py::arg("memo"))
      .def("__getitem__", &index_view)
      .def("__setitem__", &assign);

  // ---- Tensor: views ------------------------------------------------------------------------
  cls.def("reshape", [](const Tensor& t, py::args s) { return t.reshape(varargs_shape(s, "reshape")); },
          "reshape(*shape) or reshape(shape); one dim may be -1. A view: raises mlsys.Error "
          "when the layout cannot be viewed (call contiguous() first).")
      .def("view", [](const Tensor& t, py::args s) { return t.reshape(varargs_shape(s, "reshape")); })
      .def("flatten", &Tensor::flatten)
      .def("permute", [](const Tensor& t, py::args d) { return t.permute(varargs_shape(d, "permute")); },
           "permute(*dims) or permute(dims)")
      .def("transpose", &Tensor::transpose, py::arg("dim0"), py::arg("dim1"))
      .def("t", &Tensor::t, "Swaps the last two dims (same as .mT).")
      .def_property_readonly("mT", &Tensor::t, "Swaps the last two dims, as NumPy's ndarray.mT.")
      .def_property_readonly(
          "T",
          [](const Tensor& t) {
            std::vector<int64_t> dims(t.shape().size());
            for (size_t i = 0; i < dims.size(); ++i) dims[i] = static_cast<int64_t>(dims.size() - 1 - i);
            return t.permute(dims);
          },
          "Reverses all dims, as NumPy's ndarray.T.")
      .def("slice",
           [](const Tensor& t, int64_t axis, std::optional<int64_t> start,
              std::optional<int64_t> stop, int64_t step) {
             return t.slice(axis, start.value_or(0), stop.value_or(INT64_MAX), step);
           },
           py::arg("axis"), py::arg("start") = py::none(), py::arg("stop") = py::none(),
           py::arg("step") = 1, "Python slicing semantics along one axis; step > 0.")
      .def("select", &Tensor::select, py::arg("axis"), py::arg("index"))
      .def("expand", [](const Tensor& t, py::args s) { return t.expand(varargs_shape(s, "expand")); },
           "expand(*shape) or expand(shape): NumPy broadcast_to, as a view.")
      .def("broadcast_to", [](const Tensor& t, py::handle s) { return t.expand(to_shape(s, "expand")); },
           py::arg("shape"))
      .def("squeeze",
           [](const Tensor& t, std::optional<int64_t> axis) {
             return axis ? t.squeeze(*axis) : t.squeeze();
           },
           py::arg("axis") = py::none())
      .def("unsqueeze", &Tensor::unsqueeze, py::arg("axis"));

  // ---- Tensor: copies -----------------------------------------------------------------------
  cls.def("contiguous", &Tensor::contiguous)
      .def("clone", &Tensor::clone)
      .def("to", [](const Tensor& t, py::handle d) { return t.to(to_device(d)); }, py::arg("device"))
      .def("cpu", &Tensor::cpu)
      .def("cuda", &Tensor::cuda)
      .def("astype", [](const Tensor& t, py::handle d) { return t.astype(to_dtype(d)); },
           py::arg("dtype"))
      .def("copy_",
           [](Tensor& t, py::handle src) {
             assign(t, py::ellipsis(), src);
             return t;
           },
           py::arg("src"), "Copies src (broadcast to this shape) into this view, in place.")
      .def("fill_",
           [](Tensor& t, py::handle v) {
             t.fill_(to_scalar(v, "fill_"));
             return t;
           },
           py::arg("value"), "Writes value into every element; integers stay exact.");

  // ---- Tensor: math -------------------------------------------------------------------------
  cls.def("__neg__", [](const Tensor& x) { return mlsys::neg(x); })
      .def("__pos__", [](const Tensor& x) { return x; })
      .def("__abs__", [](const Tensor& x) { return mlsys::abs(x); })
      .def("__matmul__", [](const Tensor& a, const Tensor& b) { return mlsys::matmul(a, b); },
           py::is_operator())
      .def("__hash__", [](py::handle self) { return reinterpret_cast<uintptr_t>(self.ptr()); });
  def_operator(cls, "__add__", "__radd__", BinaryOp::Add);
  def_operator(cls, "__sub__", "__rsub__", BinaryOp::Sub);
  def_operator(cls, "__mul__", "__rmul__", BinaryOp::Mul);
  def_operator(cls, "__truediv__", "__rtruediv__", BinaryOp::Div);
  def_operator(cls, "__pow__", "__rpow__", BinaryOp::Pow);
  // __hash__ is defined above, so elementwise __eq__ keeps tensors hashable (by identity).
  def_operator(cls, "__eq__", nullptr, BinaryOp::Eq);
  def_operator(cls, "__ne__", nullptr, BinaryOp::Ne);
  def_operator(cls, "__lt__", nullptr, BinaryOp::Lt);
  def_operator(cls, "__le__", nullptr, BinaryOp::Le);
  def_operator(cls, "__gt__", nullptr, BinaryOp::Gt);
  def_operator(cls, "__ge__", nullptr, BinaryOp::Ge);

  cls.def("neg", [](const Tensor& x) { return mlsys::neg(x); })
      .def("exp", [](const Tensor& x) { return mlsys::exp(x); })
      .def("log", [](const Tensor& x) { return mlsys::log(x); })
      .def("sqrt", [](const Tensor& x) { return mlsys::sqrt(x); })
      .def("tanh", [](const Tensor& x) { return mlsys::tanh(x); })
      .def("relu", [](const Tensor& x) { return mlsys::relu(x); })
      .def("sigmoid", [](const Tensor& x) { return mlsys::sigmoid(x); })
      .def("abs", [](const Tensor& x) { return mlsys::abs(x); })
      .def("sign", [](const Tensor& x) { return mlsys::sign(x); })
      .def("sum", [](const Tensor& x, py::handle axis, bool k) { return reduce(&mlsys::sum, x, axis, k, "sum"); },
           py::arg("axis") = py::none(), py::arg("keepdims") = false)
      .def("mean", [](const Tensor& x, py::handle axis, bool k) { return reduce(&mlsys::mean, x, axis, k, "mean"); },
           py::arg("axis") = py::none(), py::arg("keepdims") = false)
      .def("max", [](const Tensor& x, py::handle axis, bool k) { return reduce(&mlsys::max, x, axis, k, "max"); },
           py::arg("axis") = py::none(), py::arg("keepdims") = false)
      .def("min", [](const Tensor& x, py::handle axis, bool k) { return reduce(&mlsys::min, x, axis, k, "min"); },
           py::arg("axis") = py::none(), py::arg("keepdims") = false)
      .def("argmax", &argmax, py::arg("axis") = py::none(), py::arg("keepdims") = false)
      .def("sum_to", [](const Tensor& x, py::handle s) { return mlsys::sum_to(x, to_shape(s, "sum_to")); },
           py::arg("shape"))
      .def("matmul", [](const Tensor& a, const Tensor& b) { return mlsys::matmul(a, b); })
      .def("softmax", [](const Tensor& x, int64_t axis) { return mlsys::softmax(x, axis); },
           py::arg("axis") = -1)
      .def("log_softmax", [](const Tensor& x, int64_t axis) { return mlsys::log_softmax(x, axis); },
           py::arg("axis") = -1);

  // ---- creation -----------------------------------------------------------------------------
  const py::object f32 = py::cast(DType::Float32), cpu = py::str("cpu");
  m.def("tensor", &make_tensor, py::arg("data"), py::arg("dtype") = py::none(),
        py::arg("device") = cpu, R"doc(
A new tensor holding a copy of `data` (a list, a number, a NumPy array or a Tensor). Without
dtype: float32/int32/int64 arrays keep their dtype, other floats become float32, other integers
int64 and bools float32 (0/1, like the library's comparison masks).)doc");
  m.def("from_numpy", &from_numpy, py::arg("array"), R"doc(
A new CPU tensor holding a copy of a float32, int32 or int64 NumPy array (any layout) or
NumPy scalar.
Raises mlsys.Error naming the dtype for any other dtype; mlsys.tensor() converts instead.)doc");
  m.def("empty", [](py::handle s, py::handle dt, py::handle dev) {
          return mlsys::empty(to_shape(s, "empty"), to_dtype(dt), to_device(dev)); },
        py::arg("shape"), py::arg("dtype") = f32, py::arg("device") = cpu,
        "A new tensor with uninitialized memory.");
  m.def("zeros", [](py::handle s, py::handle dt, py::handle dev) {
          return mlsys::zeros(to_shape(s, "zeros"), to_dtype(dt), to_device(dev)); },
        py::arg("shape"), py::arg("dtype") = f32, py::arg("device") = cpu);
  m.def("ones", [](py::handle s, py::handle dt, py::handle dev) {
          return mlsys::ones(to_shape(s, "ones"), to_dtype(dt), to_device(dev)); },
        py::arg("shape"), py::arg("dtype") = f32, py::arg("device") = cpu);
  m.def("full", [](py::handle s, py::handle v, py::handle dt, py::handle dev) {
          return mlsys::full(to_shape(s, "full"), to_scalar(v, "full"), to_dtype(dt),
                             to_device(dev)); },
        py::arg("shape"), py::arg("value"), py::arg("dtype") = f32, py::arg("device") = cpu,
        "A new tensor with every element `value`; integers stay exact (2**40 + 1 as int64).");
  m.def("zeros_like", &mlsys::zeros_like, py::arg("t"));
  m.def("ones_like", &mlsys::ones_like, py::arg("t"));
  m.def("scalar", [](float v, py::handle dev) { return mlsys::scalar(v, to_device(dev)); },
        py::arg("value"), py::arg("device") = cpu, "A 0-d float32 tensor.");
  m.def("arange",
        [](double start, std::optional<double> stop, double step, py::handle dt, py::handle dev) {
          if (!stop) return mlsys::arange(0, start, step, to_dtype(dt), to_device(dev));
          return mlsys::arange(start, *stop, step, to_dtype(dt), to_device(dev));
        },
        py::arg("start"), py::arg("stop") = py::none(), py::arg("step") = 1.0,
        py::arg("dtype") = f32, py::arg("device") = cpu,
        "[start, stop) by step; arange(n) is [0, n). float32 unless dtype says otherwise.");
  m.def("rand", [](py::handle s, uint64_t seed, float low, float high, py::handle dev) {
          return mlsys::rand(to_shape(s, "rand"), seed, low, high, to_device(dev)); },
        py::arg("shape"), py::arg("seed"), py::arg("low") = 0.f, py::arg("high") = 1.f,
        py::arg("device") = cpu,
        "Uniform float32 in [low, high); the same (seed, shape) gives the same values everywhere.");
  m.def("randn", [](py::handle s, uint64_t seed, float mean, float std, py::handle dev) {
          return mlsys::randn(to_shape(s, "randn"), seed, mean, std, to_device(dev)); },
        py::arg("shape"), py::arg("seed"), py::arg("mean") = 0.f, py::arg("std") = 1.f,
        py::arg("device") = cpu, "Normal float32; reproducible like rand.");
  m.def("randint", [](py::handle s, uint64_t seed, int64_t low, int64_t high, py::handle dev) {
          return mlsys::randint(to_shape(s, "randint"), seed, low, high, to_device(dev)); },
        py::arg("shape"), py::arg("seed"), py::arg("low"), py::arg("high"),
        py::arg("device") = cpu, "int64 uniform in [low, high); reproducible like rand.");

  // ---- ops ------------------------------------------------------------------------------------
  m.def("unary", &mlsys::unary, py::arg("op"), py::arg("x"));
  m.def("binary", py::overload_cast<BinaryOp, const Tensor&, const Tensor&>(&mlsys::binary),
        py::arg("op"), py::arg("a"), py::arg("b"));
  m.def("binary", py::overload_cast<BinaryOp, const Tensor&, float>(&mlsys::binary),
        py::arg("op"), py::arg("a"), py::arg("b"));
  m.def("binary", py::overload_cast<BinaryOp, float, const Tensor&>(&mlsys::binary),
        py::arg("op"), py::arg("a"), py::arg("b"));
  m.def("neg", &mlsys::neg, py::arg("x"));
  m.def("exp", &mlsys::exp, py::arg("x"));
  m.def("log", &mlsys::log, py::arg("x"));
  m.def("sqrt", &mlsys::sqrt, py::arg("x"));
  m.def("tanh", &mlsys::tanh, py::arg("x"));
  m.def("relu", &mlsys::relu, py::arg("x"));
  m.def("sigmoid", &mlsys::sigmoid, py::arg("x"));
  m.def("abs", &mlsys::abs, py::arg("x"));
  m.def("sign", &mlsys::sign, py::arg("x"));
  def_binary(m, "add", BinaryOp::Add, "a + b with broadcasting.");
  def_binary(m, "sub", BinaryOp::Sub, "a - b with broadcasting.");
  def_binary(m, "mul", BinaryOp::Mul, "a * b with broadcasting.");
  def_binary(m, "div", BinaryOp::Div, "a / b with broadcasting.");
  def_binary(m, "pow", BinaryOp::Pow, "a ** b with broadcasting.");
  def_binary(m, "maximum", BinaryOp::Maximum, "Elementwise max with broadcasting.");
  def_binary(m, "minimum", BinaryOp::Minimum, "Elementwise min with broadcasting.");
  def_binary(m, "eq", BinaryOp::Eq, "a == b as a float32 0/1 mask.");
  def_binary(m, "ne", BinaryOp::Ne, "a != b as a float32 0/1 mask.");
  def_binary(m, "lt", BinaryOp::Lt, "a < b as a float32 0/1 mask.");
  def_binary(m, "le", BinaryOp::Le, "a <= b as a float32 0/1 mask.");
  def_binary(m, "gt", BinaryOp::Gt, "a > b as a float32 0/1 mask.");
  def_binary(m, "ge", BinaryOp::Ge, "a >= b as a float32 0/1 mask.");
  m.def("where",
        [](const Tensor& cond, py::handle a, py::handle b) {
          return mlsys::where(cond, as_tensor_like(a, cond), as_tensor_like(b, cond));
        },
        py::arg("cond"), py::arg("a"), py::arg("b"),
        "cond != 0 ? a : b, broadcast together; a and b may be numbers.");
  const char* axis_doc = "axis: None (all), an int or a sequence of ints; () reduces nothing.";
  m.def("sum", [](const Tensor& x, py::handle axis, bool k) { return reduce(&mlsys::sum, x, axis, k, "sum"); },
        py::arg("x"), py::arg("axis") = py::none(), py::arg("keepdims") = false, axis_doc);
  m.def("mean", [](const Tensor& x, py::handle axis, bool k) { return reduce(&mlsys::mean, x, axis, k, "mean"); },
        py::arg("x"), py::arg("axis") = py::none(), py::arg("keepdims") = false, axis_doc);
  m.def("max", [](const Tensor& x, py::handle axis, bool k) { return reduce(&mlsys::max, x, axis, k, "max"); },
        py::arg("x"), py::arg("axis") = py::none(), py::arg("keepdims") = false, axis_doc);
  m.def("min", [](const Tensor& x, py::handle axis, bool k) { return reduce(&mlsys::min, x, axis, k, "min"); },
        py::arg("x"), py::arg("axis") = py::none(), py::arg("keepdims") = false, axis_doc);
  m.def("argmax", &argmax, py::arg("x"), py::arg("axis") = py::none(),
        py::arg("keepdims") = false, "int64 index of the first largest element; axis=None "
        "flattens, as in NumPy.");
  m.def("sum_to", [](const Tensor& x, py::handle s) { return mlsys::sum_to(x, to_shape(s, "sum_to")); },
        py::arg("x"), py::arg("shape"), "Sums x down to shape (undoes broadcasting).");
  m.def("matmul", &mlsys::matmul, py::arg("a"), py::arg("b"),
        "a [..., M, K] @ b [..., K, N] -> [..., M, N]; batch dims broadcast.");
  m.def("softmax", &mlsys::softmax, py::arg("x"), py::arg("axis") = -1);
  m.def("log_softmax", &mlsys::log_softmax, py::arg("x"), py::arg("axis") = -1);

  // ---- I/O and datasets -----------------------------------------------------------------------
  py::class_<mlsys::Dataset>(m, "Dataset", "images (dim 0 = samples) and labels; unpacks as "
                                           "`images, labels = dataset`.")
      .def(py::init([](Tensor images, Tensor labels) { return mlsys::Dataset{images, labels}; }),
           py::arg("images"), py::arg("labels"))
      .def_readwrite("images", &mlsys::Dataset::images)
      .def_readwrite("labels", &mlsys::Dataset::labels)
      .def("__len__", [](const mlsys::Dataset& d) { return d.images.size(0); })
      .def("__iter__", [](const mlsys::Dataset& d) {
        return py::iter(py::make_tuple(d.images, d.labels));
      })
      .def("__repr__", [](const mlsys::Dataset& d) {
        return cat("Dataset(images=", d.images.describe(), ", labels=", d.labels.describe(), ")");
      });
  m.def("load_npy", [](py::handle path) { return mlsys::load_npy(to_path(path)); },
        py::arg("path"), "Reads a .npy file (float32/int32/int64, C order) into a CPU tensor.");
  m.def("save_npy", [](py::handle path, const Tensor& t) { mlsys::save_npy(to_path(path), t); },
        py::arg("path"), py::arg("t"), "Writes t as numpy.save would.");
  m.def("load_idx",
        [](py::handle path, py::handle dt) { return mlsys::load_idx(to_path(path), to_dtype(dt)); },
        py::arg("path"), py::arg("dtype") = f32, "Reads an (uncompressed) IDX file, e.g. MNIST.");
  m.def("load_digits", &mlsys::load_digits,
        "The 8x8 digits: images float32 [1797, 64] in [0, 1], labels int64 [1797].");
  m.def("train_test_split", &mlsys::train_test_split, py::arg("data"),
        py::arg("test_fraction"), py::arg("seed"),
        "A seeded shuffle split into (train, test) Datasets.");
  m.def("data_dir", &mlsys::data_dir, "The folder of the shipped data files.");
  m.def("data_path", &mlsys::data_path, py::arg("filename"));

  // ---- runtime --------------------------------------------------------------------------------
  m.def("cuda_available", &mlsys::cuda_available,
        "True when a CUDA device can be used (built with CUDA and a GPU present).");
  m.def("cuda_built", &mlsys::cuda_built, "True when the library was compiled with CUDA.");
  m.def("_throw_not_implemented",
        [](const std::string& task) {
          throw mlsys::NotImplemented(task, "common/python/bindings.cpp", "(test hook)");
        },
        py::arg("task"), "Test hook: throws mlsys::NotImplemented from C++.");
}
