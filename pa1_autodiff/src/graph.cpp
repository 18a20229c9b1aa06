// Nodes, leaves and make_node: the graph data structure (staff code).
#include "pa1/graph.h"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <sstream>

#include "check.h"
#include "node_pool.h"

namespace pa1 {

const char* to_string(NodeKind kind) {
  switch (kind) {
    case NodeKind::Placeholder: return "placeholder";
    case NodeKind::Variable: return "variable";
    case NodeKind::Constant: return "constant";
    case NodeKind::Compute: return "compute";
  }
  return "?";
}

// Every node is made here: one pooled block for the Node and its control block (node_pool.h).
// The fields of Node that walks over a big graph read, kind to inputs, come first in
// graph.h: with the control block in front of them they share one cache line.
template <typename... Args>
static NodePtr new_node(Args&&... args) {
  return std::allocate_shared<Node>(detail::NodeAllocator<Node>(), std::forward<Args>(args)...);
}

static int64_t next_id() {
  static std::atomic<int64_t> counter{0};
  return counter.fetch_add(1, std::memory_order_relaxed);
}

Node::Node(NodeKind kind_, std::shared_ptr<const Op> op_, std::vector<NodePtr> inputs_,
           std::string name_arg, Shape shape_, DType dtype_, Tensor value_)
    : kind(kind_),
      dtype(dtype_),
      id(next_id()),
      op(std::move(op_)),
      inputs(std::move(inputs_)),
      shape(std::move(shape_)),
      value(std::move(value_)),
      name_(std::move(name_arg)) {}

// Destroying the last reference to the end of a long chain would destroy its input, whose
// destructor destroys its input, ... one stack frame per node. Instead, the outermost
// destructor collects inputs in a work list, and nested destructors (run from inside its loop)
// only append to that list.
Node::~Node() {
  thread_local std::vector<NodePtr>* pending = nullptr;
  if (inputs.empty()) return;
  if (pending != nullptr) {
    for (NodePtr& in : inputs) pending->push_back(std::move(in));
    return;
  }
  std::vector<NodePtr> work = std::move(inputs);
  pending = &work;
  while (!work.empty()) {
    NodePtr n = std::move(work.back());
    work.pop_back();
    n.reset();  // may run ~Node of n, which appends n's inputs to `work`
  }
  pending = nullptr;
}

std::string Node::name() const {
  if (!name_.empty()) return name_;
  std::string n = op ? op->name() : std::string(to_string(kind));
  char id_text[24] = "_";
  char* end = std::to_chars(id_text + 1, id_text + sizeof id_text, id).ptr;
  n.append(id_text, end);
  return n;
}

std::string Node::describe() const {
  std::ostringstream os;
  os << "'" << name() << "' (" << (op ? op->name() : std::string(to_string(kind))) << ", "
     << mlsys::to_string(dtype) << mlsys::to_string(shape) << ")";
  return os.str();
}

Shape Op::infer_shape(const std::vector<NodePtr>& inputs) const {
  return inputs.empty() ? Shape{} : inputs[0]->shape;
}

DType Op::infer_dtype(const std::vector<NodePtr>&) const { return DType::Float32; }

// ============================================================================================
// Leaves
// ============================================================================================

NodePtr placeholder(const std::string& name, Shape shape, DType dtype) {
  PA1_CHECK(static_cast<int64_t>(shape.size()) <= mlsys::kMaxDims, "placeholder",
              "'", name, "' has ", shape.size(), " dims; at most ", mlsys::kMaxDims);
  for (int64_t d : shape)
    PA1_CHECK(d >= -1, "placeholder", "'", name, "' shape ", mlsys::to_string(shape),
                " has a dim below -1 (-1 means: any size)");
  return new_node(NodeKind::Placeholder, nullptr, std::vector<NodePtr>{}, name,
                                std::move(shape), dtype, Tensor());
}

NodePtr variable(const std::string& name, Tensor value) {
  PA1_CHECK(value.defined(), "variable", "'", name, "' needs a defined value");
  PA1_CHECK(value.dtype() == DType::Float32, "variable", "'", name,
              "' expected a float32 value, got ", mlsys::to_string(value.dtype()));
  Shape shape = value.shape();
  return new_node(NodeKind::Variable, nullptr, std::vector<NodePtr>{}, name,
                                std::move(shape), DType::Float32, std::move(value));
}

NodePtr constant(Tensor value, const std::string& name) {
  PA1_CHECK(value.defined(), "constant", "needs a defined value");
  Shape shape = value.shape();
  DType dtype = value.dtype();
  auto node = new_node(NodeKind::Constant, nullptr, std::vector<NodePtr>{}, name,
                                     std::move(shape), dtype, std::move(value));
  return node;
}

NodePtr constant(float value, const std::string& name) {
  return constant(mlsys::scalar(value), name);
}

// ============================================================================================
// Compute nodes
// ============================================================================================

static std::string describe_inputs(const std::vector<NodePtr>& inputs) {
  std::ostringstream os;
  for (size_t i = 0; i < inputs.size(); ++i)
    os << (i ? ", " : "") << inputs[i]->describe();
  return os.str();
}

NodePtr make_node(std::shared_ptr<const Op> op, std::vector<NodePtr> inputs,
                  const std::string& name) {
  PA1_CHECK(op != nullptr, "make_node", "op is null");
  for (size_t i = 0; i < inputs.size(); ++i)
    PA1_CHECK(inputs[i] != nullptr, op->name(), "input ", i, " is a null node");
  auto node = new_node(NodeKind::Compute, std::move(op), std::move(inputs), name,
                                     Shape{}, DType::Float32, Tensor());
  try {
    node->shape = node->op->infer_shape(node->inputs);
    node->dtype = node->op->infer_dtype(node->inputs);
  } catch (const mlsys::Error& e) {
    // Say which node could not be built and from what; the op's message says why.
    PA1_FAIL(node->op->name(), "cannot build node '", node->name(), "' from inputs ",
             describe_inputs(node->inputs), ": ", e.what());
  }
  return node;
}

// ============================================================================================
// Static shapes
// ============================================================================================

bool shape_matches(const Shape& static_shape, const Shape& concrete) {
  if (static_shape.size() != concrete.size()) return false;
  for (size_t d = 0; d < concrete.size(); ++d)
    if (static_shape[d] != -1 && static_shape[d] != concrete[d]) return false;
  return true;
}

Shape broadcast_static(const Shape& a, const Shape& b, const std::string& op) {
  const size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (size_t i = 0; i < n; ++i) {
    // Align from the right; a missing dim acts as 1.
    int64_t x = i < n - a.size() ? 1 : a[i - (n - a.size())];
    int64_t y = i < n - b.size() ? 1 : b[i - (n - b.size())];
    if (x == y) out[i] = x;
    else if (x == 1) out[i] = y;
    else if (y == 1) out[i] = x;
    else if (x == -1 || y == -1) out[i] = x == -1 ? y : x;  // must match at run time
    else
      PA1_FAIL(op, "shapes ", mlsys::to_string(a), " and ", mlsys::to_string(b),
                 " do not broadcast (dim ", i, ": ", x, " vs ", y, ")");
  }
  return out;
}

}  // namespace pa1
