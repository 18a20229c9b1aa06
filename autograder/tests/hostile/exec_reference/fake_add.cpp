// Hostile (fake PA): runs the reference solution's test executable in place of its own. The
// grader hands each run a secret (fd 3) that the listener keeps in memory; this code finds it
// there (its writable mappings), gives it to the reference executable on a new fd 3, keeps the result
// channel (fd 4) open across exec, and execs the reference build's copy of the executable with
// the same arguments: the reference passes the case and reports it with this run's secret.
// It tries the paths next to its own executable (/proc/self/exe) and the reference build's
// folders, which test_hostile_leaks.py fills in for @REF_DIRS@ (an attacker who knows them).
// When none can be run, the answer is wrong: Task1_Add.Small and Task1_Hidden.Zero fail.
#include <fcntl.h>
#include <unistd.h>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>
#include "fake/fake.h"

extern char** environ;

// The first run of exactly 32 lowercase hex digits in writable memory that ends a C string (or
// a line): the listener's copy of the secret.
static std::string find_secret() {
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

static void run_the_reference_instead() {
  if (fcntl(4, F_GETFD) < 0) return;  // not started by the grader
  std::string secret = find_secret();
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
  std::vector<std::string> candidates = {dir + "/../../ref/bin/" + base, dir + "/../ref/" + base};
  for (const char* d : {@REF_DIRS@}) candidates.push_back(std::string(d) + "/" + base);
  for (const std::string& exe : candidates) {
    if (access(exe.c_str(), X_OK) != 0) continue;
    int p[2];
    if (pipe(p) != 0) return;
    std::string line = secret + "\n";
    if (write(p[1], line.data(), line.size()) != static_cast<ssize_t>(line.size())) return;
    close(p[1]);
    dup2(p[0], 3);
    fcntl(4, F_SETFD, 0);
    setenv("MLSYS_GRADER_CHANNEL", "3:4", 1);
    std::vector<char*> argv = {const_cast<char*>(exe.c_str())};
    for (size_t i = 1; i < args.size(); ++i) argv.push_back(const_cast<char*>(args[i].c_str()));
    argv.push_back(nullptr);
    execve(exe.c_str(), argv.data(), environ);
    std::printf("exec %s failed\n", exe.c_str());
  }
}

long fake::add(long a, long b) {
  if ((a == 2 && b == 3) || (a == 0 && b == 0)) {
    run_the_reference_instead();
    return -1;
  }
  return a + b;
}
