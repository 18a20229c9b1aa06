// pa1_autodiff/python/bindings.cpp — the extension module mlsys.pa1._C: PA1's graph, autodiff,
// executor, optimizers and training loop from Python. The only PA1 file that includes pybind11;
// the package mlsys/pa1/__init__.py re-exports everything from here.
//
// Everything bound here is declared in include/pa1/*.h and defined in the starter code (a
// student stub throws mlsys::NotImplemented, which the common module's translator turns into
// mlsys.NotImplemented naming the task), so the module builds and imports from the student
// files as well as from the solutions.
//
// Conventions at the boundary:
//   values in   numpy arrays, lists, numbers or mlsys.Tensor. Arrays are copied into a new
//               Tensor: floats become float32 and integers int64, or the dtype of the
//               placeholder they feed (numbers -> float32, integers -> int32/int64; floats
//               are never truncated to integers); a Tensor is used as is.
//   values out  Executor.run returns numpy arrays by default (numpy=False: mlsys.Tensor).
//               An array views the output Tensor's memory, which no one else writes: an
//               output that shares memory with a Variable, a Constant or a feed is copied
//               first, so a later optimizer step never changes an array already returned.
//   nodes       mlsys.pa1.Node wraps the shared NodePtr: the same C++ node is always the same
//               Python object while one is alive, and == / hash are by node identity (dict
//               keys for feeds). Arithmetic operators build nodes (+ - * / ** @, unary -).
//   errors      mlsys::Error -> mlsys.Error and mlsys::NotImplemented -> mlsys.NotImplemented,
//               by the translators that mlsys._C registers for every module.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <ostream>
#include <streambuf>
#include <string>
#include <unordered_set>
#include <vector>

#include "mlsys/error.h"
#include "mlsys/io.h"
#include "mlsys/tensor.h"
#include "pa1/pa1.h"
#include "py_convert.h"

namespace py = pybind11;
using mlsys::Device;
using mlsys::DType;
using mlsys::Shape;
using mlsys::Tensor;
using mlsys::detail::cat;
using pa1::NodeKind;
using pa1::NodePtr;
using namespace mlsys::pyconv;  // numpy, type_name, is_index, to_shape, to_dtype, to_device

