// autograder/src/sandbox.h — runs one untrusted process (a test case, a benchmark) with limits.
//
// Every run has the same shape:
//
//   grader ──clone──> supervisor (our code; root when the grader is root; in new pid, network and
//                     mount namespaces when the kernel allows)
//                        └──fork──> the command (setrlimit, drop to the test uid, execve)
//
// The supervisor enforces the timeout, then kills everything the command left behind: as
// init of its pid namespace it takes the whole namespace down; without namespaces it is a
// child subreaper and kills every process reparented to it. The grader reads the command's
// output through a pipe (capped), the supervisor's report (wait status, timeout) through a
// second pipe, and, when asked, sets up the result channel of the gtest listener:
//
//   fd 3  a pipe holding a fresh random secret (the listener reads it at start-up)
//   fd 4  a pipe to the grader (the listener writes its record, with the secret, at the end)
//   MLSYS_GRADER_CHANNEL=3:4
//
// See docs/GRADING.md ("Threat model") for what this prevents and what it only makes hard.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace grader {

// What this machine lets the sandbox do; probed once per grading.
struct SandboxPolicy {
  bool root = false;        // the grader runs as root: commands run as unprivileged test uids
  bool namespaces = false;  // clone() with new pid + network + mount namespaces works
  bool user_ns = false;     // ... through a new user namespace (the grader is not root)
  std::vector<std::string> limits_not_enforced;  // e.g. "network: no network namespace here"
  std::string describe() const;
};

SandboxPolicy probe_sandbox(bool allow_namespaces = true);

struct RunSpec {
  std::vector<std::string> argv;   // argv[0] is an absolute path
  std::string cwd;                 // must exist; writable by the run's uid
  std::vector<std::string> env;    // the complete environment, KEY=VALUE
  double timeout_s = 10;
  uint64_t memory_bytes = 4ull << 30;      // RLIMIT_AS (0: none)
  uint64_t data_bytes = 0;                 // RLIMIT_DATA (0: none); used instead of AS on GPUs
  uint64_t max_output = 1 << 20;           // stdout + stderr; more stops the run
  uint64_t max_file_size = 256ull << 20;   // RLIMIT_FSIZE
  int max_processes = 256;                 // RLIMIT_NPROC for the test uid (root mode)
  int uid = -1, gid = -1;                  // root mode: run as this uid/gid (no supplementary groups)
  bool channel = false;                    // set up fds 3 and 4 and MLSYS_GRADER_CHANNEL
  std::vector<std::string> hide_paths;     // with namespaces: mounted over with an empty tmpfs
  std::vector<std::string> private_dirs;   // with namespaces: a fresh tmpfs (e.g. /tmp)
};

struct RunResult {
  bool started = false;         // the supervisor reported back
  std::string error;            // why it could not run (fork failed, ...)
  bool exited = false;          // exited normally (see exit_code)
  int exit_code = -1;
  int signal = 0;               // killed by this signal
  bool timed_out = false;
  bool output_exceeded = false;
  bool channel_exceeded = false;
  bool interfered = false;      // the supervisor got a stop signal the grader did not send
  std::string output;           // stdout + stderr, at most max_output bytes
  std::string channel;          // what arrived on fd 4
  std::string secret;           // what the grader put on fd 3
  double seconds = 0;
  // "exited with code 1", "killed by SIGSEGV", "timed out after 10 s", ...
  std::string describe_end(double timeout_s) const;
};

RunResult run_sandboxed(const RunSpec& spec, const SandboxPolicy& policy);

// Kills every process of `uid` (root only; a no-op otherwise).
void kill_uid(int uid);
// Removes what `uids` left in the world-writable directories (/tmp, /var/tmp, /dev/shm).
void sweep_uid_files(const std::vector<int>& uids);

// Unprivileged uids for test runs, one per parallel slot, held with a lock file so that two
// graders on one machine never share one. Only used when the grader is root.
class UidPool {
 public:
  explicit UidPool(int count);
  ~UidPool();
  UidPool(const UidPool&) = delete;
  UidPool& operator=(const UidPool&) = delete;
  int uid(int slot) const { return uids_.at(static_cast<size_t>(slot)); }
  const std::vector<int>& uids() const { return uids_; }

 private:
  std::vector<int> uids_;
  std::vector<int> lock_fds_;
};

// The group that may execute hidden test binaries (root mode): hidden runs get it as their gid,
// visible runs do not, so student code in a visible test cannot run a hidden test binary.
int hidden_gid();

std::string signal_name(int sig);

}  // namespace grader
