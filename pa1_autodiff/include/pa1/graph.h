// pa1/graph.h — the computational graph: nodes, ops and the three kinds of leaves.
//
// PA1 builds a graph first and runs it later ("define-then-run", like TensorFlow 1 or needle):
//
//   NodePtr x = placeholder("x", {-1, 64});               // fed at run time; -1: any batch
//   NodePtr W = variable("W", xavier_uniform({64, 10}, 0)); // a parameter, holds a Tensor
//   NodePtr y = relu(matmul(x, W));                         // compute nodes (ops.h)
//   Executor ex({y});  auto out = ex.run({{x, batch}});     // executor.h
//
// A Node is held by shared_ptr (NodePtr). A compute node owns its inputs, so keeping the output
// of a graph alive keeps the whole graph alive. Nodes are never changed after construction
// except a Variable's value (optimizers update it in place) and its name (set_name).
//
// Each compute node carries a static shape, worked out when the node is built: a dim is -1
// when it is only known at run time (the batch dim of a placeholder, and everything computed
// from it). The rank is always known. An op applied to shapes that cannot work throws
// mlsys::Error at construction, naming the op, the new node and its inputs.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "mlsys/error.h"
#include "mlsys/tensor.h"

namespace pa1 {

using mlsys::DType;
using mlsys::Shape;
using mlsys::Tensor;

class Op;
struct Node;
using NodePtr = std::shared_ptr<Node>;

enum class NodeKind {
  Placeholder,  // a value fed at run time (Executor::run's feeds)
  Variable,     // a parameter: holds `value`, which optimizers update in place
  Constant,     // holds a fixed `value`
  Compute,      // op(inputs)
};
const char* to_string(NodeKind kind);

// What an op may look at while computing, beyond its inputs. The Executor fills it in.
struct RunContext {
  int64_t step = 0;       // which run of the executor this is (dropout masks depend on it)
  bool training = true;   // false: dropout is the identity
};

struct Node {
  NodeKind kind;
  DType dtype;
  const int64_t id;              // unique, increasing in creation order
  std::shared_ptr<const Op> op;  // compute nodes only; null for leaves
  std::vector<NodePtr> inputs;   // compute nodes only
  Shape shape;                   // static shape; -1 where only known at run time
  Tensor value;                  // Variable and Constant: the value. Empty otherwise.

  Node(NodeKind kind, std::shared_ptr<const Op> op, std::vector<NodePtr> inputs, std::string name,
       Shape shape, DType dtype, Tensor value);
  // Releases the inputs without recursion, so that dropping a 100,000-node chain does not
  // overflow the stack.
  ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  bool is_leaf() const { return kind != NodeKind::Compute; }
  // The node's name: the one it was given (placeholder("x", ...), set_name) or, by default, a
  // unique "<op>_<id>" ("matmul_12", "constant_7"). The default is made when asked for, not
  // stored: building a 100,000-node graph then makes no strings.
  std::string name() const;
  void set_name(std::string name) { name_ = std::move(name); }
  // "'h1' (relu, float32[-1, 128])": how error messages name a node.
  std::string describe() const;

 private:
  std::string name_;  // empty: the default name
};

// An operation: how to compute a node's value from its inputs' values, and how to build the
// gradient of a node in the graph. Every op of ops.h is an Op; tests and users may add their
// own (subclass Op and create nodes with make_node).
class Op {
 public:
  virtual ~Op() = default;
  // Short lower-case name, used for default node names and error messages ("matmul").
  virtual std::string name() const = 0;

  // The static shape and dtype of a node of this op. Dims of -1 mean "known at run time";
  // throw mlsys::Error when the inputs cannot work together. Defaults: input 0's shape (a
  // scalar when there are no inputs), float32.
  virtual Shape infer_shape(const std::vector<NodePtr>& inputs) const;
  virtual DType infer_dtype(const std::vector<NodePtr>& inputs) const;

  // Forward: the node's value from its inputs' values, with mlsys ops. May return a view of an
  // input (reshape, permute, broadcast); must not write into its inputs.
  virtual Tensor compute(const std::vector<Tensor>& inputs, const RunContext& ctx) const = 0;

  // Backward, as graph construction: given `node` (a node of this op) and `grad` (a node
  // holding dL/d(node), same shape as node), return one node per input of `node` holding
  // dL/d(input), with that input's shape; nullptr for an input no gradient flows to (integer
  // labels, a shape-only argument). Gradients are built from ops, so they can be
  // differentiated again. Throws for ops that are not differentiable.
  virtual std::vector<NodePtr> gradient(const NodePtr& node, const NodePtr& grad) const = 0;
};

// ---- leaves ---------------------------------------------------------------------------------
// A value fed at run time. `shape` may hold -1 for dims that change from run to run (batch);
// Executor::run checks every feed's rank, known dims and dtype against it.
NodePtr placeholder(const std::string& name, Shape shape, DType dtype = DType::Float32);
// A parameter holding `value` (float32). Optimizers update value in place.
NodePtr variable(const std::string& name, Tensor value);
// A fixed value. The name defaults to "constant_<id>".
NodePtr constant(Tensor value, const std::string& name = "");
NodePtr constant(float value, const std::string& name = "");  // a 0-dim float32 constant

// A compute node of `op` over `inputs`: checks the inputs (non-null), infers shape and dtype
// (errors name the op, the node and its inputs), names the node "<op>_<id>" unless `name`
// is given.
NodePtr make_node(std::shared_ptr<const Op> op, std::vector<NodePtr> inputs,
                  const std::string& name = "");

// True when a static shape and a concrete shape agree: same rank, equal wherever the static
// dim is not -1.
bool shape_matches(const Shape& static_shape, const Shape& concrete);
// The static result of broadcasting two static shapes (-1 dims allowed); throws naming `op`.
Shape broadcast_static(const Shape& a, const Shape& b, const std::string& op);

}  // namespace pa1
