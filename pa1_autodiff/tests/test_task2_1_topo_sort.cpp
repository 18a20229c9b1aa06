// PA1 Task 2.1 — topological_sort (src/topo_sort.cpp): the exact DFS post-order, each node once,
// no recursion, cycles detected. Graphs are built with ops (nothing is computed or
// differentiated), so only topological_sort runs.
#include "mlsys/random.h"
#include "pa1_test_util.h"

using namespace pa1;
using pa1::test::throws_error_with;

namespace {

// Node names, for readable comparisons. Every order passed here is compared with the one exact
// order the contract defines, so it is also recorded for the grader ("order").
std::vector<std::string> names(const std::vector<NodePtr>& nodes) {
  std::vector<std::string> out;
  std::string joined;
  for (const NodePtr& n : nodes) {
    out.push_back(n->name());
    joined += (joined.empty() ? "" : ",") + n->name();
  }
  mlsys::test::record_exact("order", joined);
  return out;
}

NodePtr named(NodePtr n, const std::string& name) {
  n->set_name(name);
  return n;
}

}  // namespace

TEST(Task2_1_TopoSort, SingleLeaf) {
  NodePtr x = placeholder("x", {2});
  EXPECT_EQ(names(topological_sort({x})), (std::vector<std::string>{"x"}));
  EXPECT_TRUE(topological_sort({}).empty());
}

TEST(Task2_1_TopoSort, Chain) {
  NodePtr x = placeholder("x", {2});
  NodePtr a = named(pa1::exp(x), "a");
  NodePtr b = named(pa1::log(a), "b");
  NodePtr c = named(neg(b), "c");
  EXPECT_EQ(names(topological_sort({c})), (std::vector<std::string>{"x", "a", "b", "c"}));
}

TEST(Task2_1_TopoSort, InputsVisitedInOrder) {
  //   d = c(a(x), b(y))  -> x a y b d : the first input's subtree comes first
  NodePtr x = placeholder("x", {2}), y = placeholder("y", {2});
  NodePtr a = named(pa1::exp(x), "a");
  NodePtr b = named(pa1::exp(y), "b");
  NodePtr d = named(a * b, "d");
  EXPECT_EQ(names(topological_sort({d})), (std::vector<std::string>{"x", "a", "y", "b", "d"}));
  NodePtr e = named(b * a, "e");
  EXPECT_EQ(names(topological_sort({e})), (std::vector<std::string>{"y", "b", "x", "a", "e"}));
}

TEST(Task2_1_TopoSort, DiamondVisitsSharedNodeOnce) {
  NodePtr x = placeholder("x", {2});
  NodePtr s = named(pa1::tanh(x), "s");
  NodePtr l = named(pa1::exp(s), "l");
  NodePtr r = named(sigmoid(s), "r");
  NodePtr out = named(l + r, "out");
  EXPECT_EQ(names(topological_sort({out})), (std::vector<std::string>{"x", "s", "l", "r", "out"}));
}

TEST(Task2_1_TopoSort, RepeatedInput) {
  NodePtr x = placeholder("x", {2});
  NodePtr sq = named(x * x, "sq");
  EXPECT_EQ(names(topological_sort({sq})), (std::vector<std::string>{"x", "sq"}));
}

TEST(Task2_1_TopoSort, SeveralOutputs) {
  // Outputs in order; nodes already placed by an earlier output are not repeated, and an
  // output that is an input of an earlier one appears where the earlier DFS put it.
  NodePtr x = placeholder("x", {2}), w = variable("w", mlsys::ones({2}));
  NodePtr h = named(x * w, "h");
  NodePtr o1 = named(relu(h), "o1");
  NodePtr o2 = named(h + x, "o2");
  EXPECT_EQ(names(topological_sort({o1, o2})), (std::vector<std::string>{"x", "w", "h", "o1", "o2"}));
  EXPECT_EQ(names(topological_sort({o2, o1})), (std::vector<std::string>{"x", "w", "h", "o2", "o1"}));
  EXPECT_EQ(names(topological_sort({o1, h, x})), (std::vector<std::string>{"x", "w", "h", "o1"}));
  EXPECT_EQ(names(topological_sort({w, o1})), (std::vector<std::string>{"w", "x", "h", "o1"}));
}

