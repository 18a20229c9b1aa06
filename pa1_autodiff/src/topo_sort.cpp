// pa1_autodiff/src/topo_sort.cpp — PA1 Task 2.1: topological order of a graph.
// Edit only the marked region; the rest is given.
#include <unordered_map>

#include "check.h"
#include "node_map.h"
#include "pa1/autodiff.h"

namespace pa1 {

// Every node reachable from `outputs` (following inputs), each exactly once, each after all of
// its inputs: the post-order of a depth-first search. The order is fixed exactly, and tests
// check it node by node: it is what this recursive version would produce,
//
//   visit(n): if n is done, return; for each input i of n, in order: visit(i); append n
//   for each output o, in order: visit(o)
//
// but you must write it without recursion: that takes one stack frame per node, and the deep
// tests run your sort on a thread with a 256 KiB stack, which a 100,000-node chain overflows
// (the test then crashes with SIGSEGV after "*** PA1: stack overflow ..."). Keep your own
// stack of (node, index of the next input to visit) frames.
//
// Cycles cannot be built with the ops, but can be by editing node->inputs by hand. Detect
// them: a node met again while it is still on the stack closes a cycle. Then throw
// mlsys::Error (the PA1_FAIL macro of check.h does) with a message naming that node
// (node->describe()).
//
// Given: outputs holds no null node (checked before your code runs). Nodes have no parent
// pointers; identify them by address (node.get()) in a hash map: std::unordered_map works and
// is fast enough for full marks. NodeMap (node_map.h) is a faster map from node to value with
// the same idea: find(node) gives a pointer to the value or nullptr, emplace(node, value) a
// pair (pointer to the value, whether it was added).
std::vector<NodePtr> topological_sort(const std::vector<NodePtr>& outputs) {
  for (size_t i = 0; i < outputs.size(); ++i)
    PA1_CHECK(outputs[i] != nullptr, "topological_sort", "output ", i, " is a null node");
  // TODO(student): PA1 Task 2.1 — see handouts/pa1.md#task-21
  throw mlsys::NotImplemented("PA1 Task 2.1", "pa1_autodiff/src/topo_sort.cpp", "handouts/pa1.md#task-21");
}

}  // namespace pa1