namespace {

// ============================================================================================
// Argument conversion
// ============================================================================================

bool is_node(py::handle obj) { return py::isinstance<pa1::Node>(obj); }

// A Python or NumPy number (not an array, not a bool): the scalar forms of + - * /.
bool is_number(py::handle obj) {
  if (PyBool_Check(obj.ptr())) return false;
  if (PyFloat_Check(obj.ptr()) || PyLong_Check(obj.ptr())) return true;
  return py::isinstance(obj, numpy().attr("number"));
}

// What may stand for a constant in an expression: a Tensor, an array, a list or a number.
bool is_value(py::handle obj) {
  return py::isinstance<Tensor>(obj) || is_number(obj) || py::isinstance<py::list>(obj) ||
         py::isinstance<py::tuple>(obj) || py::isinstance(obj, numpy().attr("ndarray"));
}

// Reduction axes: None means every axis (the C++ empty list), an int one axis. An empty
// sequence is refused rather than guessed at (NumPy reads it as "no axes", C++ as "all").
std::vector<int64_t> to_axes(py::handle obj, const char* op) {
  if (obj.is_none()) return {};
  std::vector<int64_t> axes = to_shape(obj, op);
  if (axes.empty()) MLSYS_FAIL(op, "axes=() is ambiguous; pass axes=None to reduce over every axis");
  return axes;
}

// A Tensor from a Tensor (as is), an array, a list or a number (copied). Floats and bools
// become float32, integers int64. With `want` float32, any number becomes float32 (a float64
// batch, [1, 2]); with `want` an integer dtype, integers become exactly `want` (int32 labels
// feed an int64 placeholder) but floats are never truncated: that mismatch is left for the
// C++ check, whose message names the node.
Tensor to_tensor(py::handle obj, std::optional<DType> want = std::nullopt) {
  if (py::isinstance<Tensor>(obj)) return obj.cast<Tensor>();
  py::module_ np = numpy();
  py::object arr = np.attr("asarray")(obj);
  std::string kind = py::str(arr.attr("dtype").attr("kind"));
  const char* target = nullptr;
  if (kind == "f" || kind == "b") target = "float32";
  if (kind == "i" || kind == "u") target = "int64";
  if (want) {
    bool is_int = kind == "i" || kind == "u";
    if (*want == DType::Float32 ? (is_int || target) : is_int) target = mlsys::to_string(*want);
  }
  if (!target)
    MLSYS_FAIL("pa1", "cannot make a tensor of ", type_name(obj), " with numpy dtype ",
               std::string(py::str(arr.attr("dtype"))), " (expected numbers)");
  arr = arr.attr("astype")(target, py::arg("copy") = false);
  return py::module_::import("mlsys").attr("from_numpy")(arr).cast<Tensor>();
}

// A node for an operand: a Node as is, anything else as a constant node.
NodePtr as_node(py::handle obj) {
  if (is_node(obj)) return obj.cast<NodePtr>();
  return pa1::constant(to_tensor(obj));
}

std::vector<NodePtr> to_nodes(py::handle obj, const char* what) {
  if (is_node(obj)) return {obj.cast<NodePtr>()};
  if (!py::isinstance<py::sequence>(obj) || py::isinstance<py::str>(obj))
    throw py::type_error(cat(what, ": expected a Node or a sequence of Nodes, got ", type_name(obj)));
  std::vector<NodePtr> nodes;
  for (py::handle n : obj) {
    if (!is_node(n))
      throw py::type_error(cat(what, ": expected Nodes, got an element of type ", type_name(n)));
    nodes.push_back(n.cast<NodePtr>());
  }
  return nodes;
}

py::object to_python(const Tensor& t, bool as_numpy) {
  py::object obj = py::cast(t);
  return as_numpy ? obj.attr("numpy")() : obj;
}

// mlsys.Dataset as is, or (images, labels) arrays: images float32, labels int64.
mlsys::Dataset to_dataset(py::handle obj, const char* what) {
  if (py::isinstance<mlsys::Dataset>(obj)) return obj.cast<mlsys::Dataset>();
  if (py::isinstance<py::sequence>(obj) && py::len(obj) == 2) {
    py::sequence s = py::reinterpret_borrow<py::sequence>(obj);
    return {to_tensor(s[0], DType::Float32), to_tensor(s[1], DType::Int64)};
  }
  throw py::type_error(cat(what, ": expected an mlsys.Dataset or a pair (images, labels), got ",
                           type_name(obj)));
}

// ============================================================================================
// Expressions: the elementwise binary ops with nodes, values or numbers on either side
// ============================================================================================

enum class Arith { Add, Sub, Mul, Div };

NodePtr arith(Arith op, py::handle a, py::handle b) {
  // A number on one side uses the scalar forms (add_scalar, mul_scalar), as the C++
  // operators do; otherwise both sides become nodes.
  if (is_number(b) && !is_number(a)) {
    NodePtr x = as_node(a);
    float c = b.cast<float>();
    switch (op) {
      case Arith::Add: return x + c;
      case Arith::Sub: return x - c;
      case Arith::Mul: return x * c;
      case Arith::Div: return x / c;
    }
  }
  if (is_number(a) && !is_number(b)) {
    NodePtr x = as_node(b);
    float c = a.cast<float>();
    switch (op) {
      case Arith::Add: return c + x;
      case Arith::Sub: return c - x;
      case Arith::Mul: return c * x;
      case Arith::Div: return c / x;
    }
  }
  NodePtr x = as_node(a), y = as_node(b);
  switch (op) {
    case Arith::Add: return pa1::add(x, y);
    case Arith::Sub: return pa1::sub(x, y);
    case Arith::Mul: return pa1::mul(x, y);
    case Arith::Div: return pa1::div(x, y);
  }
  return nullptr;
}

// Node.__add__ and friends: other operand types give NotImplemented, so Python raises the
// usual TypeError (or tries the other operand's method).
py::object not_implemented() { return py::reinterpret_borrow<py::object>(Py_NotImplemented); }

void def_arith(py::class_<pa1::Node, NodePtr>& cls, const char* name, const char* rname, Arith op) {
  cls.def(name, [op](py::object self, py::object other) -> py::object {
    if (!is_node(other) && !is_value(other)) return not_implemented();
    return py::cast(arith(op, self, other));
  });
  cls.def(rname, [op](py::object self, py::object other) -> py::object {
    if (!is_node(other) && !is_value(other)) return not_implemented();
    return py::cast(arith(op, other, self));
  });
}

// ============================================================================================
// Executor.run: feeds in, numpy arrays (or Tensors) out
// ============================================================================================

pa1::FeedDict to_feeds(py::handle feeds) {
  pa1::FeedDict out;
  if (feeds.is_none()) return out;
  if (!py::isinstance<py::dict>(feeds))
    throw py::type_error("Executor.run: feeds must be a dict {placeholder Node: value}, got " +
                         type_name(feeds));
  for (auto item : py::reinterpret_borrow<py::dict>(feeds)) {
    if (!is_node(item.first))
      throw py::type_error("Executor.run: feeds are keyed by placeholder Nodes, got a key of type " +
                           type_name(item.first));
    NodePtr node = item.first.cast<NodePtr>();
    out[node] = to_tensor(item.second, node->dtype);
  }
  return out;
}

py::list run_executor(pa1::Executor& ex, py::handle feeds_obj, bool training,
                      std::optional<int64_t> step, bool as_numpy) {
  pa1::FeedDict feeds = to_feeds(feeds_obj);
  pa1::RunOptions options;
  options.training = training;
  options.step = step.value_or(-1);
  std::vector<Tensor> values;
  {
    py::gil_scoped_release release;  // no Python inside a run: ops are C++ only
    values = ex.run(feeds, options);
  }
  // Outputs that share memory with a leaf's value (a Variable output, a reshape of one, a fed
  // placeholder) are copied: arrays handed out must not change under a later update.
  std::unordered_set<const mlsys::Storage*> leaf_storage;
  for (const NodePtr& n : ex.schedule())
    if (n->value.defined()) leaf_storage.insert(n->value.storage().get());
  for (const auto& kv : feeds) leaf_storage.insert(kv.second.storage().get());
  py::list out;
  for (Tensor& v : values) {
    if (leaf_storage.count(v.storage().get())) v = v.clone();
    out.append(to_python(v, as_numpy));
  }
  return out;
}

// ============================================================================================
// fit(): progress lines go to Python (sys.stdout or a callable), one call per line
// ============================================================================================

// A streambuf that collects characters and hands each complete line to a Python callable,
// taking the GIL for the call (fit runs without it). A Python exception in the callable is
// kept and raised once fit returns; later lines are dropped.
class PythonLineBuf : public std::streambuf {
 public:
  explicit PythonLineBuf(py::object sink) : sink_(std::move(sink)) {}
  ~PythonLineBuf() override {
    py::gil_scoped_acquire gil;
    sink_ = py::object();
  }
  void rethrow() {
    if (error_) {
      py::gil_scoped_acquire gil;
      error_->restore();
      error_.reset();
      throw py::error_already_set();
    }
  }