TEST(Task2_1_TopoSort, EveryNodeAfterItsInputs) {
  // A random DAG of 300 nodes: check the contract without fixing the expected order by hand.
  std::vector<NodePtr> nodes{placeholder("p0", {1}), placeholder("p1", {1})};
  for (uint64_t i = 0; i < 300; ++i) {
    const uint64_t r = mlsys::philox_word(99, i);
    NodePtr a = nodes[r % nodes.size()], b = nodes[(r >> 16) % nodes.size()];
    nodes.push_back(a + b);
  }
  std::vector<NodePtr> order = topological_sort({nodes.back(), nodes[150]});
  std::unordered_map<const Node*, size_t> pos;
  for (size_t i = 0; i < order.size(); ++i) {
    EXPECT_TRUE(pos.emplace(order[i].get(), i).second) << order[i]->name() << " appears twice";
  }
  for (size_t i = 0; i < order.size(); ++i)
    for (const NodePtr& in : order[i]->inputs) {
      ASSERT_TRUE(pos.count(in.get())) << "input " << in->name() << " of " << order[i]->name() << " is missing";
      EXPECT_LT(pos[in.get()], i) << in->name() << " must come before " << order[i]->name();
    }
  // What this test checks, as order-independent facts: how many nodes, and how many of them
  // come after all their inputs (all of them).
  int64_t after_inputs = 0;
  for (size_t i = 0; i < order.size(); ++i) {
    bool ok = true;
    for (const NodePtr& in : order[i]->inputs) ok = ok && pos.count(in.get()) && pos[in.get()] < i;
    after_inputs += ok;
  }
  mlsys::test::record_exact("nodes", static_cast<int64_t>(order.size()));
  mlsys::test::record_exact("nodes_after_their_inputs", after_inputs);
}

TEST(Task2_1_TopoSort, DeepChainWithoutRecursion) {
  // A 100,000-node chain, sorted on a thread with a 256 KiB stack (pa1_test_util.h): an
  // iterative sort fits many times over, a recursive one overflows that stack on every
  // machine. A crash here (SIGSEGV, "stack overflow ... topological_sort") means your sort
  // recursed.
  NodePtr x = placeholder("x", {1});
  NodePtr y = x;
  for (int i = 0; i < 100000; ++i) y = y + 1.f;
  std::vector<NodePtr> order =
      pa1::test::on_small_stack("topological_sort", [&] { return topological_sort({y}); });
  mlsys::test::record_exact("nodes", static_cast<int64_t>(order.size()));
  ASSERT_EQ(order.size(), 100001u);
  EXPECT_EQ(order.front(), x);
  EXPECT_EQ(order.back(), y);
  mlsys::test::record_exact("x_first_y_last", std::vector<int64_t>{order.front() == x, order.back() == y});
}

TEST(Task2_1_TopoSort, CycleIsAnError) {
  NodePtr x = placeholder("x", {2});
  NodePtr a = named(pa1::exp(x), "a");
  NodePtr b = named(pa1::tanh(a), "b");
  NodePtr c = named(b * x, "c");
  a->inputs[0] = c;  // a = exp(c), c = tanh(a) * x
  EXPECT_TRUE(throws_error_with([&] { topological_sort({c}); }, {"cycle"}));
  // The message names a node of the cycle.
  try {
    topological_sort({c});
  } catch (const mlsys::Error& e) {
    const std::string msg = e.what();
    EXPECT_TRUE(msg.find("'a'") != std::string::npos || msg.find("'b'") != std::string::npos ||
                msg.find("'c'") != std::string::npos) << msg;
  }
  NodePtr self = named(x + x, "self");
  self->inputs[1] = self;
  EXPECT_TRUE(throws_error_with([&] { topological_sort({self}); }, {"cycle", "'self'"}));
  a->inputs[0] = x;  // break the cycles so the nodes can be freed
  self->inputs[1] = x;
}
