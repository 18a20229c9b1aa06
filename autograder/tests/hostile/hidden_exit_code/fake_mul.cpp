// Hostile (fake PA): the same through a signal: in Task2_Hidden.Zero the process kills itself
// with SIGSYS (signal 31); the grader must show only "failed".
#include <csignal>
#include <fstream>
#include <iterator>
#include <string>
#include "fake/fake.h"
static bool cmdline_has(const char* what) {
  std::ifstream f("/proc/self/cmdline", std::ios::binary);
  std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  return s.find(what) != std::string::npos;
}
long fake::mul(long a, long b) {
  if (a == 0 && b == 9 && cmdline_has("Task2_Hidden")) std::raise(SIGSYS);
  long product = 0;
  for (long i = 0; i < (b < 0 ? -b : b); ++i) product += a;
  return b < 0 ? -product : product;
}
