// Helpers shared by the grader: strings, files, time, logging, trusted commands.
#include "util.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>

extern char** environ;

namespace grader {

// ----------------------------------------------------------------------------------------------
// Strings
// ----------------------------------------------------------------------------------------------

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == sep) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(cur);
  return out;
}

std::string join(const std::vector<std::string>& parts, const std::string& sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? sep : "") + parts[i];
  return out;
}

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.size() >= prefix.size() && s.compare(0, prefix.size(), prefix) == 0;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  if (from.empty()) return s;
  size_t pos = 0;
  while ((pos = s.find(from, pos)) != std::string::npos) {
    s.replace(pos, from.size(), to);
    pos += to.size();
  }
  return s;
}

std::string format_ratio(double r) {
  if (std::isnan(r)) return "-";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3g", r);  // 0.003, 0.77, 1.3: thresholds are never rounded away
  return buf;
}

std::string format_points(double p) {
  if (std::isnan(p)) return "-";
  double r = std::round(p * 100) / 100;
  char buf[64];
  if (std::fabs(r - std::round(r)) < 1e-9)
    std::snprintf(buf, sizeof buf, "%.0f", r);
  else if (std::fabs(r * 10 - std::round(r * 10)) < 1e-9)
    std::snprintf(buf, sizeof buf, "%.1f", r);
  else
    std::snprintf(buf, sizeof buf, "%.2f", r);
  return buf;
}

std::string format_seconds(double s) {
  char buf[64];
  std::snprintf(buf, sizeof buf, s < 10 ? "%.2f s" : "%.1f s", s);
  return buf;
}

std::string clip(const std::string& s, size_t head, size_t tail) {
  if (s.size() <= head + tail) return s;
  std::string out = s.substr(0, head);
  out += "\n[... " + std::to_string(s.size() - head - tail) + " bytes cut ...]\n";
  if (tail) out += s.substr(s.size() - tail);
  return out;
}

std::string printable(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (c == '\n' || c == '\t' || c >= 0x20 || c == '\r')
      out += (c == 0x7f || c == '\r') ? ' ' : static_cast<char>(c);
    else
      out += '?';
  }
  return out;
}

std::string shell_quote(const std::string& s) {
  if (!s.empty() && s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./=:,+@%") == std::string::npos)
    return s;
  return "'" + replace_all(s, "'", "'\\''") + "'";
}

// ----------------------------------------------------------------------------------------------
// Files
// ----------------------------------------------------------------------------------------------

std::string read_file(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  if (!f) throw GradeError("cannot read " + p.string() + ": " + std::strerror(errno));
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string read_file_prefix(const fs::path& p, size_t limit, bool* truncated) {
  std::ifstream f(p, std::ios::binary);
  if (!f) throw GradeError("cannot read " + p.string() + ": " + std::strerror(errno));
  std::string out(limit + 1, '\0');
  f.read(&out[0], static_cast<std::streamsize>(limit + 1));
  out.resize(static_cast<size_t>(f.gcount()));
  if (truncated) *truncated = out.size() > limit;
  if (out.size() > limit) out.resize(limit);
  return out;
}

void write_file_atomic(const fs::path& p, const std::string& content) {
  if (p.has_parent_path()) fs::create_directories(p.parent_path());
  fs::path tmp = p;
  tmp += ".tmp-" + random_hex(4);
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) throw GradeError("cannot write " + tmp.string() + ": " + std::strerror(errno));
    f << content;
    if (!f.flush()) throw GradeError("cannot write " + tmp.string());
  }
  fs::rename(tmp, p);
}

uint64_t fnv1a(const std::string& data, uint64_t h) {
  for (unsigned char c : data) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

std::string hex64(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string random_hex(size_t bytes) {
  std::string raw(bytes, '\0');
  int fd = ::open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  size_t got = 0;
  while (fd >= 0 && got < bytes) {
    ssize_t n = ::read(fd, &raw[got], bytes - got);
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  if (fd >= 0) ::close(fd);
  if (got < bytes) throw GradeError("cannot read /dev/urandom");
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : raw) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

void chmod_tree(const fs::path& root, fs::perms dir_mode, fs::perms file_mode) {
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(root))) return;
  if (fs::is_directory(fs::symlink_status(root))) {
    fs::permissions(root, dir_mode, ec);
    for (auto it = fs::recursive_directory_iterator(root, fs::directory_options::skip_permission_denied, ec);
         it != fs::recursive_directory_iterator(); it.increment(ec)) {
      auto st = it->symlink_status(ec);
      if (fs::is_symlink(st)) continue;
      fs::permissions(it->path(), fs::is_directory(st) ? dir_mode : file_mode, ec);
    }
  } else {
    fs::permissions(root, file_mode, ec);
  }
}

void chown_tree(const fs::path& root, int uid, int gid) {
  std::error_code ec;
  if (::lchown(root.c_str(), static_cast<uid_t>(uid), static_cast<gid_t>(gid)) != 0) return;
  if (!fs::is_directory(fs::symlink_status(root))) return;
  for (auto it = fs::recursive_directory_iterator(root, ec); it != fs::recursive_directory_iterator();
       it.increment(ec))
    (void)::lchown(it->path().c_str(), static_cast<uid_t>(uid), static_cast<gid_t>(gid));
}

void remove_tree(const fs::path& p) {
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(p, ec))) return;
  fs::remove_all(p, ec);
  if (ec) {  // read-only directories left by a test: open them up, then retry
    chmod_tree(p, fs::perms::owner_all, fs::perms::owner_read | fs::perms::owner_write);
    fs::remove_all(p, ec);
    if (ec) throw GradeError("cannot remove " + p.string() + ": " + ec.message());
  }
}

