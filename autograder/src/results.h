// autograder/src/results.h — what a grading produced, and the four ways of writing it out.
//
//   gradescope  Gradescope's results.json (score, execution_time, output, tests[], leaderboard)
//   classroom   GitHub Classroom's autograding result ({version: 1, status, max_score, tests[]},
//               what autograding-grading-reporter reads from <RUNNER>_RESULTS, base64-encoded)
//   markdown    a summary for CI ($GITHUB_STEP_SUMMARY) and people
//   table       the console table
//   json        the grader's own record of everything (used by tests and batch mode)
#pragma once

#include <cmath>
#include <map>
#include <string>
#include <vector>

namespace grader {

// One gtest case of one rubric group.
struct CaseResult {
  std::string task, target, name, filter;
  bool hidden = false, requires_gpu = false;
  double points = 0, max_points = 0;
  std::string status;  // "passed", "failed", "not_graded"
  std::string reason;  // one line: "timed out after 10 s", "killed by SIGSEGV", ...
  std::string output;  // failure messages and output tail; never shown for hidden cases
  // Local grading: the case stopped at another task's unfinished code ("1.3"). Officially that
  // task would be the staff's, so the case is left out of the local score.
  std::string needs_task;
  double seconds = 0;
};

// One performance item.
struct PerfResult {
  std::string id, task, title, reference;
  bool requires_gpu = false;
  std::string status;  // "passed" (some tier reached), "failed", "not_graded"
  double points = 0, max_points = 0;
  double ratio = std::nan("");  // median over the runs
  std::vector<double> ratios;
  double ours_ms = std::nan(""), ref_ms = std::nan("");
  std::string reason, output;
  std::string tiers;  // "0.5x: 3, 0.25x: 1"
  std::string needs_task;  // local grading: the benchmark stopped at another task's unfinished code
};

struct TaskResult {
  std::string id, title;
  bool build_ok = true;
  std::string build_errors;  // trimmed compiler output (student-visible)
  std::string build_source;  // "reference build", "cached build", "built", "not built"
  std::string not_graded;    // why none of the task is graded on this machine ("" when some is)
  double score = 0, max_score = 0;          // tests and performance items
  double test_score = 0, test_max_score = 0;  // the tests alone
  int passed = 0, total = 0;                  // test cases
  int awaiting = 0;                           // local grading: cases that need another task
  double awaiting_points = 0;
};

struct GradeResult {
  std::string pa, title;
  std::string mode;        // "official" (staff tree: tasks isolated) or "local" (student release)
  std::string submission;  // what was graded
  double score = 0, max_score = 0;
  std::vector<TaskResult> tasks;
  std::vector<CaseResult> cases;
  std::vector<PerfResult> performance;
  std::vector<std::string> files_taken;    // "pa1_autodiff/src/x.cpp (from x.cpp)"
  std::vector<std::string> files_starter;  // student files the submission lacked
  std::vector<std::string> files_ignored;
  std::vector<std::string> notes;          // shown to the student
  std::vector<std::string> review;         // flagged constructs, for staff
  // Passing cases whose reference run recorded no output: their verdict rests on the test
  // process's own report, which the code under test can forge (staff: add records).
  std::vector<std::string> unverified;
  std::string sandbox;
  std::vector<std::string> sandbox_gaps;
  bool gpu = false;
  std::string internal_error;  // non-empty: the grader failed; score is 0
  std::map<std::string, double> timings;
  double seconds = 0;
};

std::string to_gradescope(const GradeResult& r);
std::string to_classroom(const GradeResult& r);
std::string to_markdown(const GradeResult& r);
std::string to_table(const GradeResult& r, bool color = false);
std::string to_json(const GradeResult& r);
// For batch mode: a GradeResult back from to_json (score, tasks and the error suffice).
GradeResult from_json(const std::string& text);

// Fills a task row's counts and points from the graded cases and performance items of task
// `tr.id` (the one rule for both a grading and a merge of CPU and GPU gradings): cases "not
// graded" on this machine count nowhere; cases and items that need another unfinished task
// (local grading) go to `awaiting`; everything else to the score. A task none of whose cases
// could be graded here, and with no performance points, gets `not_graded` set to the first
// such case's reason.
void tally_task(TaskResult& tr, const std::vector<CaseResult>& cases, const std::vector<PerfResult>& performance);

}  // namespace grader
