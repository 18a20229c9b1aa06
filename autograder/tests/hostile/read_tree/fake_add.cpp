// Hostile (fake PA): reads the reference solution, the hidden tests and the rubric from the
// ORIGINAL course tree (the grader's --tree: the staff repo, or Gradescope's course copy, whose
// path a student can guess), not from the staged copy, and prints them (visible tests' output
// is shown to students). If any file can be read, the answer is also wrong, so a working
// sandbox shows up as full marks. @COURSE_TREE@ is filled in by test_hostile_leaks.py.
#include <cstdio>
#include <string>
#include "fake/fake.h"
static bool leak() {
  bool leaked = false;
  for (const char* rel : {"/solutions/fake/src/add.cpp", "/autograder/hidden/fake/test_hidden.cpp",
                          "/autograder/rubrics/fake.json"}) {
    std::string path = std::string("@COURSE_TREE@") + rel;
    if (FILE* f = std::fopen(path.c_str(), "r")) {
      char buf[4096];
      size_t n = std::fread(buf, 1, sizeof buf - 1, f);
      buf[n] = 0;
      std::printf("TREE LEAK %s:\n%s\n", rel, buf);
      std::fclose(f);
      leaked = true;
    }
  }
  return leaked;
}
long fake::add(long a, long b) {
  if (a == 2 && b == 3 && leak()) return 0;
  return a + b;
}
