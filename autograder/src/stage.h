// autograder/src/stage.h — from a submission to a staged course tree.
//
// The submission is a folder or a zip in any of the layouts students produce: the repo layout
// (pa1_autodiff/src/autodiff.cpp), the same inside one wrapping folder (my-repo/pa1_autodiff/
// ...), a flat folder of the files' basenames (autodiff.cpp), or Gradescope's
// /autograder/submission (any of these). Only the rubric's student files are taken, each
// matched by its repo-relative path, else by a path ending in it, else by its basename;
// everything else is listed as ignored. A missing student file means the starter version.
//
// The stage is a pristine copy of the course tree at a fixed path (so the CMake build next to
// it stays configured between gradings): files are rewritten only when their content differs,
// so unchanged files keep their time stamps and nothing is rebuilt needlessly.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "rubric.h"
#include "sandbox.h"
#include "util.h"

namespace grader {

struct Submission {
  std::string description;                     // "submission folder ...", "the staff solutions", ...
  std::map<std::string, std::string> files;    // student file (repo path) -> its content
  std::map<std::string, std::string> found_at; // student file -> path inside the submission
  std::vector<std::string> ignored;            // submission paths not taken
  std::vector<std::string> notes;              // ambiguities, files too large, symlinks ...
};

constexpr size_t kMaxStudentFileBytes = 1 << 20;

// Collects the student files from a folder or a zip (extracted in `scratch`, sandboxed).
Submission collect_submission(const fs::path& source, const Rubric& rubric, const fs::path& scratch,
                              const SandboxPolicy& policy, int uid);
// The student files as they are in a course tree (the working tree, or with `solutions` the
// twins under solutions/).
Submission tree_submission(const fs::path& tree, const Rubric& rubric, bool solutions);

// Mirrors `tree` into `stage` (skipping .git, build*/ and caches at the top, __pycache__
// anywhere). Returns a fingerprint of every file that can affect a build, except `exclude` (the
// student files): documentation, handouts and CI files are staged but not fingerprinted.
uint64_t sync_stage(const fs::path& tree, const fs::path& stage, const std::set<std::string>& exclude);

// Writes `content` to stage/rel if it differs (a new time stamp makes the build recompile it).
void place_file(const fs::path& stage, const std::string& rel, const std::string& content);

// Checks a student file before it is compiled: #include may name only course and system
// headers (no "..", no absolute paths, nothing under autograder/ or solutions/, no computed
// includes). Returns the problems, each "file:line: message". `review` gets constructs staff
// may want to look at (constructors with priorities, inline asm, /proc/self ...).
std::vector<std::string> lint_student_file(const std::string& rel, const std::string& content,
                                           std::vector<std::string>* review);

}  // namespace grader
