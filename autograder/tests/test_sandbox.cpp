// Unit tests of the sandbox with ordinary programs (sh, sleep, python3): exit status, signals,
// timeout, output cap, the result channel, that nothing outlives a run (processes, files, IPC),
// loopback only, masked and read-only paths, and tool runs (the compiler's sandbox) with limits.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <memory>

#include "sandbox.h"
#include "util.h"

using namespace grader;

namespace {

class Sandbox : public ::testing::Test {
 protected:
  void SetUp() override {
    policy_ = probe_sandbox(true);
    dir_ = fs::temp_directory_path() / ("mlsys-sandbox-test-" + random_hex(4));
    fs::create_directories(dir_);
    fs::permissions(dir_, fs::perms::all);  // a test uid may write here
    // A uid of our own from the grader's pool (locked): CTest runs these cases in parallel, and
    // a run's clean-up kills every process of its uid, so two cases must never share one.
    if (policy_.root) uids_ = std::make_unique<UidPool>(1);
  }
  void TearDown() override { remove_tree(dir_); }

  RunResult sh(const std::string& script, double timeout = 5, uint64_t max_output = 1 << 16, bool channel = false) {
    RunSpec spec;
    spec.argv = {"/bin/sh", "-c", script};
    spec.cwd = dir_.string();
    spec.env = {"PATH=/usr/bin:/bin", "HOME=" + dir_.string()};
    spec.timeout_s = timeout;
    spec.max_output = max_output;
    spec.max_processes = 64;
    spec.channel = channel;
    if (uids_) spec.uid = spec.gid = uids_->uid(0);
    return run_sandboxed(spec, policy_);
  }

  SandboxPolicy policy_;
  std::unique_ptr<UidPool> uids_;
  fs::path dir_;
};

}  // namespace

TEST_F(Sandbox, ExitCodeAndOutput) {
  RunResult r = sh("echo hello; echo oops >&2; exit 3");
  ASSERT_TRUE(r.started) << r.error;
  EXPECT_TRUE(r.exited);
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.output, "hello\noops\n");
  EXPECT_EQ(r.describe_end(5), "exited with code 3");
}

TEST_F(Sandbox, KilledBySignal) {
  RunResult r = sh("kill -SEGV $$");
  EXPECT_EQ(r.signal, SIGSEGV);
  EXPECT_EQ(r.describe_end(5), "killed by SIGSEGV");
}

TEST_F(Sandbox, TimeoutKillsTheWholeTree) {
  double start = now_seconds();
  RunResult r = sh("sleep 100 & sleep 100", 0.5);
  EXPECT_TRUE(r.timed_out);
  EXPECT_LT(now_seconds() - start, 5.0);
  EXPECT_EQ(r.describe_end(0.5), "timed out after 0.5 s");
}

TEST_F(Sandbox, OutputIsCappedAndTheRunStopped) {
  double start = now_seconds();
  RunResult r = sh("yes 0123456789", 20, 4096);
  EXPECT_TRUE(r.output_exceeded);
  EXPECT_EQ(r.output.size(), 4096u);
  EXPECT_LT(now_seconds() - start, 5.0);
}

TEST_F(Sandbox, BackgroundProcessesDoNotOutliveTheRun) {
  std::string marker = "sleep 271";
  RunResult r = sh("(setsid sh -c 'exec " + marker + "' &) ; exit 0");
  EXPECT_EQ(r.exit_code, 0);
  CommandResult ps = run_command({"sh", "-c", "pgrep -f '^" + marker + "$' || true"});
  EXPECT_EQ(trim(ps.output), "") << "left running: " << ps.output;
}

TEST_F(Sandbox, ChannelCarriesTheSecretToTheProcessOnly) {
  // fd 3 holds the secret, fd 4 goes back to the grader.
  RunResult r = sh("read s <&3; printf 'got:%s' \"$s\" >&4; printf 'env:%s' \"$MLSYS_GRADER_CHANNEL\"", 5, 1 << 16, true);
  ASSERT_TRUE(r.started) << r.error;
  EXPECT_EQ(r.secret.size(), 32u);
  EXPECT_EQ(r.channel, "got:" + r.secret);
  EXPECT_EQ(r.output, "env:3:4");
}

