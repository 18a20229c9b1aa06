// autograder/src/merge.h — joining the CPU and the GPU grading of one batch of submissions.
//
// Gradescope's machines have no GPU, so staff grade a batch twice: everything but the GPU items
// where the rest is graded (`mlsys_grade batch ... --only cpu`), and only the GPU items on a
// machine with a GPU (`--only gpu`). `mlsys_grade merge` joins the two folders into one:
//
//   per submission   the CPU grading's cases and items whose rubric group or item has
//                    requires_gpu false, plus the GPU grading's whose has requires_gpu true;
//                    task rows and totals recomputed from them (tally_task, as a grading does)
//   missing side     a submission absent from one folder (or whose grading there failed) gets
//                    that side's groups and items from the rubric, each failed, worth its full
//                    points, with the reason; the other side's points stand
//   output           <out>/<name>/results.json (Gradescope), grade.json, summary.md, and
//                    <out>/scores.csv (the columns of batch mode's scores.csv)
//
// The rubric decides which side a case belongs to (its group's requires_gpu), never the JSON.
#pragma once

#include <string>
#include <vector>

#include "results.h"
#include "rubric.h"
#include "util.h"

namespace grader {

// Everything to_json wrote, back (from_json keeps only what batch mode's CSV needs).
GradeResult read_grade_json(const std::string& text);

// One side of one submission: its grading, or why there is none usable.
struct MergeSide {
  bool usable = false;
  GradeResult result;
  std::string problem;  // "missing from graded-gpu/", "the grading failed: ...", ...
};

// The merged grading of one submission; `status` gets the CSV status ("ok", "gpu missing", ...).
GradeResult merge_results(const Rubric& rubric, const std::string& name, const MergeSide& cpu, const MergeSide& gpu,
                          std::string* status);

// scores.csv, shared with batch mode: the header, and one row per submission.
std::string scores_csv_header(const Rubric& rubric);
std::string scores_csv_row(const Rubric& rubric, const std::string& name, const GradeResult& r,
                           const std::string& status);

// Merges every submission found in either folder; writes <out>/<name>/* and <out>/scores.csv.
// Returns the number of submissions that lacked a usable grading on some side (logged by name).
int merge_folders(const Rubric& rubric, const fs::path& cpu_dir, const fs::path& gpu_dir, const fs::path& out);

}  // namespace grader