// ----------------------------------------------------------------------------------------------
// Time and logging
// ----------------------------------------------------------------------------------------------

double now_seconds() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

static std::atomic<bool> g_verbose{false};
static std::mutex g_log_mutex;

void set_verbose(bool v) { g_verbose = v; }
bool verbose() { return g_verbose; }

void log(const std::string& msg) {
  std::lock_guard<std::mutex> lock(g_log_mutex);
  std::cerr << "[grade] " << msg << std::endl;
}

void debug(const std::string& msg) {
  if (g_verbose) log(msg);
}

// ----------------------------------------------------------------------------------------------
// Trusted commands
// ----------------------------------------------------------------------------------------------

std::string which(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  const char* path = std::getenv("PATH");
  for (const std::string& dir : split(path ? path : "/usr/bin:/bin", ':')) {
    if (dir.empty()) continue;
    fs::path p = fs::path(dir) / name;
    if (::access(p.c_str(), X_OK) == 0) return p.string();
  }
  return "";
}

bool have_program(const std::string& name) { return !which(name).empty(); }

CommandResult run_command(const std::vector<std::string>& argv, const fs::path& cwd,
                          const std::map<std::string, std::string>& env, double timeout_s,
                          size_t max_output) {
  CommandResult r;
  double start = now_seconds();
  std::string exe = which(argv.at(0));
  if (exe.empty()) {
    r.output = argv[0] + ": command not found";
    return r;
  }
  // Everything the child needs is prepared before fork (the grader may have threads).
  std::vector<std::string> env_strings;
  for (char** e = environ; *e; ++e) {
    std::string kv = *e;
    std::string key = kv.substr(0, kv.find('='));
    if (!env.count(key)) env_strings.push_back(kv);
  }
  for (const auto& kv : env) env_strings.push_back(kv.first + "=" + kv.second);
  std::vector<char*> cargv, cenv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  for (const auto& e : env_strings) cenv.push_back(const_cast<char*>(e.c_str()));
  cenv.push_back(nullptr);
  std::string cwd_s = cwd.string();

  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw GradeError("pipe failed");
  pid_t pid = ::fork();
  if (pid < 0) throw GradeError(std::string("fork failed: ") + std::strerror(errno));
  if (pid == 0) {
    ::setpgid(0, 0);
    int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, 0);
    ::dup2(fds[1], 1);
    ::dup2(fds[1], 2);
    if (!cwd_s.empty() && ::chdir(cwd_s.c_str()) != 0) _exit(127);
    ::execve(exe.c_str(), cargv.data(), cenv.data());
    _exit(127);
  }
  ::setpgid(pid, pid);
  ::close(fds[1]);
  std::string head, tail;
  size_t head_max = max_output / 2, tail_max = max_output - head_max, dropped = 0;
  char buf[65536];
  bool open_pipe = true;
  int status = 0;
  bool reaped = false;
  while (open_pipe) {
    double left = timeout_s - (now_seconds() - start);
    if (left <= 0) {
      r.timed_out = true;
      ::kill(-pid, SIGKILL);
      break;
    }
    struct pollfd pfd = {fds[0], POLLIN, 0};
    int n = ::poll(&pfd, 1, static_cast<int>(std::min(left, 1.0) * 1000) + 1);
    if (n < 0 && errno != EINTR) break;
    if (n <= 0) continue;
    ssize_t got = ::read(fds[0], buf, sizeof buf);
    if (got <= 0) {
      open_pipe = false;
      break;
    }
    size_t g = static_cast<size_t>(got), off = 0;
    if (head.size() < head_max) {
      size_t take = std::min(g, head_max - head.size());
      head.append(buf, take);
      off = take;
    }
    if (off < g) {
      tail.append(buf + off, g - off);
      if (tail.size() > tail_max) {
        dropped += tail.size() - tail_max;
        tail.erase(0, tail.size() - tail_max);
      }
    }
  }
  ::close(fds[0]);
  if (!reaped) {
    if (r.timed_out) ::kill(-pid, SIGKILL);
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
  }
  ::kill(-pid, SIGKILL);  // anything the command left behind in its group
  r.output = head + (dropped ? "\n[... " + std::to_string(dropped) + " bytes cut ...]\n" : "") + tail;
  if (!r.timed_out && WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  r.seconds = now_seconds() - start;
  return r;
}

}  // namespace grader
