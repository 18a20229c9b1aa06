// The sandbox: one untrusted command under a supervisor, with limits. See sandbox.h.
//
// The grader has threads (parallel test runs), so both children are made with the raw clone
// system call and do only system calls until execve: no malloc, no stdio, no locks that another
// thread might have held at the time of the clone.
#include "sandbox.h"

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <net/if.h>
#include <poll.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/ipc.h>
#include <sys/mount.h>
#include <sys/msg.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <set>

#include "util.h"

namespace grader {

// ----------------------------------------------------------------------------------------------
// Raw helpers (safe between clone and execve)
// ----------------------------------------------------------------------------------------------

static long raw_clone(unsigned long flags) { return ::syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0); }

static void raw_write_all(int fd, const void* data, size_t n) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;
    p += w;
    n -= static_cast<size_t>(w);
  }
}

static void raw_puts(int fd, const char* s) { raw_write_all(fd, s, std::strlen(s)); }

static void close_from(int lowfd) {
#ifdef SYS_close_range
  if (::syscall(SYS_close_range, lowfd, ~0U, 0) == 0) return;
#endif
  for (int fd = lowfd; fd < 65536; ++fd) ::close(fd);
}

// Parses "123 (comm) S 45 ..." -> 45 (the parent pid); -1 on error.
static long parse_ppid(const char* stat, ssize_t n) {
  const char* close_paren = nullptr;
  for (ssize_t i = n - 1; i >= 0; --i)
    if (stat[i] == ')') {
      close_paren = stat + i;
      break;
    }
  if (!close_paren || close_paren + 4 >= stat + n) return -1;
  const char* p = close_paren + 4;  // ") S " then the ppid
  long v = 0;
  bool any = false;
  while (p < stat + n && *p >= '0' && *p <= '9') {
    v = v * 10 + (*p++ - '0');
    any = true;
  }
  return any ? v : -1;
}

// Kills every child of this process (orphans of the command reparent to it: it is a child
// subreaper) until none is left. Scans /proc with getdents64: no opendir (it mallocs).
static void kill_all_children() {
  pid_t self = static_cast<pid_t>(::syscall(SYS_getpid));
  char dents[8192];
  for (int round = 0; round < 500; ++round) {
    int dir = ::open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0) return;
    int found = 0;
    for (;;) {
      long n = ::syscall(SYS_getdents64, dir, dents, sizeof dents);
      if (n <= 0) break;
      for (long off = 0; off < n;) {
        struct linux_dirent64 {
          uint64_t d_ino;
          int64_t d_off;
          unsigned short d_reclen;
          unsigned char d_type;
          char d_name[1];
        };
        auto* d = reinterpret_cast<linux_dirent64*>(dents + off);
        off += d->d_reclen;
        const char* name = d->d_name;
        if (name[0] < '1' || name[0] > '9') continue;
        char path[64] = "/proc/";
        size_t len = 6;
        for (const char* q = name; *q && len < 40; ++q) path[len++] = *q;
        const char* tail = "/stat";
        for (const char* q = tail; *q; ++q) path[len++] = *q;
        path[len] = 0;
        int fd = ::open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) continue;
        char stat[512];
        ssize_t got = ::read(fd, stat, sizeof stat);
        ::close(fd);
        if (got <= 0) continue;
        if (parse_ppid(stat, got) != self) continue;
        long pid = 0;
        for (const char* q = name; *q >= '0' && *q <= '9'; ++q) pid = pid * 10 + (*q - '0');
        ::kill(static_cast<pid_t>(pid), SIGKILL);
        ++found;
      }
    }
    ::close(dir);
    // Reap what died (their orphans come to us and show up in the next round).
    int st;
    while (::waitpid(-1, &st, WNOHANG) > 0) {
    }
    if (found == 0) {
      while (::waitpid(-1, &st, WNOHANG) > 0) {
      }
      return;
    }
    struct timespec ts = {0, 2000000};
    ::nanosleep(&ts, nullptr);
  }
}

// ----------------------------------------------------------------------------------------------
// The supervisor and the command
// ----------------------------------------------------------------------------------------------