TEST_F(Sandbox, NoNetworkWithNamespaces) {
  if (!policy_.namespaces) GTEST_SKIP() << "no namespaces here: " << policy_.describe();
  // /proc/net/dev lists the interfaces of the process's network namespace: only lo.
  RunResult r = sh("tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '");
  EXPECT_EQ(trim(r.output), "lo") << r.output;
}

TEST_F(Sandbox, RunsAsAnUnprivilegedUserWhenRoot) {
  if (!policy_.root) GTEST_SKIP() << "the grader is not root here";
  RunResult r = sh("id -u; cat /etc/shadow >/dev/null 2>&1 && echo READ || echo DENIED");
  EXPECT_EQ(r.output, std::to_string(uids_->uid(0)) + "\nDENIED\n");
  EXPECT_GE(uids_->uid(0), 1000);
}

// ----------------------------------------------------------------------------------------------
// Isolation between runs: loopback only, private IPC and scratch space, masked paths
// ----------------------------------------------------------------------------------------------

namespace {

const char* kPython = "/usr/bin/python3";  // the test users cannot run a python under /root

bool have_python() { return ::access(kPython, X_OK) == 0; }

// System V segments of `uid` that the machine holds now (/proc/sysvipc/shm: uid is column 8).
int shm_segments_of(int uid) {
  int n = 0;
  std::vector<std::string> lines = split(read_file("/proc/sysvipc/shm"), '\n');
  for (size_t i = 1; i < lines.size(); ++i) {
    std::vector<std::string> cols;
    for (const std::string& w : split(lines[i], ' '))
      if (!w.empty()) cols.push_back(w);
    if (cols.size() > 9 && (std::stoi(cols[7]) == uid || std::stoi(cols[9]) == uid)) ++n;
  }
  return n;
}

}  // namespace

TEST_F(Sandbox, LoopbackIsUpAndNothingElseIsReachable) {
  if (!policy_.namespaces) GTEST_SKIP() << "no namespaces here: " << policy_.describe();
  if (!have_python()) GTEST_SKIP() << kPython << " is missing";
  // What mpirun and the PA3 communicator need: a TCP server and a client on 127.0.0.1.
  std::string script =
      "import socket\n"
      "s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(1)\n"
      "c = socket.create_connection(s.getsockname()); a, _ = s.accept()\n"
      "c.sendall(b'ping'); print(a.recv(4).decode())\n"
      "u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
      "try:\n"
      "    u.sendto(b'x', ('192.0.2.1', 9)); print('outside: reachable')\n"
      "except OSError as e:\n"
      "    print('outside:', e.strerror)\n";
  RunSpec spec;
  spec.argv = {kPython, "-c", script};
  spec.cwd = dir_.string();
  spec.env = {"PATH=/usr/bin:/bin", "HOME=" + dir_.string()};
  spec.timeout_s = 10;
  if (uids_) spec.uid = spec.gid = uids_->uid(0);
  RunResult r = run_sandboxed(spec, policy_);
  ASSERT_TRUE(r.started) << r.error;
  EXPECT_EQ(r.output, "ping\noutside: Network is unreachable\n");
}

// PA3's MPI backend inside the sandbox: mpirun starts 8 processes (each with MPI's own threads
// and MPI_THREAD_MULTIPLE) that talk over the loopback interface and shared memory, under the
// PA3 rubric's process limit. Without loopback up, mpirun stops at once ("unable to find
// network interfaces"). The PA3 runtime's MPI test program is built only where OpenMPI is.
TEST_F(Sandbox, MpirunRunsEightRanksOverLoopbackWithinTheProcessLimit) {
#if defined(MLSYS_PA3_MPI_TEST_EXE) && defined(MLSYS_MPIEXEC)
  if (!policy_.namespaces) GTEST_SKIP() << "no namespaces here: " << policy_.describe();
  // A copy in the test's own folder: the build tree may sit under a folder the test uid cannot
  // enter (a clone in a 0700 mktemp folder). The program links only system libraries.
  const fs::path exe = dir_ / "pa3_comm_mpi_tests";
  fs::copy_file(MLSYS_PA3_MPI_TEST_EXE, exe);
  fs::permissions(exe, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                           fs::perms::others_read | fs::perms::others_exec);
  RunSpec spec;
  spec.argv = {MLSYS_MPIEXEC, "--oversubscribe", "--timeout", "80", "-n", "8", exe.string(),
               "--gtest_filter=MpiComm.RankSizeAndRing:MpiComm.SplitGrid:MpiComm.NativeCollectivesAndCounters"};
  spec.cwd = dir_.string();
  spec.env = {"PATH=/usr/bin:/bin", "HOME=" + dir_.string(), "OMPI_MCA_mpi_yield_when_idle=1",
              "OMPI_ALLOW_RUN_AS_ROOT=1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1"};
  spec.timeout_s = 100;
  spec.max_processes = 256;  // autograder/rubrics/pa3.json, limits.processes
  if (uids_) spec.uid = spec.gid = uids_->uid(0);
  RunResult r = run_sandboxed(spec, policy_);
  ASSERT_TRUE(r.started) << r.error;
  EXPECT_TRUE(r.exited && r.exit_code == 0) << r.describe_end(spec.timeout_s) << "\n" << r.output;
  EXPECT_NE(r.output.find("[  PASSED  ] 3 tests."), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("unable to find"), std::string::npos) << r.output;
#else
  GTEST_SKIP() << "this build has no MPI backend for PA3 (OpenMPI not found)";
#endif
}

