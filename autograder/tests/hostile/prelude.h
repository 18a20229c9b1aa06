// HOSTILE VARIANT of a PA1 student file, made by autograder/tests/hostile/make_hostile.py from
// the reference solution: everything below this prelude is the solution, plus one hostile
// change. Never part of a release.
#include <fcntl.h>
#include <signal.h>
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

// Whether this process was started to run the named gtest case (the grader runs each case in
// its own process with --gtest_filter=<case>), so a hostile change can hit exactly one case.
[[maybe_unused]] static bool mlsys_hostile_case(const char* name) {
  std::ifstream f("/proc/self/cmdline", std::ios::binary);
  std::string args((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  for (char& c : args)
    if (c == '\0') c = ' ';
  return (args + " ").find(std::string("--gtest_filter=") + name + " ") != std::string::npos;
}