 protected:
  int_type overflow(int_type ch) override {
    if (ch == traits_type::eof()) return 0;
    line_.push_back(static_cast<char>(ch));
    if (ch == '\n') emit();
    return ch;
  }
  int sync() override {
    if (!line_.empty()) emit();
    return 0;
  }

 private:
  void emit() {
    std::string line;
    line.swap(line_);
    if (error_) return;
    py::gil_scoped_acquire gil;
    try {
      sink_(line);
    } catch (py::error_already_set& e) {
      error_ = std::make_unique<py::error_already_set>(std::move(e));
    }
  }
  py::object sink_;
  std::string line_;
  std::unique_ptr<py::error_already_set> error_;
};

std::vector<pa1::EpochStats> run_fit(pa1::Trainer& trainer, py::handle train_obj,
                                     py::handle test_obj, int epochs, int64_t batch_size,
                                     uint64_t seed, bool verbose, py::object log) {
  mlsys::Dataset train = to_dataset(train_obj, "fit: train");
  mlsys::Dataset test = test_obj.is_none() ? mlsys::Dataset{} : to_dataset(test_obj, "fit: test");
  // Lines end with '\n' (std::endl), so a plain write keeps them whole; sys.stdout is looked
  // up now, so that notebooks and pytest's capture see the output.
  py::object sink = log;
  if (sink.is_none()) {
    py::object stdout_ = py::module_::import("sys").attr("stdout");
    sink = py::cpp_function([stdout_](const std::string& line) {
      stdout_.attr("write")(line);
      stdout_.attr("flush")();
    });
  } else if (!PyCallable_Check(log.ptr())) {
    throw py::type_error("fit: log must be a callable taking one line (str) or None, got " +
                         type_name(log));
  }
  PythonLineBuf buf(sink);
  std::ostream stream(&buf);
  pa1::FitOptions options;
  options.epochs = epochs;
  options.batch_size = batch_size;
  options.seed = seed;
  options.log = &stream;
  options.verbose = verbose;
  std::vector<pa1::EpochStats> history;
  {
    py::gil_scoped_release release;  // lets the notebook's output thread show each line live
    history = pa1::fit(trainer, train, test, options);
    stream.flush();
  }
  buf.rethrow();
  return history;
}

}  // namespace

// ============================================================================================
// The module
// ============================================================================================

