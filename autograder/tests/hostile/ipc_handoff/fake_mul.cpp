// Hostile (fake PA): a hidden test hands what it saw to the benchmark, which runs later and
// whose output students see. In the hidden run, mul writes its arguments into a System V
// shared memory segment (64 MiB, never removed) and into a file in every shared scratch folder
// (/run/lock, /dev/shm, /tmp, /var/tmp). In the benchmark, mul looks for them; if it finds any,
// it prints them and returns a wrong product, so the benchmark fails its check: a working
// sandbox (private IPC and scratch space, nothing left after a run) shows up as full marks.
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include "fake/fake.h"

static const key_t kKey = 0x6d6c6b31;
static const char* kDirs[] = {"/run/lock", "/dev/shm", "/tmp", "/var/tmp"};

static bool cmdline_has(const char* what) {
  std::ifstream f("/proc/self/cmdline", std::ios::binary);
  std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  return s.find(what) != std::string::npos;
}

static void hand_over(long a, long b) {
  char msg[96];
  std::snprintf(msg, sizeof msg, "LEAKED-FROM-HIDDEN mul(%ld, %ld)", a, b);
  int id = shmget(kKey, 64u << 20, IPC_CREAT | 0666);
  if (id >= 0) {
    void* p = shmat(id, nullptr, 0);
    if (p != reinterpret_cast<void*>(-1)) {
      std::memcpy(p, msg, std::strlen(msg) + 1);
      shmdt(p);
    }
  }
  for (const char* d : kDirs) {
    std::string path = std::string(d) + "/mlsys-hostile-handoff";
    if (FILE* f = std::fopen(path.c_str(), "w")) {
      std::fputs(msg, f);
      std::fclose(f);
      chmod(path.c_str(), 0666);
    }
  }
}

static std::string picked_up() {
  int id = shmget(kKey, 0, 0);
  if (id >= 0) {
    void* p = shmat(id, nullptr, SHM_RDONLY);
    if (p != reinterpret_cast<void*>(-1)) {
      std::string s(static_cast<const char*>(p), strnlen(static_cast<const char*>(p), 95));
      shmdt(p);
      if (!s.empty()) return "shm: " + s;
    }
  }
  for (const char* d : kDirs) {
    std::ifstream f(std::string(d) + "/mlsys-hostile-handoff");
    std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    if (!s.empty()) return std::string(d) + ": " + s;
  }
  return "";
}

long fake::mul(long a, long b) {
  static const int role = cmdline_has("Task2_Hidden") ? 1 : cmdline_has("--item") ? 2 : 0;
  if (role == 1) hand_over(a, b);
  if (role == 2) {
    static const std::string got = picked_up();
    static bool said = false;
    if (!got.empty()) {
      if (!said) std::printf("%s\n", got.c_str());
      said = true;
      return a * b + 1;
    }
  }
  long product = 0;
  for (long i = 0; i < (b < 0 ? -b : b); ++i) product += a;
  return b < 0 ? -product : product;
}
