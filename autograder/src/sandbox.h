// autograder/src/sandbox.h — runs one untrusted process (a test case, a benchmark) with limits.
//
// Every run has the same shape:
//
//   grader ──clone──> supervisor (our code; root when the grader is root; in new pid, network,
//                     IPC and mount namespaces when the kernel allows)
//                        └──fork──> the command (setrlimit, drop to the test uid, execve)
//
// With namespaces the supervisor first builds the run's view of the machine: loopback up (and
// nothing else: no network), fresh tmpfs over the shared scratch folders (/tmp, /var/tmp,
// /dev/shm, /run/lock), the hidden paths masked, a private System V IPC space, a /proc of its
// own. Any of these that fails stops the run before the command starts (fail closed).
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
#include <filesystem>
#include <string>
#include <vector>

namespace grader {

namespace fs = std::filesystem;

// What this machine lets the sandbox do; probed once per grading.
struct SandboxPolicy {
  bool root = false;        // the grader runs as root: commands run as unprivileged test uids
  bool namespaces = false;  // clone() with new pid + network + IPC + mount namespaces works
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
  // With namespaces: folders mounted over with an empty read-only tmpfs, files with /dev/null.
  // A path that does not exist is skipped; one that cannot be masked stops the run.
  std::vector<std::string> hide_paths;
  std::vector<std::string> readonly_paths; // with namespaces: bind-mounted read-only
  std::vector<std::string> private_dirs;   // with namespaces: a fresh tmpfs (e.g. /tmp)
  // Every folder of shared_scratch_dirs() becomes a fresh tmpfs too (with namespaces), except
  // one that holds cwd or the executable. Without namespaces, what the test uid left in them
  // (files, System V IPC objects) is removed after the run.
  bool private_scratch = true;
  // The grader hard-links argv[0] into cwd and runs that link, so the command never needs a
  // path into the grader's build cache (which test users cannot enter: see link_executable).
  bool private_executable = false;
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
  double command_seconds = 0;   // the command alone, measured by the supervisor (benchmarks)
  int64_t max_rss_kb = 0;       // the command's peak resident memory
  double cpu_seconds = 0;       // the command's user + system CPU time (all its threads)
  // "exited with code 1", "killed by SIGSEGV", "timed out after 10 s", ...
  std::string describe_end(double timeout_s) const;
};

RunResult run_sandboxed(const RunSpec& spec, const SandboxPolicy& policy);

// Kills every process of `uid` (root only; a no-op otherwise).
void kill_uid(int uid);
// The world-writable places where one run could leave something for a later one.
const std::vector<std::string>& shared_scratch_dirs();  // /tmp, /var/tmp, /dev/shm, /run/lock
// Removes what `uids` left in the shared scratch folders and their System V shared memory,
// semaphores and message queues (root only). Entries that hold `keep` are left alone.
void sweep_uid_files(const std::vector<int>& uids, const std::string& keep = "");

// ----------------------------------------------------------------------------------------------
// What test users may reach
// ----------------------------------------------------------------------------------------------

// Everything under `root` except the way down to each of `keep`: `root` itself when no `keep`
// lies inside it, else each sibling (folder or file) of every folder on the way down. Symbolic
// links are skipped (masking one would mask its target). Used for the original course tree
// (the staff repo, Gradescope's course copy): its solutions/, hidden tests, rubrics and other
// build folders must not be reachable from a test, while the work folder inside it must.
// Empty when `root` is "/" or inside one of `keep`.
std::vector<std::string> hide_all_but(const fs::path& root, const std::vector<fs::path>& keep);

// Without namespaces (root only): removes the "others" permission bits of each path (not
// recursive: a folder without o+x cannot be entered, so nothing below it can be reached).
void forbid_others(const std::vector<std::string>& paths);

// Hard-links `exe` into `dir` (a copy when the link fails, e.g. across file systems) and
// returns the new path. The link keeps the executable's mode (0711 root: runnable, not
// readable) while the folder it came from stays closed to test users.
fs::path link_executable(const fs::path& exe, const fs::path& dir);

// A command that handles student input but is not a test case, such as the compiler on the
// student's translation units or an archive tool: the test's sandbox, with `out_dir` created,
// given to `uid` and the only folder of the grader's it may write (its HOME and TMPDIR). Limits:
// 600 s, 4 GiB of address space, 512 MiB per file, 4 MiB of output, 64 processes. argv[0] is
// looked up on PATH when not absolute. The caller adds hide_paths (solutions/, hidden tests,
// other build folders) and readonly_paths, then calls run_sandboxed.
RunSpec tool_spec(const std::vector<std::string>& argv, const fs::path& out_dir, int uid,
                  const fs::path& cwd = {});

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
