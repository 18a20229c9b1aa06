// Hostile (fake PA): a hidden test's data sent out through its verdict. In Task1_Hidden.Zero
// the process exits with code 113 (8 bits of whatever the hidden test passed in); the grader
// must show that case as "failed" and nothing more, in every output format.
#include <unistd.h>
#include <fstream>
#include <iterator>
#include <string>
#include "fake/fake.h"
static bool cmdline_has(const char* what) {
  std::ifstream f("/proc/self/cmdline", std::ios::binary);
  std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  return s.find(what) != std::string::npos;
}
long fake::add(long a, long b) {
  if (a == 0 && b == 0 && cmdline_has("Task1_Hidden")) _exit(113);
  return a + b;
}
