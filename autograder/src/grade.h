// autograder/src/grade.h — grading one submission of one PA, from files to a GradeResult.
//
//   1. collect   take the rubric's student files from the submission (stage.h)
//   2. stage     mirror the course tree into <work>/stage and put the student files in place
//   3. build     one configuration per task: the task's files from the submission, every other
//                student file from solutions/ (MLSYS_SOLUTION_FILES), plus a reference build
//                with all solutions whose test list is trusted. Builds are relinks in one build
//                folder, and their executables are cached by the content of the task's files,
//                so an untouched task (starter or solution) costs nothing after the first time
//   4. run       every test case in its own sandboxed process, visible cases first, then hidden
//   5. measure   each performance item: the benchmark's ratio to its reference, median of runs
//   6. score     points per case (a group's points split evenly), tiers per performance item
//
// In a student release (no solutions/) grading is "local": one build of the student's files,
// the visible tests and the performance items only. Anything that goes wrong inside the grader
// becomes GradeResult::internal_error (score 0), never an exception out of grade().
#pragma once

#include <string>

#include "results.h"
#include "util.h"

namespace grader {

struct GradeOptions {
  fs::path tree;        // the course tree: the staff repo, a student release, /autograder/source/course
  fs::path rubric;      // autograder/rubrics/paN.json
  fs::path submission;  // a folder or a zip; empty: the tree's own student files
  bool solution = false;  // grade the staff solutions (solutions/) as the submission
  fs::path work;        // stage, build folder, binary cache (kept between gradings)
  int jobs = 0;         // parallel builds and test runs; 0: every core
  bool allow_namespaces = true;
  bool force_local = false;  // grade like a student release even in the staff tree
  int cache_entries = 3;     // cached builds kept per set of task files
  bool skip_performance = false;  // report performance items as not measured (quick checks)
  // "gpu": grade only the groups and items with requires_gpu; "cpu": only the others; "": all.
  // The rest are reported as not graded in this run (staff grade the two halves on two machines
  // and join them with `mlsys_grade merge`, docs/GRADING.md §4).
  std::string only;
};

GradeResult grade(const GradeOptions& options);

// Compiler output cut down for a student: the first diagnostics, paths relative to the repo,
// nothing from hidden tests or solutions.
std::string trim_build_log(const std::string& log, const std::string& stage_dir);

}  // namespace grader
