// common/python/py_convert.h — argument conversion shared by every extension module of the
// course (mlsys._C in common/python/bindings.cpp, mlsys.pa1._C in pa1_autodiff/python): the
// same Python values mean the same shapes, dtypes and devices everywhere, with the same errors.
// mlsys_add_python_module puts this folder on each module's include path.
#pragma once

#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>

#include "mlsys/error.h"
#include "mlsys/tensor.h"

namespace mlsys::pyconv {

namespace py = pybind11;

inline py::module_ numpy() { return py::module_::import("numpy"); }

inline std::string type_name(py::handle obj) {
  return py::str(py::type::handle_of(obj).attr("__name__"));
}

// A Python or NumPy integer, not a bool.
inline bool is_index(py::handle obj) { return PyIndex_Check(obj.ptr()) && !PyBool_Check(obj.ptr()); }

// An integer (anything with __index__) as int64, or an Error when it does not fit.
inline int64_t to_int64(py::handle obj, const char* op) {
  py::object i = py::reinterpret_steal<py::object>(PyNumber_Index(obj.ptr()));
  if (!i) throw py::error_already_set();
  int overflow = 0;
  long long v = PyLong_AsLongLongAndOverflow(i.ptr(), &overflow);
  if (v == -1 && PyErr_Occurred()) throw py::error_already_set();
  if (overflow != 0)
    MLSYS_FAIL(op, "integer ", std::string(py::str(i)), " does not fit in int64");
  return static_cast<int64_t>(v);
}

// A value for full / fill_ / t[...] = v: Python and NumPy integers and bools stay exact
// integers (the C++ side converts them straight to the tensor's dtype); other numbers are read
// as float64.
inline Scalar to_scalar(py::handle obj, const char* op) {
  if (PyBool_Check(obj.ptr())) return Scalar(obj.ptr() == Py_True ? 1 : 0);
  if (is_index(obj)) return Scalar(to_int64(obj, op));
  double v = PyFloat_AsDouble(obj.ptr());  // floats, NumPy floats, anything with __float__
  if (v == -1.0 && PyErr_Occurred()) {
    PyErr_Clear();
    MLSYS_FAIL(op, "expected a number, got ", type_name(obj));
  }
  return Scalar(v);
}

// A shape is an int or a sequence of ints: 3, (2, 3), [2, 3], () for a scalar (PA1 placeholders
// also take -1 for a dim known only at run time; the C++ side checks the values).
inline Shape to_shape(py::handle obj, const char* op) {
  if (is_index(obj)) return {to_int64(obj, op)};
  if (py::isinstance<py::sequence>(obj) && !py::isinstance<py::str>(obj)) {
    Shape shape;
    for (py::handle d : obj) {
      if (!is_index(d))
        MLSYS_FAIL(op, "expected a shape of ints, got an element of type ", type_name(d));
      shape.push_back(to_int64(d, op));
    }
    return shape;
  }
  MLSYS_FAIL(op, "expected a shape (an int or a sequence of ints), got ", type_name(obj));
}

// dtype arguments take mlsys.DType, a name ("float32") or anything np.dtype() accepts. An enum
// built from an out-of-range integer (mlsys.DType(7)) is refused here.
inline DType to_dtype(py::handle obj) {
  if (py::isinstance<DType>(obj)) {
    DType d = obj.cast<DType>();
    int i = static_cast<int>(d);
    MLSYS_CHECK(i >= 0 && i <= static_cast<int>(DType::Int64), "dtype", "DType(", i,
                ") is not a dtype (expected float32, int32 or int64)");
    return d;
  }
  std::string name;
  try {
    name = py::str(numpy().attr("dtype")(obj).attr("name"));
  } catch (py::error_already_set&) {
    name = py::str(py::repr(obj));
  }
  if (name == "float32") return DType::Float32;
  if (name == "int32") return DType::Int32;
  if (name == "int64") return DType::Int64;
  MLSYS_FAIL("dtype", "unsupported dtype ", name, " (supported: float32, int32, int64)");
}

// device arguments take mlsys.Device or "cpu" / "cuda" / "cuda:0".
inline Device to_device(py::handle obj) {
  if (py::isinstance<Device>(obj)) {
    Device d = obj.cast<Device>();
    int i = static_cast<int>(d);
    MLSYS_CHECK(i >= 0 && i <= static_cast<int>(Device::CUDA), "device", "Device(", i,
                ") is not a device (expected cpu or cuda)");
    return d;
  }
  if (py::isinstance<py::str>(obj)) {
    std::string s = obj.cast<std::string>();
    if (s == "cpu") return Device::CPU;
    if (s == "cuda" || s == "cuda:0") return Device::CUDA;
    MLSYS_FAIL("device", "unknown device '", s, "' (expected 'cpu' or 'cuda')");
  }
  MLSYS_FAIL("device", "expected mlsys.Device or a string, got ", type_name(obj));
}

}  // namespace mlsys::pyconv