namespace {

// Everything the two children need, prepared before the clone.
struct Plan {
  const char* exe = nullptr;
  char* const* argv = nullptr;
  char* const* envp = nullptr;
  const char* cwd = nullptr;
  int devnull = -1, out_w = -1, report_w = -1, sec_r = -1, chan_w = -1;
  bool root = false, namespaces = false;
  int uid = -1, gid = -1;
  double timeout_s = 10;
  rlim_t as = 0, data = 0, fsize = 0, nproc = 0;
  const char* const* hide = nullptr;     // null-terminated
  const char* const* readonly = nullptr; // null-terminated
  const char* const* private_ = nullptr; // null-terminated
};

// What the supervisor sends back: the command's wait status and how the run ended.
struct Report {
  int32_t magic = 0x6d6c7379;  // "mlsy"
  int32_t wait_status = 0;
  int32_t flags = 0;           // kTimedOut | kStopped | kNotStarted | kSetupFailed
  int32_t setup_step = 0;      // with kSetupFailed: which step of setup_sandbox failed
  int32_t setup_errno = 0;
  int32_t setup_index = 0;     // ... and for which path of its list
  int64_t command_us = 0;      // the command's wall time, from its start to its end
  int64_t max_rss_kb = 0;      // its peak resident memory (getrusage)
  int64_t cpu_us = 0;          // its user + system CPU time, all threads
};
constexpr int32_t kTimedOut = 1, kStopped = 2, kNotStarted = 4, kSetupFailed = 8;
enum SetupStep : int32_t { kStepPrivateRoot = 1, kStepScratch, kStepReadonly, kStepHide, kStepProc, kStepLoopback };
constexpr size_t kMaxChannel = 1u << 20;

volatile sig_atomic_t g_reason = 0;
volatile pid_t g_command = 0;

void on_signal(int sig) {
  g_reason |= (sig == SIGALRM) ? kTimedOut : kStopped;
  if (g_command > 0) ::kill(g_command, SIGKILL);
}

void reset_signals() {
  struct sigaction sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sa_handler = SIG_DFL;
  for (int sig = 1; sig < 65; ++sig)
    if (sig != SIGKILL && sig != SIGSTOP) ::sigaction(sig, &sa, nullptr);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
}

[[noreturn]] void run_command_child(const Plan& p) {
  reset_signals();
  ::setpgid(0, 0);  // its own process group: the supervisor kills the group in one sweep
  // Move the fds out of the way first, then into place: 0 /dev/null, 1+2 output, 3 secret, 4 channel.
  int devnull = ::fcntl(p.devnull, F_DUPFD, 100);
  int out = ::fcntl(p.out_w, F_DUPFD, 100);
  int sec = p.sec_r >= 0 ? ::fcntl(p.sec_r, F_DUPFD, 100) : -1;
  int chan = p.chan_w >= 0 ? ::fcntl(p.chan_w, F_DUPFD, 100) : -1;
  ::dup2(devnull, 0);
  ::dup2(out, 1);
  ::dup2(out, 2);
  if (sec >= 0) ::dup2(sec, 3);
  if (chan >= 0) ::dup2(chan, 4);
  close_from(sec >= 0 ? 5 : 3);
  if (::chdir(p.cwd) != 0) {
    raw_puts(2, "mlsys sandbox: cannot enter the working directory\n");
    _exit(126);
  }
  struct rlimit rl;
  rl.rlim_cur = rl.rlim_max = 0;
  ::setrlimit(RLIMIT_CORE, &rl);
  if (p.as) {
    rl.rlim_cur = rl.rlim_max = p.as;
    ::setrlimit(RLIMIT_AS, &rl);
  }
  if (p.data) {
    rl.rlim_cur = rl.rlim_max = p.data;
    ::setrlimit(RLIMIT_DATA, &rl);
  }
  if (p.fsize) {
    rl.rlim_cur = rl.rlim_max = p.fsize;
    ::setrlimit(RLIMIT_FSIZE, &rl);
  }
  if (p.nproc) {
    rl.rlim_cur = rl.rlim_max = p.nproc;
    ::setrlimit(RLIMIT_NPROC, &rl);
  }
  if (p.root && p.uid >= 0) {
    // Raw system calls: glibc's setuid would try to signal the (absent) other threads.
    if (::syscall(SYS_setgroups, 0, nullptr) != 0 ||
        ::syscall(SYS_setresgid, p.gid, p.gid, p.gid) != 0 ||
        ::syscall(SYS_setresuid, p.uid, p.uid, p.uid) != 0 ||
        static_cast<int>(::syscall(SYS_getuid)) != p.uid) {
      raw_puts(2, "mlsys sandbox: cannot switch to the test user\n");
      _exit(126);
    }
  }
  ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
  ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  ::execve(p.exe, p.argv, p.envp);
  raw_puts(2, "mlsys sandbox: cannot execute ");
  raw_puts(2, p.exe);
  raw_puts(2, ": ");
  raw_puts(2, std::strerror(errno));  // strerror of a valid errno returns a static string
  raw_puts(2, "\n");
  _exit(127);
}

// Brings the loopback interface of a new network namespace up (it starts down): multi-process
// tests (mpirun, the PA3 communicator) talk over 127.0.0.1. Nothing else exists in the namespace.
bool loopback_up() {
  int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return false;
  struct ifreq ifr;
  std::memset(&ifr, 0, sizeof ifr);
  std::memcpy(ifr.ifr_name, "lo", 3);
  bool ok = ::ioctl(s, SIOCGIFFLAGS, &ifr) == 0;
  if (ok && !(ifr.ifr_flags & IFF_UP)) {
    ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP | IFF_RUNNING);
    ok = ::ioctl(s, SIOCSIFFLAGS, &ifr) == 0;
  }
  ::close(s);
  return ok;
}

// Mount flags that a read-only bind remount must keep (a user namespace may not drop them).
unsigned long locked_flags(const char* path) {
  struct statvfs sv;
  unsigned long f = 0;
  if (::statvfs(path, &sv) != 0) return f;
  if (sv.f_flag & ST_NOSUID) f |= MS_NOSUID;
  if (sv.f_flag & ST_NODEV) f |= MS_NODEV;
  if (sv.f_flag & ST_NOEXEC) f |= MS_NOEXEC;
  return f;
}

