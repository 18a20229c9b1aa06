// autograder/src/grader_listener.cpp — the grader's result channel inside every test executable.
//
// Linked into the tests through mlsys_testing when the build is configured with
// MLSYS_GRADER_LISTENER=ON (the grader does that; see autograder/CMakeLists.txt). Inert unless
// the grader started the process: then MLSYS_GRADER_CHANNEL=<secret fd>:<result fd> is set.
//
//   at start-up (a priority-101 constructor, before ordinary static initializers): read the
//   per-run secret from the secret fd and close it; remove the variable from the environment;
//   mark the result fd close-on-exec so processes the test starts do not inherit it.
//
//   after each test: note its full name, passed/failed/skipped, its failure messages and the
//   outputs it recorded (mlsys::test::record*, mlsys/recording.h): the grader compares those with
//   a run of the same case on the reference solution, and trusts nothing else in this record.
//
//   at the end of the program: write one JSON line {"secret": ..., "tests": [...]} to the
//   result fd.
//
// The grader accepts a test as passed only if exactly one such line arrives with the right
// secret, names exactly the one test it asked for as passed, the process exits with 0, and the
// recorded outputs match the reference run's.
// An exit(0) in the middle of a test never reaches the end of the program, so it reports
// nothing; printing "[  PASSED  ]" or writing files proves nothing either. docs/GRADING.md
// explains what code inside the test process could still do.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "mlsys/recording.h"

// Referenced by the linker flag --undefined=mlsys_grader_listener_anchor, so that this object
// is taken out of the static library even though nothing calls into it.
extern "C" {
int mlsys_grader_listener_anchor = 0;
}

namespace {

char g_secret[80];       // the secret, NUL-terminated ("" when it was missing)
bool g_active = false;   // started by the grader
int g_result_fd = -1;

__attribute__((constructor(101))) void mlsys_grader_read_secret() {
  const char* spec = std::getenv("MLSYS_GRADER_CHANNEL");
  if (!spec) return;
  int secret_fd = -1, result_fd = -1;
  if (std::sscanf(spec, "%d:%d", &secret_fd, &result_fd) != 2) return;
  g_active = true;
  g_result_fd = result_fd;
  ::fcntl(result_fd, F_SETFD, FD_CLOEXEC);
  ::fcntl(secret_fd, F_SETFL, O_NONBLOCK);  // the grader wrote it before we started
  size_t got = 0;
  while (got < sizeof g_secret - 1) {
    ssize_t n = ::read(secret_fd, g_secret + got, sizeof g_secret - 1 - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  while (got > 0 && (g_secret[got - 1] == '\n' || g_secret[got - 1] == '\r')) --got;
  g_secret[got] = '\0';
  ::close(secret_fd);
  ::unsetenv("MLSYS_GRADER_CHANNEL");
  // Which elements of large recorded tensors to send: chosen by the grader, the same for the
  // submission's run and the reference run of a case.
  const char* seed = std::getenv("MLSYS_GRADER_RECORD_SEED");
  mlsys::test::recording::enable(seed ? std::strtoull(seed, nullptr, 10) : 0);
  ::unsetenv("MLSYS_GRADER_RECORD_SEED");
}

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);  // UTF-8 passes through; the grader repairs bad bytes
        }
    }
  }
  return out + "\"";
}

class GraderListener : public ::testing::EmptyTestEventListener {
 public:
  void OnTestStart(const ::testing::TestInfo&) override { mlsys::test::recording::begin_case(); }

  void OnTestEnd(const ::testing::TestInfo& info) override {
    const ::testing::TestResult* r = info.result();
    const char* status = r->Skipped() ? "skipped" : r->Passed() ? "passed" : "failed";
    std::string messages;
    for (int i = 0; i < r->total_part_count(); ++i) {
      const ::testing::TestPartResult& part = r->GetTestPartResult(i);
      if (part.passed()) continue;
      if (!messages.empty()) messages += "\n";
      if (part.file_name()) messages += std::string(part.file_name()) + ":" + std::to_string(part.line_number()) + ": ";
      messages += part.message();
      if (messages.size() > 16384) {
        messages.resize(16384);
        messages += "\n[... cut ...]";
        break;
      }
    }
    if (!tests_.empty()) tests_ += ",";
    tests_ += "{\"name\":" + json_string(std::string(info.test_suite_name()) + "." + info.name()) +
              ",\"status\":\"" + status + "\",\"message\":" + json_string(messages) +
              ",\"records\":" + mlsys::test::recording::take_json() + "}";
  }

  void OnTestProgramEnd(const ::testing::UnitTest& unit) override {
    std::string line = "{\"mlsys_grader\":1,\"secret\":" + json_string(g_secret) +
                       ",\"passed\":" + (unit.Passed() ? "true" : "false") + ",\"tests\":[" + tests_ +
                       "]}\n";
    const char* p = line.data();
    size_t left = line.size();
    while (left > 0) {
      ssize_t n = ::write(g_result_fd, p, left);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      p += n;
      left -= static_cast<size_t>(n);
    }
  }

 private:
  std::string tests_;
};

// An ordinary static initializer: runs after the secret was read, before main().
const bool g_registered = [] {
  if (!g_active) return false;
  ::testing::UnitTest::GetInstance()->listeners().Append(new GraderListener);
  return true;
}();

}  // namespace