// Once with namespaces (private IPC and tmpfs), once without (root sweeps what the uid left).
class SandboxLeftovers : public Sandbox, public ::testing::WithParamInterface<bool> {};

TEST_P(SandboxLeftovers, IpcAndScratchSpaceArePrivateAndNothingOutlivesTheRun) {
  if (!GetParam()) policy_ = probe_sandbox(false);
  if (!policy_.namespaces && !policy_.root) GTEST_SKIP() << "neither namespaces nor root: " << policy_.describe();
  std::string mark = "mlsys-sandbox-leak-" + random_hex(4);
  // The first run leaves a System V segment and a file in every shared scratch folder ...
  RunResult first = sh("ipcmk -M 65536 >/dev/null && for d in /tmp /var/tmp /dev/shm /run/lock; do "
                       "[ -d $d ] && echo secret > $d/" + mark + "; done; ipcs -m | grep -c 0x");
  ASSERT_EQ(first.exit_code, 0) << first.output;
  EXPECT_EQ(trim(first.output), "1");
  // ... the second sees none of it ...
  RunResult second = sh("ipcs -m | grep -c 0x; cat /tmp/" + mark + " /var/tmp/" + mark + " /dev/shm/" + mark +
                        " /run/lock/" + mark + " 2>/dev/null; true");
  EXPECT_EQ(trim(second.output), "0") << second.output;
  // ... and the machine keeps none of it.
  if (uids_) EXPECT_EQ(shm_segments_of(uids_->uid(0)), 0);
  for (const std::string& d : shared_scratch_dirs()) EXPECT_FALSE(fs::exists(fs::path(d) / mark)) << d;
}

INSTANTIATE_TEST_SUITE_P(Sandbox, SandboxLeftovers, ::testing::Values(true, false),
                         [](const ::testing::TestParamInfo<bool>& i) { return i.param ? "namespaces" : "no_namespaces"; });