// With namespaces: the run's own view of the machine. Returns 0, or the step that failed (with
// errno and the index of the path in *index): the supervisor then reports it and runs nothing.
// A path that does not exist (or lies under one already masked) is skipped.
int32_t setup_sandbox(const Plan& p, int32_t* index) {
  *index = 0;
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return kStepPrivateRoot;
  int32_t i = 0;
  for (const char* const* t = p.private_; t && *t; ++t, ++i)
    if (::mount("tmpfs", *t, "tmpfs", MS_NOSUID | MS_NODEV, "size=512m,mode=1777") != 0 && errno != ENOENT) {
      *index = i;
      return kStepScratch;
    }
  i = 0;
  for (const char* const* r = p.readonly; r && *r; ++r, ++i) {
    if (::mount(*r, *r, nullptr, MS_BIND | MS_REC, nullptr) != 0) {
      if (errno == ENOENT) continue;
      *index = i;
      return kStepReadonly;
    }
    if (::mount(nullptr, *r, nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY | locked_flags(*r), nullptr) != 0) {
      *index = i;
      return kStepReadonly;
    }
  }
  i = 0;
  for (const char* const* h = p.hide; h && *h; ++h, ++i) {
    struct stat st;
    if (::stat(*h, &st) != 0) {
      if (errno == ENOENT || errno == ENOTDIR) continue;
      *index = i;
      return kStepHide;
    }
    int rc = S_ISDIR(st.st_mode)
                 ? ::mount("tmpfs", *h, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, "size=4k,mode=0555")
                 : ::mount("/dev/null", *h, nullptr, MS_BIND, nullptr);
    if (rc != 0) {
      *index = i;
      return kStepHide;
    }
  }
  if (::mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0) return kStepProc;
  if (!loopback_up()) return kStepLoopback;
  return 0;
}

[[noreturn]] void supervisor(const Plan& p) {
  reset_signals();
  struct sigaction sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;  // no SA_RESTART: waitpid returns EINTR
  ::sigaction(SIGALRM, &sa, nullptr);
  ::sigaction(SIGUSR1, &sa, nullptr);
  ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  ::setpgid(0, 0);
  Report report;
  if (p.namespaces) {
    int32_t index = 0;
    int32_t step = setup_sandbox(p, &index);
    if (step != 0) {
      report.flags = kNotStarted | kSetupFailed;
      report.setup_step = step;
      report.setup_errno = errno;
      report.setup_index = index;
      raw_write_all(p.report_w, &report, sizeof report);
      _exit(0);
    }
  } else {
    ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  }

  struct itimerval timer;
  std::memset(&timer, 0, sizeof timer);
  double secs = std::max(0.01, p.timeout_s);
  timer.it_value.tv_sec = static_cast<time_t>(secs);
  timer.it_value.tv_usec = static_cast<suseconds_t>((secs - std::floor(secs)) * 1e6);
  ::setitimer(ITIMER_REAL, &timer, nullptr);

  const auto command_start = std::chrono::steady_clock::now();
  long child = raw_clone(0);
  if (child == 0) run_command_child(p);
  ::close(p.out_w);
  if (p.chan_w >= 0) ::close(p.chan_w);
  if (p.sec_r >= 0) ::close(p.sec_r);
  if (child < 0) {
    report.flags = kNotStarted;
  } else {
    g_command = static_cast<pid_t>(child);
    if (g_reason) ::kill(g_command, SIGKILL);  // the timer fired before g_command was set
    for (;;) {
      int st = 0;
      struct rusage usage {};
      pid_t r = ::wait4(-1, &st, 0, &usage);
      if (r == g_command) {
        report.wait_status = st;
        report.command_us = std::chrono::duration_cast<std::chrono::microseconds>(
                                std::chrono::steady_clock::now() - command_start).count();
        report.max_rss_kb = usage.ru_maxrss;
        report.cpu_us = (usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1000000LL + usage.ru_utime.tv_usec +
                        usage.ru_stime.tv_usec;
        break;
      }
      if (r < 0 && errno != EINTR) break;
    }
  }
  std::memset(&timer, 0, sizeof timer);
  ::setitimer(ITIMER_REAL, &timer, nullptr);
  report.flags |= g_reason;
  // Whatever the command left behind dies with it.
  if (p.namespaces) {
    ::kill(-1, SIGKILL);  // as init of the pid namespace: everything in it but us
    int st;
    while (::waitpid(-1, &st, 0) > 0 || errno == EINTR) {
    }
  } else {
    // The command's process group and, as root, every process of the test uid are killed in
    // one sweep each (the kernel blocks fork while it delivers them, so a fork bomb cannot
    // outrun it); then whatever escaped into a new session and was reparented to us.
    if (child > 0) ::kill(-static_cast<pid_t>(child), SIGKILL);
    if (p.root && p.uid > 0) {
      long helper = raw_clone(0);
      if (helper == 0) {
        if (::syscall(SYS_setresgid, p.gid, p.gid, p.gid) == 0 && ::syscall(SYS_setresuid, p.uid, p.uid, p.uid) == 0) {
          ::kill(-1, SIGKILL);  // see kill_uid
          ::kill(-1, SIGKILL);
        }
        _exit(0);
      }
      int st;
      if (helper > 0)
        while (::waitpid(static_cast<pid_t>(helper), &st, 0) < 0 && errno == EINTR) {
        }
    }
    kill_all_children();
  }
  raw_write_all(p.report_w, &report, sizeof report);
  _exit(0);
}

}  // namespace

