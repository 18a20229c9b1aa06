// Unit tests of the sandbox with ordinary programs (sh, sleep): exit status, signals, timeout,
// output cap, the result channel, and that nothing outlives a run.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

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
