// autograder/src/rubric.h — the rubric of one PA (schema "mlsys-rubric/1"), loaded and checked.
//
//   {
//     "schema": "mlsys-rubric/1", "pa": "pa1", "title": "...",
//     "student_files": ["pa1_autodiff/src/autodiff.cpp", ...],
//     "tasks": [{"id": "2.1", "title": "...", "files": [...],
//                "tests": [{"target": "pa1_task2_1_tests", "filter": "*", "points": 4,
//                           "visibility": "visible", "requires_gpu": false}, ...]}],
//     "performance": [{"id": "mlp_step", "task": "4", "title": "...", "benchmark": "pa1_bench",
//                      "item": "mlp_step_digits", "reference": "Eigen", "requires_gpu": false,
//                      "tiers": [{"min_ratio": 0.5, "points": 3}, {"min_ratio": 0.25, "points": 1}]}]
//   }
//
// Optional fields (defaults in brackets): per test group "timeout_s" [limits.timeout_s]; per
// performance item "runs" [3], "timeout_s" [300]; per task "hidden_points" [0] (only in the
// student release, where hidden groups are removed); top level "limits" {"timeout_s" [10],
// "memory_mb" [4096], "processes" [256], "output_kb" [1024]} and "cmake_options" {NAME: VALUE}.
// "$comment" is allowed in every object. Anything else is an error, so typos do not pass
// silently. docs/GRADING.md documents the schema.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace grader {

struct TestGroup {
  std::string target;      // a CMake test executable
  std::string filter;      // a gtest filter: patterns separated by ':', negatives after '-'
  double points = 0;       // split evenly over the cases the filter matches
  bool hidden = false;     // "visibility": "hidden"
  bool requires_gpu = false;
  double timeout_s = 0;    // 0: the rubric's limits.timeout_s
};

struct Task {
  std::string id, title;
  std::vector<std::string> files;
  std::vector<TestGroup> tests;
  double hidden_points = 0;  // release rubrics only: points of the removed hidden groups
};

struct Tier {
  double min_ratio = 0, points = 0;
};

struct PerfItem {
  std::string id, task, title, benchmark, item, reference;
  bool requires_gpu = false;
  std::vector<Tier> tiers;  // sorted by min_ratio, highest first
  int runs = 3;             // benchmark processes; the grader takes the median ratio
  double timeout_s = 300;
  int threads = 0;          // OMP_NUM_THREADS of the benchmark processes; 0: the default (all cores)
  int repeats = 20;         // timed repeats per measured process (mlsys/bench.h, Side)
  double reference_ms = 0;  // > 0: a fixed budget per repeat instead of a measured reference
  std::string measure = "time";  // "time", or "memory" (peak memory without / with the repeats)
  std::string clock = "wall";    // "wall", or "cpu" (user + system time: for one-thread items,
                                 // far steadier on a busy machine, and extra threads cannot help)
  double max_points() const;
};

struct Limits {
  double timeout_s = 10;
  double memory_mb = 4096;
  int processes = 256;
  double output_kb = 1024;
  double tests_s = 600;        // all test cases of a grading together (then the rest are not run)
  double performance_s = 600;  // all performance items together
};

// A symbol a student object may not define or reference (PA2: Eigen, cuBLAS), matched against
// demangled names; `why` is the student's message ("student files may not call Eigen: ...").
// `files`: the student files the rule applies to (empty: every student file), e.g. PA3's
// collectives.cpp may not call the runtime's native collectives that later tasks must use.
struct ForbiddenSymbol {
  std::string pattern, why;
  std::vector<std::string> files;

  bool applies_to(const std::string& file) const;
};

struct Rubric {
  std::string path;  // where it was loaded from
  std::string pa, title;
  std::vector<std::string> student_files;
  std::vector<Task> tasks;
  std::vector<PerfItem> performance;
  Limits limits;
  std::map<std::string, std::string> cmake_options;
  std::vector<ForbiddenSymbol> forbidden_symbols;

  const Task* task(const std::string& id) const;
  // The tasks whose "files" include `file`.
  std::vector<const Task*> tasks_of_file(const std::string& file) const;
  // Points of the task: its groups (visible and hidden), hidden_points and its performance items.
  double task_points(const Task& t) const;
  double total_points() const;
};

// Loads and validates; throws GradeError listing every problem ("pa1.json: tasks[2].tests[0]
// .points: expected a number > 0, got \"4\"").
Rubric load_rubric(const std::string& path);
Rubric parse_rubric(const std::string& text, const std::string& name);

// The handout's one grading table (Markdown): points per task (hidden tests as points only)
// and, when there are performance items, each task's items with their tiers.
std::string rubric_table(const Rubric& r);

// The rubric for the student release: hidden groups removed, their points kept per task as
// "hidden_points". Returns JSON text.
std::string public_rubric_json(const std::string& rubric_text);

// gtest filter semantics: "A*:B.c-*Slow*:Bad.*" (positive patterns, then negatives).
bool gtest_filter_matches(const std::string& filter, const std::string& name);

}  // namespace grader