// ----------------------------------------------------------------------------------------------
// Probing what the machine allows
// ----------------------------------------------------------------------------------------------

std::string SandboxPolicy::describe() const {
  std::string s = root ? "test processes run as unprivileged test users" : "test processes run as the grader's user";
  s += namespaces ? (user_ns ? "; private pid, network, IPC and mount namespaces (user namespace)"
                             : "; private pid, network, IPC and mount namespaces")
                  : "; no namespaces (process-tree cleanup by subreaper)";
  return s;
}

SandboxPolicy probe_sandbox(bool allow_namespaces) {
  SandboxPolicy p;
  p.root = ::geteuid() == 0;
  if (allow_namespaces) {
    // Everything a run's setup does, once: a machine that refuses any part (e.g. a container
    // whose /proc may not be mounted again) grades without namespaces instead of failing
    // every run.
    unsigned long flags = CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWNS | (p.root ? 0 : CLONE_NEWUSER);
    long pid = raw_clone(flags);
    if (pid == 0) {
      Plan probe;
      const char* scratch[] = {"/tmp", nullptr};
      probe.private_ = scratch;
      int32_t index = 0;
      _exit(setup_sandbox(probe, &index) == 0 ? 0 : 3);
    }
    if (pid > 0) {
      int st = 0;
      while (::waitpid(static_cast<pid_t>(pid), &st, 0) < 0 && errno == EINTR) {
      }
      p.namespaces = WIFEXITED(st) && WEXITSTATUS(st) == 0;
      p.user_ns = p.namespaces && !p.root;
    }
  }
  if (!p.namespaces) {
    p.limits_not_enforced.push_back(
        "network: the kernel refused new namespaces here (e.g. Docker's seccomp profile), so "
        "test processes can reach the network; /tmp, /var/tmp, /dev/shm, /run/lock and System V IPC "
        "are swept after each run instead of private; the course tree is closed to test users by "
        "permissions instead of masked");
  }
  if (!p.root) {
    p.limits_not_enforced.push_back(
        "user: the grader is not root, so tests run as the grader's user (they can read what it "
        "reads) and the process limit counts all of that user's processes");
  }
  return p;
}

// ----------------------------------------------------------------------------------------------
// Running
// ----------------------------------------------------------------------------------------------

std::string signal_name(int sig) {
  switch (sig) {
    case SIGSEGV: return "SIGSEGV";
    case SIGABRT: return "SIGABRT";
    case SIGFPE: return "SIGFPE";
    case SIGBUS: return "SIGBUS";
    case SIGILL: return "SIGILL";
    case SIGKILL: return "SIGKILL";
    case SIGTERM: return "SIGTERM";
    case SIGXFSZ: return "SIGXFSZ";
    case SIGXCPU: return "SIGXCPU";
    case SIGPIPE: return "SIGPIPE";
    case SIGTRAP: return "SIGTRAP";
    case SIGSYS: return "SIGSYS";
    case SIGHUP: return "SIGHUP";
    case SIGINT: return "SIGINT";
    default: return "signal " + std::to_string(sig);
  }
}

static const char* setup_step_name(int32_t step) {
  switch (step) {
    case kStepPrivateRoot: return "making the mounts private";
    case kStepScratch: return "mounting a private scratch folder";
    case kStepReadonly: return "mounting a read-only path";
    case kStepHide: return "masking a hidden path";
    case kStepProc: return "mounting /proc";
    case kStepLoopback: return "bringing the loopback interface up";
    default: return "setting up";
  }
}

std::string RunResult::describe_end(double timeout_s) const {
  if (!started) return "could not be run: " + error;
  if (timed_out) return "timed out after " + format_points(timeout_s) + " s";
  if (output_exceeded) return "stopped: printed more than the output limit";
  if (channel_exceeded) return "stopped: wrote too much to the result channel";
  if (interfered) return "stopped: the supervisor was signalled by another process";
  if (signal) {
    std::string s = "killed by " + signal_name(signal);
    if (signal == SIGXFSZ) s += " (wrote a file larger than the limit)";
    if (signal == SIGKILL) s += " (possibly the memory limit)";
    return s;
  }
  if (exited) return "exited with code " + std::to_string(exit_code);
  return "ended without a status";
}

static uint64_t count_user_tasks(uid_t uid) {
  uint64_t n = 0;
  std::error_code ec;
  for (auto& e : fs::directory_iterator("/proc", ec)) {
    struct stat st;
    const std::string name = e.path().filename().string();
    if (name.empty() || name[0] < '1' || name[0] > '9') continue;
    if (::stat(e.path().c_str(), &st) != 0 || st.st_uid != uid) continue;
    std::error_code ec2;
    for (auto& t : fs::directory_iterator(e.path() / "task", ec2)) {
      (void)t;
      ++n;
    }
  }
  return n;
}

// Whether `inner` is `outer` or lies below it (both absolute, lexically normal).
static bool path_within(const std::string& inner, const std::string& outer) {
  if (outer.empty() || inner.empty()) return false;
  std::string o = outer.back() == '/' ? outer : outer + "/";
  return inner == outer || starts_with(inner, o);
}

