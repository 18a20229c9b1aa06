// examples/args.h — the command-line reader of PA3's example programs (pa3_train,
// pa3_train_single) and the options all of them take. Every value is checked: a missing or
// malformed one is an mlsys::Error naming the program, the flag and what it got, never a
// silent 0 (as std::atoi would give).
#pragma once

#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "mlsys/error.h"
#include "pa3/gpt.h"

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

// Where the options every PA3 trainer takes go.
struct CommonOptions {
  pa3::GPTConfig& config;  // --seq --layers --heads --embd --tied
  int64_t& steps;          // --steps
  int64_t& batch;          // --batch
  float& lr;               // --lr
  uint64_t& seed;          // --seed
  int64_t& log_every;      // --log-every
  int64_t& sample_chars;   // --sample
  float& temperature;      // --temperature
};

// Reads the current flag (and its value) when it is one of the common options; false when it
// is not.
inline bool read_common(Args& args, const CommonOptions& o) {
  const std::string& f = args.flag();
  if (f == "--steps") o.steps = args.integer(1);
  else if (f == "--batch") o.batch = args.integer(1);
  else if (f == "--seq") o.config.block_size = args.integer(1);
  else if (f == "--layers") o.config.n_layer = args.integer(1);
  else if (f == "--heads") o.config.n_head = args.integer(1);
  else if (f == "--embd") o.config.n_embd = args.integer(1);
  else if (f == "--tied") o.config.tie_embeddings = true;
  else if (f == "--lr") o.lr = args.positive();
  else if (f == "--seed") o.seed = static_cast<uint64_t>(args.integer(0));
  else if (f == "--log-every") o.log_every = args.integer(1);
  else if (f == "--sample") o.sample_chars = args.integer(0);
  else if (f == "--temperature") o.temperature = args.positive();
  else return false;
  return true;
}

// Reads every argument of a trainer: the common options, then own(args) for the program's
// own flags (own returns false for a flag it does not know). Returns -1 when the program should
// go on, 0 after --help (usage printed), 2 after an unknown flag (named, then usage) or a
// malformed value (its error).
template <typename Own, typename Usage>
int read_options(const char* program, int argc, char** argv, const CommonOptions& common,
                 Own own, Usage usage, const char* mode = "") {
  try {
    Args args(program, argc, argv);
    while (args.next()) {
      if (read_common(args, common) || own(args)) continue;
      if (args.flag() == "--help" || args.flag() == "-h") {
        usage();
        return 0;
      }
      std::fprintf(stderr, "%s: unknown argument %s%s\n", program, args.flag().c_str(), mode);
      usage();
      return 2;
    }
  } catch (const mlsys::Error& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 2;
  }
  return -1;
}

}  // namespace pa3ex
