// Helpers shared by the PA1 tests (public and hidden): evaluating nodes, random inputs, and
// the gradient check of one op.
//
// check_op_gradient(build, inputs) is the Task 1 check. It builds y = build(placeholders),
// draws random weights W of y's shape, and asks the op for the gradient of
// L = sum(y * W) directly (y->op->gradient(y, W)), so that it exercises only that op's
// *_backward function, not gradients() (Task 2.2). Each float input's analytic gradient is
// compared with central finite differences of L computed in double from forward runs.
//
// on_small_stack(what, fn) runs fn on a thread with a 256 KiB stack: the deep-graph tests
// call topological_sort and gradients() that way, so that a recursive version fails on every
// machine, with a message that says so.
#pragma once

#include <gtest/gtest.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "mlsys/ops.h"
#include "mlsys/testing.h"
#include "pa1/pa1.h"

namespace pa1::test {

using mlsys::Tensor;

// Runs one node with the given feeds; the value, contiguous.
inline Tensor eval(const NodePtr& node, const FeedDict& feeds = {}) {
  return Executor({node}).run(feeds)[0];
}

// Uniform in [lo, hi).
inline Tensor uniform(Shape shape, uint64_t seed, float lo = -2.f, float hi = 2.f) {
  return mlsys::rand(std::move(shape), seed, lo, hi);
}

// Uniform with |x| in [0.2, 2): for ops with a kink or a pole at 0 (relu, 1/x).
inline Tensor away_from_zero(Shape shape, uint64_t seed) {
  Tensor u = mlsys::rand(shape, seed, -1.8f, 1.8f);
  return u + mlsys::sign(u) * 0.2f;
}

// sum(y * w) in double, the scalar whose gradient the checks compare.
inline double weighted_sum(const Tensor& y, const Tensor& w) {
  std::vector<double> a = y.to_vector<double>(), b = w.to_vector<double>();
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

struct GradCheckOptions {
  double eps = 1e-3, rtol = 1e-2, atol = 1e-3;
  uint64_t weight_seed = 12345;
  // Static shapes for the placeholders (default: each input's own shape). Use -1 dims to
  // check that a gradient works when shapes are only known at run time.
  std::vector<Shape> static_shapes;
};

// Checks the op built by `build` from placeholders fed with `inputs`. Integer inputs (labels,
// indices) are fed but not differentiated: their gradient must be nullptr.
inline ::testing::AssertionResult check_op_gradient(
    const std::function<NodePtr(const std::vector<NodePtr>&)>& build,
    const std::vector<Tensor>& inputs, GradCheckOptions opt = {}) {
  std::vector<NodePtr> ph;
  for (size_t i = 0; i < inputs.size(); ++i) {
    Shape s = i < opt.static_shapes.size() ? opt.static_shapes[i] : inputs[i].shape();
    ph.push_back(placeholder("in" + std::to_string(i), s, inputs[i].dtype()));
  }
  NodePtr y = build(ph);
  if (y->is_leaf() || y->inputs != ph)
    return ::testing::AssertionFailure()
           << "build() must apply one op to its placeholders, in order (composites are checked "
              "through gradients(), Task 2.2)";
  auto feeds_with = [&](const std::vector<Tensor>& values) {
    FeedDict f;
    for (size_t i = 0; i < ph.size(); ++i) f[ph[i]] = values[i];
    return f;
  };
  Tensor y0 = eval(y, feeds_with(inputs));
  Tensor w = uniform(y0.shape(), opt.weight_seed, -1.f, 1.f);
  NodePtr w_node = placeholder("dL_dy", y->shape);
  std::vector<NodePtr> grads = y->op->gradient(y, w_node);
  if (grads.size() != inputs.size())
    return ::testing::AssertionFailure() << "the gradient of '" << y->op->name() << "' returned "
                                         << grads.size() << " nodes for " << inputs.size()
                                         << " inputs";
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (inputs[i].dtype() != DType::Float32) {
      if (grads[i] != nullptr)
        return ::testing::AssertionFailure()
               << "input " << i << " of '" << y->op->name()
               << "' is an integer tensor (labels/indices): its gradient must be nullptr";
      continue;
    }
    if (grads[i] == nullptr)
      return ::testing::AssertionFailure() << "the gradient of '" << y->op->name()
                                           << "' for float input " << i << " is nullptr";
    FeedDict feeds = feeds_with(inputs);
    feeds[w_node] = w;
    Tensor analytic = eval(grads[i], feeds);
    std::vector<Tensor> perturbed = inputs;
    auto f = [&](const Tensor& xi) {
      perturbed[i] = xi;
      return weighted_sum(eval(y, feeds_with(perturbed)), w);
    };
    Tensor numeric = mlsys::test::numeric_gradient(f, inputs[i], opt.eps);
    auto r = mlsys::test::allclose(
        analytic, numeric, opt.rtol, opt.atol,
        "the analytic gradient (actual) disagrees with central finite differences (expected); "
        "check the derivative and that broadcast dims are summed back to the input's shape");
    if (!r)
      return ::testing::AssertionFailure() << "op '" << y->op->name() << "', input " << i
                                           << " " << inputs[i].describe() << ":\n" << r.message();
  }
  return ::testing::AssertionSuccess();
}

// Asserts that `fn` throws mlsys::Error whose message contains every string of `parts`.
// Records the error kind ("error": "mlsys::Error" or "none") for the grader: the same in every
// correct solution, but little information (messages are worded freely, so they are not
// recorded); tests that check an error should also record what they compute.
inline ::testing::AssertionResult throws_error_with(const std::function<void()>& fn,
                                                   const std::vector<std::string>& parts) {
  try {
    fn();
  } catch (const mlsys::NotImplemented&) {
    throw;  // let a stub's message reach the test report unchanged
  } catch (const mlsys::Error& e) {
    mlsys::test::record_exact("error", std::string("mlsys::Error"));
    const std::string msg = e.what();
    for (const std::string& p : parts)
      if (msg.find(p) == std::string::npos)
        return ::testing::AssertionFailure() << "the message does not mention '" << p
                                             << "':\n  " << msg;
    return ::testing::AssertionSuccess();
  }
  mlsys::test::record_exact("error", std::string("none"));
  return ::testing::AssertionFailure() << "no mlsys::Error was thrown";
}

// ---- running code on a small stack -------------------------------------------------------
//
// A walk over a graph that recurses uses one stack frame per node of its longest path: at
// least a few dozen bytes each, so a 100,000-node chain needs megabytes. A main thread's
// stack is often 8 MB, which a lean recursion on such a chain can fit in while a slightly
// heavier one overflows, so "must not recurse" would depend on the machine. The deep tests
// therefore run the code under test on a thread whose stack is 256 KiB, which any iterative
// version fits in many times over (its stacks and maps are on the heap) and any recursive
// one overflows, everywhere. An overflow is a SIGSEGV, which cannot be turned back into a
// test failure in the same process; instead, a handler (on its own small stack) prints why
// before the process dies, and the grader counts the crash as that test's failure.

inline constexpr size_t kSmallStackBytes = 256 * 1024;

namespace detail {

#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kAsan = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr bool kAsan = true;
#else
inline constexpr bool kAsan = false;
#endif
#else
inline constexpr bool kAsan = false;
#endif

struct SmallStackRun {
  std::function<void()> body;
  std::exception_ptr error;
};

// Where the running small stack lies, and what to print if it overflows. One run at a time.
inline std::mutex small_stack_mutex;
inline volatile uintptr_t small_stack_lo = 0;
inline char small_stack_message[1024];
inline size_t small_stack_message_len = 0;
inline struct sigaction small_stack_old_action;

inline void small_stack_on_segv(int, siginfo_t* info, void*) {
  const uintptr_t addr = reinterpret_cast<uintptr_t>(info->si_addr);
  // A fault on the guard pages just below the stack (or a frame that jumped past them).
  if (small_stack_lo != 0 && addr < small_stack_lo + 4096 && addr + (1u << 20) >= small_stack_lo) {
    ssize_t ignored = write(STDERR_FILENO, small_stack_message, small_stack_message_len);
    (void)ignored;
  }
  // Back to the previous action; returning re-runs the faulting access, which then ends the
  // process with SIGSEGV as before.
  sigaction(SIGSEGV, &small_stack_old_action, nullptr);
}

inline void* small_stack_main(void* arg) {
  auto* run = static_cast<SmallStackRun*>(arg);
  // The handler needs a stack of its own: this thread's is exhausted when it runs.
  std::vector<char> alt(64 * 1024);
  stack_t ss{};
  ss.ss_sp = alt.data();
  ss.ss_size = alt.size();
  sigaltstack(&ss, nullptr);
  pthread_attr_t attr;
  void* lo = nullptr;
  size_t size = 0;
  if (pthread_getattr_np(pthread_self(), &attr) == 0) {
    pthread_attr_getstack(&attr, &lo, &size);
    pthread_attr_destroy(&attr);
  }
  small_stack_lo = reinterpret_cast<uintptr_t>(lo);
  try {
    run->body();
  } catch (...) {
    run->error = std::current_exception();
  }
  small_stack_lo = 0;
  ss.ss_flags = SS_DISABLE;
  sigaltstack(&ss, nullptr);
  return nullptr;
}

}  // namespace detail

// Runs fn() on a new thread with a stack of kSmallStackBytes, waits for it and returns what
// fn returns (rethrowing what it throws). `what` names the code under test in the message
// printed if the stack overflows ("topological_sort").
template <typename F>
auto on_small_stack(const char* what, F fn) -> decltype(fn()) {
  using R = decltype(fn());
  std::lock_guard<std::mutex> lock(detail::small_stack_mutex);
  const int len = std::snprintf(detail::small_stack_message, sizeof detail::small_stack_message,
                "\n*** PA1: stack overflow (SIGSEGV) in %s, which this test runs on a thread with "
                "a %zu KiB stack.\n*** %s recursed: one call per node does not fit, and a deep "
                "graph would overflow any stack.\n*** Walk the graph with an explicit stack "
                "(a std::vector of frames) instead: see handouts/pa1.md#task-21.\n",
                what, kSmallStackBytes / 1024, what);
  detail::small_stack_message_len =
      std::min(static_cast<size_t>(len < 0 ? 0 : len), sizeof detail::small_stack_message - 1);
  detail::SmallStackRun run;
  std::conditional_t<std::is_void_v<R>, int, R> result{};
  run.body = [&] {
    if constexpr (std::is_void_v<R>) fn();
    else result = fn();
  };
  if (!detail::kAsan) {  // AddressSanitizer reports a stack overflow itself
    struct sigaction action {};
    action.sa_sigaction = detail::small_stack_on_segv;
    action.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&action.sa_mask);
    sigaction(SIGSEGV, &action, &detail::small_stack_old_action);
  }
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, kSmallStackBytes);
  pthread_t thread;
  const int rc = pthread_create(&thread, &attr, detail::small_stack_main, &run);
  pthread_attr_destroy(&attr);
  if (rc == 0) pthread_join(thread, nullptr);
  if (!detail::kAsan) sigaction(SIGSEGV, &detail::small_stack_old_action, nullptr);
  if (rc != 0) throw std::runtime_error("on_small_stack: pthread_create failed: " + std::string(std::strerror(rc)));
  if (run.error) std::rethrow_exception(run.error);
  if constexpr (!std::is_void_v<R>) return result;
}

}  // namespace pa1::test
