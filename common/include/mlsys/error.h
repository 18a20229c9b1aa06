// mlsys/error.h — the one exception type of the project and the checks that throw it.
//
// Every user-reachable misuse (a shape, dtype, device, index or file problem) throws
// mlsys::Error. Its message names the op, the argument, what was expected and what was given:
//
//   mlsys::matmul: argument 'b' expected shape [..., 3, N] (K must match a), got [4, 5]
//
// Stubs in student files throw mlsys::NotImplemented, which carries the task id so that tests
// and the grader can tell "not done yet" apart from "wrong".
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace mlsys {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

// Thrown by every generated stub. `task` is e.g. "PA1 Task 2.3".
class NotImplemented : public Error {
 public:
  NotImplemented(const std::string& task, const std::string& file, const std::string& handout)
      : Error("NotImplemented: " + task + " is not implemented yet (" + file + "; see " +
              handout + ")"),
        task_(task) {}
  const std::string& task() const { return task_; }

 private:
  std::string task_;
};

namespace detail {
// Concatenates any streamable values; used by the check macros.
template <typename... Args>
std::string cat(const Args&... args) {
  std::ostringstream os;
  (os << ... << args);
  return os.str();
}
}  // namespace detail

}  // namespace mlsys

// MLSYS_CHECK(cond, "op", "message parts", ...): throws mlsys::Error("mlsys::op: message").
#define MLSYS_CHECK(cond, op, ...)                                                     \
  do {                                                                                 \
    if (!(cond)) throw ::mlsys::Error(::mlsys::detail::cat("mlsys::", op, ": ", __VA_ARGS__)); \
  } while (0)

// MLSYS_FAIL("op", ...): throws unconditionally.
#define MLSYS_FAIL(op, ...) throw ::mlsys::Error(::mlsys::detail::cat("mlsys::", op, ": ", __VA_ARGS__))
