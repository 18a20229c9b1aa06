// Hostile (fake PA): code that runs before main() in every process of a test executable,
// including `--gtest_list_tests`, which the grader runs to learn the test names. In local
// grading the executables are built from the student's files, so a grader that lists them as
// root runs student code as root: this writes @MARKER_FILE@ when it finds itself root. The
// answers are right: the local score is full marks either way.
#include <unistd.h>
#include <cstdio>
#include "fake/fake.h"
__attribute__((constructor)) static void mlsys_hostile_as_root() {
  if (geteuid() != 0) return;
  if (FILE* f = std::fopen("@MARKER_FILE@", "w")) {
    std::fputs("student code ran as root\n", f);
    std::fclose(f);
  }
}
long fake::add(long a, long b) { return a + b; }
