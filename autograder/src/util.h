// autograder/src/util.h — small helpers shared by the grader: files, strings, time, logging,
// and running trusted commands (cmake, the compiler) with a timeout.
//
// Nothing here runs student code: that goes through sandbox.h.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace grader {

namespace fs = std::filesystem;

// An error the grader reports as an internal error (score 0 and the message, never a crash).
class GradeError : public std::runtime_error {
 public:
  explicit GradeError(const std::string& what) : std::runtime_error(what) {}
};

// ----------------------------------------------------------------------------------------------
// Strings
// ----------------------------------------------------------------------------------------------

std::string trim(const std::string& s);
std::vector<std::string> split(const std::string& s, char sep);
std::string join(const std::vector<std::string>& parts, const std::string& sep);
bool starts_with(const std::string& s, const std::string& prefix);
bool ends_with(const std::string& s, const std::string& suffix);
std::string replace_all(std::string s, const std::string& from, const std::string& to);
// A tier threshold or ratio with three significant digits ("0.003", "0.77").
std::string format_ratio(double r);
// Points as people write them: 4, 2.5, 0.33.
std::string format_points(double p);
std::string format_seconds(double s);
// Keeps the first `head` and the last `tail` bytes, with a note in between when cut.
std::string clip(const std::string& s, size_t head, size_t tail = 0);
// Replaces bytes that are not printable UTF-8-ish text (NUL, control chars but \n \t) with '?'.
std::string printable(const std::string& s);
std::string shell_quote(const std::string& s);

// ----------------------------------------------------------------------------------------------
// Files
// ----------------------------------------------------------------------------------------------

std::string read_file(const fs::path& p);
// Reads at most `limit` bytes; sets *truncated when the file is longer.
std::string read_file_prefix(const fs::path& p, size_t limit, bool* truncated = nullptr);
// Writes through a temporary file and a rename, so readers never see half a file.
void write_file_atomic(const fs::path& p, const std::string& content);
// 64-bit FNV-1a: cheap fingerprints of trusted content (never used to compare student files).
uint64_t fnv1a(const std::string& data, uint64_t h = 1469598103934665603ull);
std::string hex64(uint64_t v);
// Random bytes from /dev/urandom as hex (secrets, file names).
std::string random_hex(size_t bytes);
// Sets mode bits on every entry under `root` (dirs get dir_mode, files file_mode).
void chmod_tree(const fs::path& root, fs::perms dir_mode, fs::perms file_mode);
void chown_tree(const fs::path& root, int uid, int gid);
// remove_all that first makes everything writable (a test may leave read-only dirs).
void remove_tree(const fs::path& p);

// ----------------------------------------------------------------------------------------------
// Time and logging
// ----------------------------------------------------------------------------------------------

double now_seconds();  // monotonic
void set_verbose(bool v);
bool verbose();
void log(const std::string& msg);    // "[grade] msg" on stderr
void debug(const std::string& msg);  // only when verbose

// ----------------------------------------------------------------------------------------------
// Trusted commands
// ----------------------------------------------------------------------------------------------

struct CommandResult {
  int exit_code = -1;      // -1: did not exit normally (signal, timeout, could not start)
  bool timed_out = false;
  std::string output;      // stdout and stderr interleaved, clipped to max_output
  double seconds = 0;
};

// Runs argv (PATH lookup) in cwd with the current environment plus `env`. Output beyond
// max_output is dropped (the head and the tail are kept).
CommandResult run_command(const std::vector<std::string>& argv, const fs::path& cwd = {},
                          const std::map<std::string, std::string>& env = {},
                          double timeout_s = 3600, size_t max_output = 4 << 20);

// The absolute path of a program on PATH ("" when missing).
std::string which(const std::string& name);
bool have_program(const std::string& name);
// The absolute path of a program found on PATH, or "".
std::string which(const std::string& name);

}  // namespace grader
