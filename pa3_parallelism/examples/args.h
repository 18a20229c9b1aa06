// examples/args.h — the command-line reader of PA3's example programs (pa3_train,
// pa3_train_single). Every value is checked: a missing or malformed one is an mlsys::Error
// naming the program, the flag and what it got, never a silent 0 (as std::atoi would give).
#pragma once

#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "mlsys/error.h"

namespace pa3ex {

class Args {
 public:
  Args(const char* program, int argc, char** argv)
      : program_(program), argc_(argc), argv_(argv) {}

  // Moves to the next argument; false when none is left.
  bool next() {
    if (i_ + 1 >= argc_) return false;
    flag_ = argv_[++i_];
    return true;
  }
  const std::string& flag() const { return flag_; }

  // The current flag's value, the next argument.
  std::string text() {
    if (i_ + 1 >= argc_) fail("needs a value");
    return argv_[++i_];
  }

  // The value as a whole decimal integer >= min.
  int64_t integer(int64_t min = 0) {
    const std::string s = text();
    errno = 0;
    char* end = nullptr;
    const long long v = std::strtoll(s.c_str(), &end, 10);
    if (s.empty() || *end != '\0' || errno == ERANGE) fail("expects an integer, got '" + s + "'");
    if (v < min) fail("must be >= " + std::to_string(min) + ", got " + s);
    return v;
  }

  // The value as a finite number > 0 (learning rates, temperatures).
  float positive() {
    const std::string s = text();
    char* end = nullptr;
    const float v = std::strtof(s.c_str(), &end);
    if (s.empty() || *end != '\0' || !std::isfinite(v) || v <= 0)
      fail("expects a number > 0, got '" + s + "'");
    return v;
  }

  [[noreturn]] void fail(const std::string& what) const {
    throw mlsys::Error(std::string(program_) + ": " + flag_ + " " + what);
  }

 private:
  const char* program_;
  int argc_;
  char** argv_;
  int i_ = 0;
  std::string flag_;
};

}  // namespace pa3ex