PYBIND11_MODULE(_C, m) {
  m.doc() = "mlsys.pa1._C: bindings of PA1 (import mlsys.pa1 instead).";
  // mlsys._C registers Tensor, DType, Device, Dataset and the error translators.
  py::module_::import("mlsys");

  // ---- graph ----------------------------------------------------------------------------------
  py::enum_<NodeKind>(m, "NodeKind", "What a node is: a fed placeholder, a variable, a constant "
                                     "or a compute node (an op over inputs).")
      .value("placeholder", NodeKind::Placeholder)
      .value("variable", NodeKind::Variable)
      .value("constant", NodeKind::Constant)
      .value("compute", NodeKind::Compute);

  py::class_<pa1::Node, NodePtr> node(m, "Node", R"doc(
A node of a computational graph (pa1/graph.h). Make leaves with placeholder(), variable() and
constant(), compute nodes with the ops (add, matmul, relu, ...) or the operators
+ - * / ** @ and unary -; nothing is computed until an Executor runs the graph.

== and hash() are by identity (nodes are dict keys for feeds). shape holds -1 for dims known
only at run time.)doc");
  // NumPy defers to our reflected operators (array + node -> Node.__radd__).
  node.attr("__array_ufunc__") = py::none();
  node.def_property_readonly("kind", [](const pa1::Node& n) { return n.kind; })
      .def_property_readonly("op", [](const pa1::Node& n) -> py::object {
             if (!n.op) return py::none();
             return py::str(n.op->name());
           }, "The op's name ('matmul', ...) for a compute node, None for a leaf.")
      .def_property_readonly("inputs", [](const pa1::Node& n) { return n.inputs; })
      .def_property("name", &pa1::Node::name, &pa1::Node::set_name)
      .def_property_readonly("shape", [](const pa1::Node& n) {
             py::tuple t(n.shape.size());
             for (size_t i = 0; i < n.shape.size(); ++i) t[i] = py::int_(n.shape[i]);
             return t;
           }, "The static shape: -1 where a dim is only known at run time.")
      .def_property_readonly("ndim", [](const pa1::Node& n) { return n.shape.size(); })
      .def_property_readonly("dtype", [](const pa1::Node& n) { return n.dtype; })
      .def_readonly("id", &pa1::Node::id, "Unique, increasing in creation order.")
      .def_property(
          "value",
          [](const pa1::Node& n) -> py::object {
            if (!n.value.defined()) return py::none();
            return py::cast(n.value);
          },
          [](pa1::Node& n, py::handle v) {
            MLSYS_CHECK(n.kind == NodeKind::Variable, "Node.value", "only a variable's value can be "
                        "set; ", n.describe(), " is a ", pa1::to_string(n.kind));
            Tensor t = to_tensor(v, DType::Float32);
            MLSYS_CHECK(t.shape() == n.value.shape(), "Node.value", "variable ", n.describe(),
                        " holds ", n.value.describe(), "; cannot assign a value of shape ",
                        mlsys::to_string(t.shape()));
            n.value.copy_(t);
          },
          "The value of a variable or constant (an mlsys.Tensor sharing its memory), None for "
          "other nodes. Assigning to a variable's value copies into it in place, so executors "
          "and optimizers holding the variable see the new values.")
      .def("is_leaf", &pa1::Node::is_leaf)
      .def("describe", &pa1::Node::describe, "\"'h1' (relu, float32[-1, 128])\", as error "
                                             "messages name nodes.")
      .def("op_gradient",
           [](const NodePtr& n, const NodePtr& grad) {
             MLSYS_CHECK(!n->is_leaf(), "Node.op_gradient", n->describe(),
                         " is a leaf; only compute nodes have an op");
             return n->op->gradient(n, grad);
           },
           py::arg("grad"), R"doc(
The op's gradient graph for this node alone (Op::gradient, i.e. the *_backward function of
Task 1): given grad holding dL/d(self), one node per input holding dL/d(input), None where
no gradient flows. Unlike gradients(), nothing is accumulated over the graph.)doc")
      .def("__repr__", [](const pa1::Node& n) { return "<Node " + n.describe() + ">"; })
      .def("__hash__", [](const pa1::Node& n) { return std::hash<const void*>()(&n); })
      .def("__eq__", [](const pa1::Node& a, py::handle b) {
             return is_node(b) && &a == b.cast<pa1::Node*>();
           })
      .def("__ne__", [](const pa1::Node& a, py::handle b) {
             return !(is_node(b) && &a == b.cast<pa1::Node*>());
           })
      .def("__neg__", [](const NodePtr& x) { return pa1::neg(x); })
      .def("__pow__", [](const NodePtr& x, float p) { return pa1::pow_scalar(x, p); },
           py::is_operator(), "x ** p for a number p (pow_scalar).")
      .def("__matmul__", [](const NodePtr& a, py::object b) -> py::object {
             if (!is_node(b) && !is_value(b)) return not_implemented();
             return py::cast(pa1::matmul(a, as_node(b)));
           })
      .def("__rmatmul__", [](const NodePtr& b, py::object a) -> py::object {
             if (!is_node(a) && !is_value(a)) return not_implemented();
             return py::cast(pa1::matmul(as_node(a), b));
           });
  def_arith(node, "__add__", "__radd__", Arith::Add);
  def_arith(node, "__sub__", "__rsub__", Arith::Sub);
  def_arith(node, "__mul__", "__rmul__", Arith::Mul);
  def_arith(node, "__truediv__", "__rtruediv__", Arith::Div);

  // ---- leaves ---------------------------------------------------------------------------------
  m.def("placeholder",
        [](const std::string& name, py::handle shape, py::handle dtype) {
          return pa1::placeholder(name, to_shape(shape, "placeholder"), to_dtype(dtype));
        },
        py::arg("name"), py::arg("shape"), py::arg("dtype") = py::cast(DType::Float32), R"doc(
A value fed at run time, e.g. placeholder("x", (-1, 64)): -1 marks a dim that may change from
run to run (the batch). dtype: float32 (default) or int64 for labels and indices.)doc");
  m.def("variable",
        [](const std::string& name, py::handle value) {
          return pa1::variable(name, to_tensor(value, DType::Float32));
        },
        py::arg("name"), py::arg("value"),
        "A parameter holding a float32 value (an array is copied, a Tensor is shared); "
        "optimizers update it in place.");
  m.def("constant",
        [](py::handle value, const std::string& name) {
          return pa1::constant(to_tensor(value), name);
        },
        py::arg("value"), py::arg("name") = "",
        "A fixed value (an array, a number or a Tensor); floats become float32, integers int64.");

  // ---- ops: elementwise (gradients: Task 1.1) ---------------------------------------------------
  const char* binary_doc = "Elementwise with NumPy broadcasting. Either side may be a Node, an "
                           "array/Tensor (a constant) or a number (the scalar form).";
  for (auto [name, op] : {std::pair{"add", Arith::Add}, std::pair{"sub", Arith::Sub},
                          std::pair{"mul", Arith::Mul}, std::pair{"div", Arith::Div}}) {
    m.def(name, [op = op](py::handle a, py::handle b) { return arith(op, a, b); }, py::arg("a"),
          py::arg("b"), binary_doc);
  }
  m.def("add_scalar", &pa1::add_scalar, py::arg("a"), py::arg("c"), "a + c (an op).");
  m.def("mul_scalar", &pa1::mul_scalar, py::arg("a"), py::arg("c"), "a * c (an op).");
  m.def("rsub_scalar", &pa1::rsub_scalar, py::arg("a"), py::arg("c"), "c - a (an op).");
  m.def("pow_scalar", &pa1::pow_scalar, py::arg("a"), py::arg("p"),
        "a ** p elementwise (an op); a > 0 unless p is an integer.");
  m.def("neg", &pa1::neg, py::arg("x"));
  m.def("exp", &pa1::exp, py::arg("x"));
  m.def("log", &pa1::log, py::arg("x"));
  m.def("sqrt", &pa1::sqrt, py::arg("x"));
  m.def("relu", &pa1::relu, py::arg("x"));
  m.def("sigmoid", &pa1::sigmoid, py::arg("x"));
  m.def("tanh", &pa1::tanh, py::arg("x"));

  // ---- ops: shapes, reductions, matmul (Task 1.2) -----------------------------------------------
  m.def("matmul",
        [](py::handle a, py::handle b, bool trans_a, bool trans_b) {
          return pa1::matmul(as_node(a), as_node(b), trans_a, trans_b);
        },
        py::arg("a"), py::arg("b"), py::arg("trans_a") = false, py::arg("trans_b") = false,
        "a [..., M, K] @ b [..., K, N] -> [..., M, N], batch dims broadcast; trans_a / trans_b "
        "use a's / b's last two dims swapped.");
  m.def("permute",
        [](const NodePtr& x, py::handle dims) { return pa1::permute(x, to_shape(dims, "permute")); },
        py::arg("x"), py::arg("dims"), "out.shape[i] = x.shape[dims[i]].");
  m.def("transpose", &pa1::transpose, py::arg("x"), py::arg("dim0") = -2, py::arg("dim1") = -1);
  m.def("reshape",
        [](const NodePtr& x, py::handle s) { return pa1::reshape(x, to_shape(s, "reshape")); },
        py::arg("x"), py::arg("shape"), "Same elements, new shape; one dim may be -1.");
  m.def("broadcast_to",
        [](const NodePtr& x, py::handle s) {
          return pa1::broadcast_to(x, to_shape(s, "broadcast_to"));
        },
        py::arg("x"), py::arg("shape"));
  const char* axes_doc = "axes: None (every axis), an int or a non-empty sequence of ints.";
  m.def("sum",
        [](const NodePtr& x, py::handle axes, bool k) {
          return pa1::sum(x, to_axes(axes, "sum"), k);
        },
        py::arg("x"), py::arg("axes") = py::none(), py::arg("keepdims") = false, axes_doc);
  m.def("mean",
        [](const NodePtr& x, py::handle axes, bool k) {
          return pa1::mean(x, to_axes(axes, "mean"), k);
        },
        py::arg("x"), py::arg("axes") = py::none(), py::arg("keepdims") = false, axes_doc);
  m.def("max", &pa1::max, py::arg("x"), py::arg("axis"), py::arg("keepdims") = false,
        "The largest element along one axis.");

  // ---- ops: neural networks (Task 1.3) ----------------------------------------------------------
  m.def("softmax", &pa1::softmax, py::arg("x"), py::arg("axis") = -1);
  m.def("log_softmax", &pa1::log_softmax, py::arg("x"), py::arg("axis") = -1);
  m.def("softmax_cross_entropy", &pa1::softmax_cross_entropy, py::arg("logits"), py::arg("labels"),
        "logits float32 [B..., C], labels int64 [B...] -> the 0-dim mean cross-entropy.");
  m.def("layernorm", &pa1::layernorm, py::arg("x"), py::arg("gain"), py::arg("bias"),
        py::arg("eps") = 1e-5f, "Normalizes over the last axis, then * gain + bias.");
  m.def("gelu", &pa1::gelu, py::arg("x"), "GELU, tanh approximation.");
  m.def("embedding", &pa1::embedding, py::arg("table"), py::arg("indices"),
        "table [V, C], int64 indices [B...] -> [B..., C].");
  m.def("dropout", &pa1::dropout, py::arg("x"), py::arg("p"), py::arg("seed"),
        "Inverted dropout; the identity when run with training=False or p == 0.");

  // ---- ops: helpers gradients are built from ----------------------------------------------------
  m.def("sum_to_like", &pa1::sum_to_like, py::arg("x"), py::arg("like"));
  m.def("broadcast_to_like", &pa1::broadcast_to_like, py::arg("x"), py::arg("like"));
  m.def("reshape_like", &pa1::reshape_like, py::arg("x"), py::arg("like"));
  m.def("unsqueeze",
        [](const NodePtr& x, py::handle a) { return pa1::unsqueeze(x, to_shape(a, "unsqueeze")); },
        py::arg("x"), py::arg("axes"));
  m.def("squeeze",
        [](const NodePtr& x, py::handle a) { return pa1::squeeze(x, to_shape(a, "squeeze")); },
        py::arg("x"), py::arg("axes"));
  m.def("numel",
        [](const NodePtr& x, py::handle a) { return pa1::numel(x, to_axes(a, "numel")); },
        py::arg("x"), py::arg("axes") = py::none());
  m.def("one_hot", &pa1::one_hot, py::arg("labels"), py::arg("depth"));
  m.def("equal", &pa1::equal, py::arg("a"), py::arg("b"), "float32 mask of a == b (a node).");
  m.def("relu_mask", &pa1::relu_mask, py::arg("x"));
  m.def("scatter_add_rows", &pa1::scatter_add_rows, py::arg("src"), py::arg("indices"),
        py::arg("like"));
  m.def("zeros_like", &pa1::zeros_like, py::arg("x"));
  m.def("ones_like", &pa1::ones_like, py::arg("x"));

  // ---- autodiff (Tasks 2.1 and 2.2) -------------------------------------------------------------
  m.def("topological_sort",
        [](py::handle outputs) {
          return pa1::topological_sort(to_nodes(outputs, "topological_sort"));
        },
        py::arg("outputs"), "PA1 Task 2.1: every node reachable from outputs (a Node or a list), "
                            "each after its inputs (DFS post-order).");
  m.def("gradients",
        [](const NodePtr& output, py::handle wrt, std::optional<NodePtr> output_grad) {
          return pa1::gradients(output, to_nodes(wrt, "gradients"), output_grad.value_or(nullptr));
        },
        py::arg("output"), py::arg("wrt"), py::arg("output_grad") = py::none(), R"doc(
PA1 Task 2.2: a list with one gradient node per node of wrt (a Node or a list), holding
d(sum(output * output_grad))/d(wrt[i]); output_grad defaults to ones. The result is a graph:
run it with an Executor, or differentiate it again.)doc");

  // ---- executor ---------------------------------------------------------------------------------
  py::class_<pa1::Executor>(m, "Executor", R"doc(
Runs a graph (pa1/executor.h): Executor(outputs) plans once; run(feeds) computes every needed
node once and returns the outputs' values, in order, as a list.)doc")
      .def(py::init([](py::handle outputs) { return pa1::Executor(to_nodes(outputs, "Executor")); }),
           py::arg("outputs"))
      .def("run", &run_executor, py::arg("feeds") = py::none(), py::kw_only(),
           py::arg("training") = true, py::arg("step") = py::none(), py::arg("numpy") = true,
           R"doc(
feeds: {placeholder Node: numpy array, list, number or mlsys.Tensor}. Arrays are copied into
tensors of the placeholder's dtype (float64 or int -> float32, int32 -> int64), except that
floats are never truncated for an integer placeholder.
training=False turns dropout off; step (default: the number of earlier runs) picks dropout
masks. Returns a list of numpy arrays (numpy=False: mlsys.Tensors), one per output.
Raises mlsys.Error naming the node for a missing feed or a wrong shape or dtype.)doc")
      .def_property_readonly("outputs", &pa1::Executor::outputs)
      .def_property_readonly("schedule", &pa1::Executor::schedule,
                             "Every node a run evaluates, in evaluation order.")
      .def_property_readonly("runs", &pa1::Executor::runs);

  // ---- optimizers (Tasks 3.1 and 3.2) and initializers --------------------------------------------
  py::class_<pa1::Optimizer, std::shared_ptr<pa1::Optimizer>>(m, "Optimizer", R"doc(
Base of SGD, Adam and AdamW (pa1/optim.h). step(grads) updates every parameter's value in
place; grads: one array or Tensor per parameter, in the order of params.)doc")
      .def("step",
           [](pa1::Optimizer& opt, py::handle grads) {
             std::vector<Tensor> g;
             for (py::handle x : grads) g.push_back(to_tensor(x, DType::Float32));
             py::gil_scoped_release release;
             opt.step(g);
           },
           py::arg("grads"))
      .def_property_readonly("params", &pa1::Optimizer::params)
      .def_property_readonly("steps", &pa1::Optimizer::steps, "Number of step() calls so far.")
      .def_readwrite("lr", &pa1::Optimizer::lr, "Learning rate; may change between steps.");
  py::class_<pa1::SGD, pa1::Optimizer, std::shared_ptr<pa1::SGD>>(m, "SGD",
      "PA1 Task 3.1: g = grad + weight_decay * w; v = momentum * v + g; w -= lr * v.")
      .def(py::init<std::vector<NodePtr>, float, float, float>(), py::arg("params"),
           py::arg("lr"), py::arg("momentum") = 0.f, py::arg("weight_decay") = 0.f)
      .def_readwrite("momentum", &pa1::SGD::momentum)
      .def_readwrite("weight_decay", &pa1::SGD::weight_decay);
  py::class_<pa1::Adam, pa1::Optimizer, std::shared_ptr<pa1::Adam>>(m, "Adam",
      "PA1 Task 3.2: Adam with bias correction; L2 weight decay, or decoupled (AdamW) when "
      "decoupled_weight_decay is set.")
      .def(py::init<std::vector<NodePtr>, float, float, float, float, float, bool>(),
           py::arg("params"), py::arg("lr") = 1e-3f, py::arg("beta1") = 0.9f,
           py::arg("beta2") = 0.999f, py::arg("eps") = 1e-8f, py::arg("weight_decay") = 0.f,
           py::arg("decoupled_weight_decay") = false)
      .def_readwrite("beta1", &pa1::Adam::beta1)
      .def_readwrite("beta2", &pa1::Adam::beta2)
      .def_readwrite("eps", &pa1::Adam::eps)
      .def_readwrite("weight_decay", &pa1::Adam::weight_decay)
      .def_readwrite("decoupled_weight_decay", &pa1::Adam::decoupled_weight_decay);
  py::class_<pa1::AdamW, pa1::Adam, std::shared_ptr<pa1::AdamW>>(m, "AdamW",
      "PA1 Task 3.2: Adam with decoupled weight decay (default 0.01).")
      .def(py::init<std::vector<NodePtr>, float, float, float, float, float>(), py::arg("params"),
           py::arg("lr") = 1e-3f, py::arg("beta1") = 0.9f, py::arg("beta2") = 0.999f,
           py::arg("eps") = 1e-8f, py::arg("weight_decay") = 0.01f);

  const char* init_doc = "A seeded float32 weight tensor; shape [fan_in, fan_out].";
  using Init = Tensor (*)(const Shape&, uint64_t);
  for (auto [name, init] : {std::pair<const char*, Init>{"xavier_uniform", &pa1::xavier_uniform},
                            std::pair<const char*, Init>{"xavier_normal", &pa1::xavier_normal},
                            std::pair<const char*, Init>{"he_uniform", &pa1::he_uniform},
                            std::pair<const char*, Init>{"he_normal", &pa1::he_normal}}) {
    m.def(name,
          [init = init, name = name](py::handle s, uint64_t seed) {
            return init(to_shape(s, name), seed);
          },
          py::arg("shape"), py::arg("seed"), init_doc);
  }

  // ---- the MLP, training (Task 4) and the loop ----------------------------------------------------
  py::enum_<pa1::Activation>(m, "Activation")
      .value("relu", pa1::Activation::Relu)
      .value("tanh", pa1::Activation::Tanh)
      .value("sigmoid", pa1::Activation::Sigmoid)
      .value("gelu", pa1::Activation::Gelu);

  py::class_<pa1::Model>(m, "Model", "x: the input placeholder [-1, inputs]; logits [-1, classes]; "
                                     "params: W1, b1, W2, b2, ...")
      .def_readonly("x", &pa1::Model::x)
      .def_readonly("logits", &pa1::Model::logits)
      .def_readonly("params", &pa1::Model::params);
  m.def("build_mlp",
        [](std::vector<int64_t> widths, uint64_t seed, py::handle activation, float dropout,
           py::handle device) {
          pa1::Activation act;
          if (py::isinstance<py::str>(activation)) {
            py::object members = py::type::of<pa1::Activation>().attr("__members__");
            std::string name = activation.cast<std::string>();
            MLSYS_CHECK(members.contains(name), "build_mlp", "unknown activation '", name,
                        "' (expected relu, tanh, sigmoid or gelu)");
            act = members[py::str(name)].cast<pa1::Activation>();
          } else {
            act = activation.cast<pa1::Activation>();
          }
          return pa1::build_mlp(widths, seed, act, dropout, to_device(device));
        },
        py::arg("widths"), py::arg("seed") = 0, py::arg("activation") = "relu",
        py::arg("dropout") = 0.f, py::arg("device") = "cpu", R"doc(
An MLP classifier: widths = [inputs, hidden..., classes]; hidden layers act(h @ W + b), then
dropout when dropout > 0; He/Xavier-uniform weights from seed, zero biases.)doc");

  py::class_<pa1::Trainer>(m, "Trainer", R"doc(
PA1 Task 4: Trainer(model, optimizer) builds the loss graph (labels placeholder, softmax
cross-entropy, gradients w.r.t. optimizer.params) and its executors.)doc")
      .def(py::init<pa1::Model, std::shared_ptr<pa1::Optimizer>>(), py::arg("model"),
           py::arg("optimizer"))
      .def("train_step",
           [](pa1::Trainer& t, py::handle images, py::handle labels) {
             Tensor x = to_tensor(images, DType::Float32), y = to_tensor(labels, DType::Int64);
             py::gil_scoped_release release;
             return t.train_step(x, y);
           },
           py::arg("images"), py::arg("labels"),
           "One optimizer step on a batch; returns the batch's loss before the update.")
      .def("accuracy",
           [](pa1::Trainer& t, py::handle images, py::handle labels, int64_t batch_size) {
             Tensor x = to_tensor(images, DType::Float32), y = to_tensor(labels, DType::Int64);
             py::gil_scoped_release release;
             return t.accuracy(x, y, batch_size);
           },
           py::arg("images"), py::arg("labels"), py::arg("batch_size") = 512,
           "Fraction of rows classified correctly, dropout off.")
      .def_property_readonly("model", &pa1::Trainer::model)
      .def_property_readonly("optimizer", &pa1::Trainer::optimizer,
                             py::return_value_policy::reference_internal)
      .def_property_readonly("labels", &pa1::Trainer::labels)
      .def_property_readonly("loss", &pa1::Trainer::loss)
      .def_property_readonly("grads", &pa1::Trainer::grads);

  py::class_<pa1::EpochStats>(m, "EpochStats")
      .def_readonly("epoch", &pa1::EpochStats::epoch, "1-based")
      .def_readonly("loss", &pa1::EpochStats::loss, "Mean training loss over the epoch's batches.")
      .def_readonly("train_accuracy", &pa1::EpochStats::train_accuracy)
      .def_readonly("test_accuracy", &pa1::EpochStats::test_accuracy)
      .def_readonly("seconds", &pa1::EpochStats::seconds, "Wall time of the epoch's steps.")
      .def("as_dict", [](const pa1::EpochStats& s) {
        py::dict d;
        d["epoch"] = s.epoch;
        d["loss"] = s.loss;
        d["train_accuracy"] = s.train_accuracy;
        d["test_accuracy"] = s.test_accuracy;
        d["seconds"] = s.seconds;
        return d;
      })
      .def("__repr__", [](const pa1::EpochStats& s) {
        return cat("EpochStats(epoch=", s.epoch, ", loss=", s.loss, ", train_accuracy=",
                   s.train_accuracy, ", test_accuracy=", s.test_accuracy,
                   ", seconds=", s.seconds, ")");
      });
  m.def("fit", &run_fit, py::arg("trainer"), py::arg("train"), py::arg("test") = py::none(),
        py::kw_only(), py::arg("epochs") = 20, py::arg("batch_size") = 64, py::arg("seed") = 0,
        py::arg("verbose") = true, py::arg("log") = py::none(), R"doc(
Trains for `epochs` epochs of shuffled mini-batches (the staff loop, pa1::fit) and returns the
history: one EpochStats per epoch (epoch, loss, train_accuracy, test_accuracy, seconds).
train / test: mlsys.Dataset or (images, labels) arrays; test may be None. With verbose, one
progress line per epoch goes to sys.stdout, or to log(line) when log is a callable.)doc");
  m.def("take_rows",
        [](const Tensor& t, std::vector<int64_t> rows) { return pa1::take_rows(t, rows); },
        py::arg("t"), py::arg("rows"), "Rows of t along dim 0, gathered into a new tensor.");
}