static void sweep_uid(int uid, const std::vector<std::string>& dirs, const std::string& keep, bool ipc);

static std::string real_path(const std::string& p) {
  std::error_code ec;
  fs::path c = fs::weakly_canonical(p, ec);
  return ec ? fs::path(p).lexically_normal().string() : c.string();
}

RunResult run_sandboxed(const RunSpec& spec_in, const SandboxPolicy& policy) {
  RunResult r;
  double start = now_seconds();
  if (spec_in.argv.empty()) {
    r.error = "empty command";
    return r;
  }
  RunSpec spec = spec_in;
  if (spec.private_executable) {
    try {
      spec.argv[0] = link_executable(spec.argv[0], spec.cwd).string();
    } catch (const std::exception& e) {
      r.error = e.what();
      return r;
    }
  }
  // The shared scratch folders: private for this run (namespaces), else swept after it. One that
  // holds the run's folder or its executable stays as it is (and is swept around them).
  std::vector<std::string> private_dirs = spec.private_dirs, swept;
  const std::string cwd_real = real_path(spec.cwd), exe_real = real_path(spec.argv[0]);
  for (const std::string& d : shared_scratch_dirs()) {
    std::string dr = real_path(d);
    struct stat st;
    if (::stat(dr.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) continue;
    bool already = false;
    for (const std::string& q : private_dirs) already |= real_path(q) == dr;
    if (already) continue;
    if (policy.namespaces && spec.private_scratch && !path_within(cwd_real, dr) && !path_within(exe_real, dr))
      private_dirs.push_back(dr);
    else
      swept.push_back(dr);
  }
  std::vector<std::string> env = spec.env;
  if (spec.channel) env.push_back("MLSYS_GRADER_CHANNEL=3:4");
  std::vector<char*> argv, envp, hide, ro, priv;
  for (const auto& a : spec.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  for (const auto& h : spec.hide_paths) hide.push_back(const_cast<char*>(h.c_str()));
  hide.push_back(nullptr);
  for (const auto& d : spec.readonly_paths) ro.push_back(const_cast<char*>(d.c_str()));
  ro.push_back(nullptr);
  for (const auto& d : private_dirs) priv.push_back(const_cast<char*>(d.c_str()));
  priv.push_back(nullptr);

  int out[2] = {-1, -1}, rep[2] = {-1, -1}, sec[2] = {-1, -1}, chan[2] = {-1, -1};
  auto close_all = [&] {
    for (int* p : {out, rep, sec, chan})
      for (int i = 0; i < 2; ++i)
        if (p[i] >= 0) {
          ::close(p[i]);
          p[i] = -1;
        }
  };
  if (::pipe2(out, O_CLOEXEC) || ::pipe2(rep, O_CLOEXEC) ||
      (spec.channel && (::pipe2(sec, O_CLOEXEC) || ::pipe2(chan, O_CLOEXEC)))) {
    close_all();
    r.error = std::string("pipe: ") + std::strerror(errno);
    return r;
  }
  if (spec.channel) {
    r.secret = random_hex(16);
    std::string line = r.secret + "\n";
    raw_write_all(sec[1], line.data(), line.size());
    ::close(sec[1]);
    sec[1] = -1;
  }
  int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);

  Plan plan;
  plan.exe = spec.argv[0].c_str();
  plan.argv = argv.data();
  plan.envp = envp.data();
  plan.cwd = spec.cwd.c_str();
  plan.devnull = devnull;
  plan.out_w = out[1];
  plan.report_w = rep[1];
  plan.sec_r = sec[0];
  plan.chan_w = chan[1];
  plan.root = policy.root;
  plan.namespaces = policy.namespaces;
  plan.uid = spec.uid;
  plan.gid = spec.gid;
  plan.timeout_s = spec.timeout_s;
  plan.as = spec.memory_bytes;
  plan.data = spec.data_bytes;
  plan.fsize = spec.max_file_size;
  plan.hide = hide.data();
  plan.readonly = ro.data();
  plan.private_ = priv.data();
  if (spec.max_processes > 0) {
    // As root the count is per test uid. Otherwise it counts every process of this user, so
    // the limit leaves room for what already runs.
    plan.nproc = policy.root && spec.uid >= 0
                     ? static_cast<rlim_t>(spec.max_processes)
                     : static_cast<rlim_t>(count_user_tasks(::getuid()) + 64 + spec.max_processes);
  }

  unsigned long flags = 0;
  if (policy.namespaces)
    flags = CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWNS | (policy.user_ns ? CLONE_NEWUSER : 0);
  long pid = raw_clone(flags);
  if (pid == 0) supervisor(plan);
  if (devnull >= 0) ::close(devnull);
  for (int* fd : {&out[1], &rep[1], &sec[0], &chan[1]})
    if (*fd >= 0) {
      ::close(*fd);
      *fd = -1;
    }
  if (pid < 0) {
    close_all();
    r.error = std::string("clone: ") + std::strerror(errno);
    return r;
  }
  pid_t sup = static_cast<pid_t>(pid);

  // Read output, channel and report until all three are closed.
  Report report;
  std::string report_bytes;
  bool out_open = true, chan_open = spec.channel, rep_open = true, stop_sent = false;
  double hard_deadline = start + spec.timeout_s + 30;
  char buf[65536];
  while (out_open || chan_open || rep_open) {
    double left = hard_deadline - now_seconds();
    if (left <= 0) {
      ::kill(sup, SIGKILL);
      ::kill(-sup, SIGKILL);
      if (policy.root && spec.uid >= 0) kill_uid(spec.uid);
      r.timed_out = true;
      break;
    }
    struct pollfd pfds[3];
    int n = 0, idx_out = -1, idx_chan = -1, idx_rep = -1;
    if (out_open) {
      idx_out = n;
      pfds[n++] = {out[0], POLLIN, 0};
    }
    if (chan_open) {
      idx_chan = n;
      pfds[n++] = {chan[0], POLLIN, 0};
    }
    if (rep_open) {
      idx_rep = n;
      pfds[n++] = {rep[0], POLLIN, 0};
    }
    int ready = ::poll(pfds, static_cast<nfds_t>(n), static_cast<int>(std::min(left, 1.0) * 1000) + 1);
    if (ready < 0 && errno != EINTR) break;
    if (ready <= 0) continue;
    // Appends at most cap + 1 bytes, so that "more than cap" can be told apart.
    auto drain = [&](int idx, int fd, bool& open, std::string& sink, size_t cap) {
      if (idx < 0 || !(pfds[idx].revents & (POLLIN | POLLHUP | POLLERR))) return;
      ssize_t got = ::read(fd, buf, sizeof buf);
      if (got < 0 && errno == EINTR) return;
      if (got <= 0) {
        open = false;
        return;
      }
      if (sink.size() <= cap) sink.append(buf, std::min(static_cast<size_t>(got), cap + 1 - sink.size()));
    };
    drain(idx_out, out[0], out_open, r.output, spec.max_output);
    if (r.output.size() > spec.max_output) {
      r.output.resize(spec.max_output);
      r.output_exceeded = true;
    }
    drain(idx_chan, chan[0], chan_open, r.channel, kMaxChannel);
    if (r.channel.size() > kMaxChannel) {
      r.channel.resize(kMaxChannel);
      r.channel_exceeded = true;
    }
    drain(idx_rep, rep[0], rep_open, report_bytes, sizeof(Report));
    if ((r.output_exceeded || r.channel_exceeded) && !stop_sent) {
      ::kill(sup, SIGUSR1);  // the supervisor kills the command and everything it started
      stop_sent = true;
    }
  }
  int st = 0;
  while (::waitpid(sup, &st, 0) < 0 && errno == EINTR) {
  }
  close_all();
  if (policy.root && spec.uid > 0) {
    // Nothing of the run outlives it: its processes, then what it left in shared places (with
    // namespaces its scratch folders and IPC objects went away with the namespaces).
    kill_uid(spec.uid);
    sweep_uid(spec.uid, swept, cwd_real, !policy.namespaces);
  }
  r.seconds = now_seconds() - start;

  if (report_bytes.size() != sizeof(Report)) {
    if (!r.timed_out) r.error = "the supervisor ended without a report";
    r.started = r.timed_out;
    return r;
  }
  std::memcpy(&report, report_bytes.data(), sizeof report);
  if (report.magic == 0x6d6c7379 && (report.flags & kSetupFailed)) {
    // Fail closed: a sandbox that could not be built completely runs nothing.
    const std::vector<std::string>* list = report.setup_step == kStepHide       ? &spec.hide_paths
                                           : report.setup_step == kStepReadonly ? &spec.readonly_paths
                                           : report.setup_step == kStepScratch  ? &private_dirs
                                                                                : nullptr;
    std::string what = list && report.setup_index >= 0 && static_cast<size_t>(report.setup_index) < list->size()
                           ? " " + (*list)[static_cast<size_t>(report.setup_index)]
                           : "";
    r.error = std::string("the sandbox failed while ") + setup_step_name(report.setup_step) + what + ": " +
              std::strerror(report.setup_errno);
    return r;
  }
  if (report.magic != 0x6d6c7379 || (report.flags & kNotStarted)) {
    r.error = "the command could not be started";
    return r;
  }
  r.started = true;
  r.command_seconds = static_cast<double>(report.command_us) * 1e-6;
  r.max_rss_kb = report.max_rss_kb;
  r.cpu_seconds = static_cast<double>(report.cpu_us) * 1e-6;
  r.timed_out = r.timed_out || (report.flags & kTimedOut);
  // kStopped without a reason of ours: someone else signalled the supervisor.
  r.interfered = (report.flags & kStopped) && !r.output_exceeded && !r.channel_exceeded;
  if (WIFEXITED(report.wait_status)) {
    r.exited = true;
    r.exit_code = WEXITSTATUS(report.wait_status);
  } else if (WIFSIGNALED(report.wait_status)) {
    r.signal = WTERMSIG(report.wait_status);
  }
  return r;
}

// ----------------------------------------------------------------------------------------------
// Cleaning up after a test uid
// ----------------------------------------------------------------------------------------------

void kill_uid(int uid) {
  if (::geteuid() != 0 || uid <= 0) return;
  long pid = raw_clone(0);
  if (pid == 0) {
    if (::syscall(SYS_setresgid, uid, uid, uid) != 0 || ::syscall(SYS_setresuid, uid, uid, uid) != 0) _exit(1);
    // kill(-1) as the test uid: every process of that uid except this one, in one pass that
    // fork cannot outrun (a process with SIGKILL pending cannot complete a fork). kill(-1)
    // returns 0 whenever any other process exists, so its result says nothing: a second pass
    // after a millisecond is the safety margin.
    ::kill(-1, SIGKILL);
    struct timespec ts = {0, 1000000};
    ::nanosleep(&ts, nullptr);
    ::kill(-1, SIGKILL);
    _exit(0);
  }
  if (pid > 0) {
    int st;
    while (::waitpid(static_cast<pid_t>(pid), &st, 0) < 0 && errno == EINTR) {
    }
  }
}

const std::vector<std::string>& shared_scratch_dirs() {
  static const std::vector<std::string> dirs = {"/tmp", "/var/tmp", "/dev/shm", "/run/lock"};
  return dirs;
}

// Removes the System V shared memory segments, semaphore sets and message queues owned or
// created by one of `uids` (a run without an IPC namespace shares them with the machine).
static void sweep_sysv_ipc(const std::set<int>& uids) {
  struct Kind {
    const char* file;
    const char* id_column;
    int which;
  };
  for (const Kind& k : {Kind{"/proc/sysvipc/shm", "shmid", 0}, Kind{"/proc/sysvipc/sem", "semid", 1},
                        Kind{"/proc/sysvipc/msg", "msqid", 2}}) {
    std::string text;
    try {
      text = read_file(k.file);
    } catch (const std::exception&) {
      continue;
    }
    std::vector<std::string> lines = split(text, '\n');
    if (lines.empty()) continue;
    auto columns = [](const std::string& line) {
      std::vector<std::string> out;
      for (const std::string& w : split(line, ' '))
        if (!w.empty()) out.push_back(w);
      return out;
    };
    std::vector<std::string> head = columns(lines[0]);
    auto col = [&](const char* name) {
      for (size_t i = 0; i < head.size(); ++i)
        if (head[i] == name) return static_cast<int>(i);
      return -1;
    };
    int id_col = col(k.id_column), uid_col = col("uid"), cuid_col = col("cuid");
    if (id_col < 0 || uid_col < 0) continue;
    for (size_t l = 1; l < lines.size(); ++l) {
      std::vector<std::string> c = columns(lines[l]);
      if (static_cast<int>(c.size()) <= std::max({id_col, uid_col, cuid_col})) continue;
      bool ours = uids.count(std::atoi(c[static_cast<size_t>(uid_col)].c_str())) ||
                  (cuid_col >= 0 && uids.count(std::atoi(c[static_cast<size_t>(cuid_col)].c_str())));
      if (!ours) continue;
      int id = std::atoi(c[static_cast<size_t>(id_col)].c_str());
      if (k.which == 0) ::shmctl(id, IPC_RMID, nullptr);
      if (k.which == 1) ::semctl(id, 0, IPC_RMID);
      if (k.which == 2) ::msgctl(id, IPC_RMID, nullptr);
    }
  }
}

static void sweep_dirs(const std::set<int>& uids, const std::vector<std::string>& dirs, const std::string& keep) {
  for (const std::string& dir : dirs) {
    std::error_code ec;
    for (auto& e : fs::directory_iterator(dir, ec)) {
      struct stat st;
      if (::lstat(e.path().c_str(), &st) != 0 || !uids.count(static_cast<int>(st.st_uid))) continue;
      if (!keep.empty() && path_within(keep, e.path().string())) continue;
      try {
        remove_tree(e.path());
      } catch (const std::exception&) {
      }
    }
  }
}

static void sweep_uid(int uid, const std::vector<std::string>& dirs, const std::string& keep, bool ipc) {
  if (::geteuid() != 0 || uid <= 0) return;
  std::set<int> set = {uid};
  std::vector<std::string> all = dirs;
  if (fs::is_directory("/dev/mqueue")) all.push_back("/dev/mqueue");  // POSIX message queues
  sweep_dirs(set, all, keep);
  if (ipc) sweep_sysv_ipc(set);
}

void sweep_uid_files(const std::vector<int>& uids, const std::string& keep) {
  if (::geteuid() != 0) return;
  std::set<int> set(uids.begin(), uids.end());
  std::vector<std::string> dirs = shared_scratch_dirs();
  if (fs::is_directory("/dev/mqueue")) dirs.push_back("/dev/mqueue");
  sweep_dirs(set, dirs, keep);
  sweep_sysv_ipc(set);
}

// ----------------------------------------------------------------------------------------------
// What test users may reach
// ----------------------------------------------------------------------------------------------

std::vector<std::string> hide_all_but(const fs::path& root, const std::vector<fs::path>& keep) {
  std::error_code ec;
  fs::path r = fs::weakly_canonical(root, ec);
  if (ec || r.empty() || r == r.root_path()) return {};
  std::vector<std::string> keeps;
  for (const fs::path& k : keep) {
    fs::path kc = fs::weakly_canonical(k, ec);
    if (ec) continue;
    if (path_within(r.string(), kc.string())) return {};  // the root is inside a kept folder
    if (path_within(kc.string(), r.string())) keeps.push_back(kc.string());
  }
  if (keeps.empty()) return {r.string()};
  std::vector<std::string> out;
  std::vector<fs::path> todo = {r};
  while (!todo.empty()) {
    fs::path dir = todo.back();
    todo.pop_back();
    std::vector<fs::path> children;
    for (auto& e : fs::directory_iterator(dir, ec)) children.push_back(e.path());
    std::sort(children.begin(), children.end());
    for (const fs::path& c : children) {
      const std::string cs = c.string();
      bool kept = false, on_way = false;
      for (const std::string& k : keeps) {
        kept |= cs == k;
        on_way |= path_within(k, cs) && cs != k;
      }
      if (kept) continue;
      if (on_way) {
        todo.push_back(c);
        continue;
      }
      if (fs::is_symlink(fs::symlink_status(c, ec))) continue;
      out.push_back(cs);
    }
  }
  return out;
}

void forbid_others(const std::vector<std::string>& paths) {
  if (::geteuid() != 0) return;
  for (const std::string& p : paths) {
    struct stat st;
    if (::lstat(p.c_str(), &st) != 0 || S_ISLNK(st.st_mode)) continue;
    if (st.st_mode & S_IRWXO) ::chmod(p.c_str(), st.st_mode & 07770);
  }
}

fs::path link_executable(const fs::path& exe, const fs::path& dir) {
  fs::path target = dir / exe.filename();
  if (fs::weakly_canonical(exe) == fs::weakly_canonical(target)) return exe;
  std::error_code ec;
  fs::remove(target, ec);
  if (::link(exe.c_str(), target.c_str()) != 0) {
    fs::copy_file(exe, target, fs::copy_options::overwrite_existing, ec);
    if (ec) throw GradeError("cannot place " + exe.string() + " in " + dir.string() + ": " + ec.message());
    fs::permissions(target, fs::status(exe).permissions(), ec);
  }
  return target;
}

RunSpec tool_spec(const std::vector<std::string>& argv, const fs::path& out_dir, int uid, const fs::path& cwd) {
  RunSpec s;
  s.argv = argv;
  if (!s.argv.empty() && s.argv[0].find('/') == std::string::npos) {
    std::string found = which(s.argv[0]);
    if (!found.empty()) s.argv[0] = found;
  }
  fs::create_directories(out_dir);
  if (::geteuid() == 0 && uid >= 0) {
    if (::chown(out_dir.c_str(), static_cast<uid_t>(uid), static_cast<gid_t>(uid)) != 0)
      throw GradeError("cannot hand " + out_dir.string() + " to the test user");
    fs::permissions(out_dir, fs::perms(0700));
  }
  s.cwd = (cwd.empty() ? out_dir : cwd).string();
  s.env = {"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=" + out_dir.string(), "TMPDIR=" + out_dir.string(),
           "LANG=C.UTF-8", "LC_ALL=C.UTF-8"};
  s.timeout_s = 600;
  s.memory_bytes = 4ull << 30;
  s.max_file_size = 512ull << 20;
  s.max_output = 4u << 20;
  s.max_processes = 64;
  s.uid = s.gid = uid;
  return s;
}

// ----------------------------------------------------------------------------------------------
// Test uids
// ----------------------------------------------------------------------------------------------

static constexpr int kUidBase = 64100, kUidSpan = 400;

int hidden_gid() {
  static int gid = [] {
    for (int g = kUidBase - 1; g > kUidBase - 50; --g)
      if (::getgrgid(static_cast<gid_t>(g)) == nullptr) return g;
    return kUidBase - 1;
  }();
  return gid;
}

UidPool::UidPool(int count) {
  if (::geteuid() != 0) return;
  fs::path lock_dir = fs::exists("/run/lock") ? "/run/lock/mlsys-grader" : "/tmp/mlsys-grader-locks";
  std::error_code ec;
  fs::create_directories(lock_dir, ec);
  struct stat st;
  if (::lstat(lock_dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != 0)
    throw GradeError("lock directory " + lock_dir.string() + " is not a directory owned by root");
  ::chmod(lock_dir.c_str(), 0700);
  std::set<int> busy;
  for (auto& e : fs::directory_iterator("/proc", ec)) {
    struct stat ps;
    const std::string name = e.path().filename().string();
    if (!name.empty() && name[0] >= '1' && name[0] <= '9' && ::stat(e.path().c_str(), &ps) == 0)
      busy.insert(static_cast<int>(ps.st_uid));
  }
  for (int uid = kUidBase; uid < kUidBase + kUidSpan && static_cast<int>(uids_.size()) < count; ++uid) {
    if (busy.count(uid) || ::getpwuid(static_cast<uid_t>(uid)) != nullptr) continue;
    fs::path lock = lock_dir / ("uid-" + std::to_string(uid));
    int fd = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) continue;
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      ::close(fd);
      continue;
    }
    uids_.push_back(uid);
    lock_fds_.push_back(fd);
  }
  if (static_cast<int>(uids_.size()) < count)
    throw GradeError("could not find " + std::to_string(count) + " free test uids in " +
                     std::to_string(kUidBase) + ".." + std::to_string(kUidBase + kUidSpan - 1));
  for (int uid : uids_) kill_uid(uid);  // a crashed earlier grader may have left processes
}

UidPool::~UidPool() {
  for (int uid : uids_) kill_uid(uid);
  for (int fd : lock_fds_) ::close(fd);
}

}  // namespace grader