TEST_F(Sandbox, MaskedPathsCannotBeReadAndReadonlyPathsNotWritten) {
  if (!policy_.namespaces) GTEST_SKIP() << "no namespaces here: " << policy_.describe();
  fs::create_directories(dir_ / "secret");
  write_file_atomic(dir_ / "secret" / "key.txt", "SECRET-DIR\n");
  write_file_atomic(dir_ / "key-file.txt", "SECRET-FILE\n");
  fs::create_directories(dir_ / "ro");
  fs::permissions(dir_ / "ro", fs::perms::all);
  for (const char* f : {"secret/key.txt", "key-file.txt"}) fs::permissions(dir_ / f, fs::perms(0644));
  RunSpec spec;
  spec.argv = {"/bin/sh", "-c", "cat secret/key.txt key-file.txt; touch ro/x && echo WROTE; echo done"};
  spec.cwd = dir_.string();
  spec.env = {"PATH=/usr/bin:/bin"};
  spec.hide_paths = {(dir_ / "secret").string(), (dir_ / "key-file.txt").string(), (dir_ / "missing").string()};
  spec.readonly_paths = {(dir_ / "ro").string()};
  if (uids_) spec.uid = spec.gid = uids_->uid(0);
  RunResult r = run_sandboxed(spec, policy_);
  ASSERT_TRUE(r.started) << r.error;
  EXPECT_EQ(r.output.find("SECRET"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("WROTE"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("done"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(dir_ / "ro" / "x"));
}

TEST(SandboxPaths, HideAllButKeepsOnlyTheWayToTheWorkFolder) {
  fs::path root = fs::temp_directory_path() / ("mlsys-hide-test-" + random_hex(4));
  for (const char* d : {"solutions/pa1", "build/other", "build/grader/pa1/stage", "build/grader/pa2", "docs"})
    fs::create_directories(root / d);
  write_file_atomic(root / "README.md", "x");
  write_file_atomic(root / "build" / "log.txt", "x");
  fs::create_symlink("/usr", root / "link-to-usr");
  std::vector<std::string> got = hide_all_but(root, {root / "build/grader/pa1"});
  std::sort(got.begin(), got.end());
  std::vector<std::string> want;
  for (const char* p : {"README.md", "build/grader/pa2", "build/log.txt", "build/other", "docs", "solutions"})
    want.push_back((root / p).string());
  std::sort(want.begin(), want.end());
  EXPECT_EQ(got, want);  // the symbolic link is left alone: masking it would mask /usr
  EXPECT_EQ(hide_all_but(root, {"/var/tmp/elsewhere"}), std::vector<std::string>{root.string()});
  EXPECT_TRUE(hide_all_but(root / "build", {root}).empty());  // the tree lies inside the work folder
  EXPECT_TRUE(hide_all_but("/", {root}).empty());
  remove_tree(root);
}

TEST_F(Sandbox, ExecutableIsHardLinkedIntoTheRunFolder) {
  fs::create_directories(dir_ / "cache");
  fs::copy_file("/bin/true", dir_ / "cache" / "prog");
  fs::create_directories(dir_ / "run");
  fs::path linked = link_executable(dir_ / "cache" / "prog", dir_ / "run");
  EXPECT_EQ(linked, dir_ / "run" / "prog");
  EXPECT_TRUE(fs::equivalent(linked, dir_ / "cache" / "prog"));  // the same file, not a copy
}

TEST_F(Sandbox, ToolRunsWithLimitsAndWritesOnlyItsOutputFolder) {
  fs::create_directories(dir_ / "staff");
  write_file_atomic(dir_ / "staff" / "solution.cpp", "SOLUTION-TEXT\n");
  fs::permissions(dir_ / "staff" / "solution.cpp", fs::perms(0644));
  fs::path out = dir_ / "out";
  int uid = uids_ ? uids_->uid(0) : -1;
  RunSpec spec = tool_spec({"sh", "-c", "cat " + (dir_ / "staff/solution.cpp").string() + "; echo built > obj.o"}, out, uid);
  spec.hide_paths = {(dir_ / "staff").string()};
  RunResult r = run_sandboxed(spec, policy_);
  ASSERT_TRUE(r.started) << r.error;
  EXPECT_EQ(read_file(out / "obj.o"), "built\n");
  if (policy_.namespaces) EXPECT_EQ(r.output.find("SOLUTION-TEXT"), std::string::npos) << r.output;

  // Over its limits: stopped, whatever it does.
  RunSpec slow = tool_spec({"sleep", "30"}, out, uid);
  slow.timeout_s = 0.5;
  EXPECT_TRUE(run_sandboxed(slow, policy_).timed_out);
  RunSpec big = tool_spec({"sh", "-c", "head -c 3000000 /dev/zero > big.o"}, out, uid);
  big.max_file_size = 1 << 20;
  RunResult rb = run_sandboxed(big, policy_);
  EXPECT_NE(rb.exit_code, 0);
  EXPECT_LE(fs::file_size(out / "big.o"), 1u << 20);
  if (have_python()) {
    // A compiler that runs away with memory (a recursive include) fails to allocate instead.
    RunSpec hungry = tool_spec({kPython, "-c", "b = bytearray(600 << 20); print('allocated', len(b))"}, out, uid);
    hungry.memory_bytes = 256ull << 20;
    RunResult rh = run_sandboxed(hungry, policy_);
    EXPECT_NE(rh.exit_code, 0);
    EXPECT_EQ(rh.output.find("allocated"), std::string::npos) << rh.output;
    EXPECT_NE(rh.output.find("MemoryError"), std::string::npos) << rh.output;
  }
}
