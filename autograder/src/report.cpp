// Writing a GradeResult out: Gradescope, GitHub Classroom, Markdown, a console table, JSON.
#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>

#include "results.h"
#include "util.h"

namespace grader {

using nlohmann::json;

static std::string dump(const json& j) {
  return j.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

static std::string ratio_text(double r) {
  if (std::isnan(r)) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3gx", r);
  return buf;
}

static const TaskResult* find_task(const GradeResult& r, const std::string& id) {
  for (const TaskResult& t : r.tasks)
    if (t.id == id) return &t;
  return nullptr;
}

static std::string case_label(const GradeResult& r, const CaseResult& c) {
  const TaskResult* t = find_task(r, c.task);
  return "Task " + c.task + (t ? " " + t->title : "") + " | " + c.target + " | " + c.name;
}

// The failed cases, most useful first: failures of the student's own code (a crash, a wrong
// value, a timeout) grouped by task, then cases that stopped at an unfinished stub, then cases
// that need another task (local grading). Truncated lists cut only from the end.
static std::vector<const CaseResult*> failures_in_order(const GradeResult& r) {
  std::vector<const CaseResult*> out;
  auto rank = [](const CaseResult& c) {
    if (!c.needs_task.empty()) return 2;
    return c.reason.find("not implemented") != std::string::npos ? 1 : 0;
  };
  for (int k = 0; k < 3; ++k)
    for (const TaskResult& t : r.tasks)
      for (const CaseResult& c : r.cases)
        if (c.status == "failed" && c.task == t.id && rank(c) == k) out.push_back(&c);
  return out;
}

static size_t own_failures(const std::vector<const CaseResult*>& failed) {
  size_t n = 0;
  for (const CaseResult* c : failed) n += c->needs_task.empty() && c->reason.find("not implemented") == std::string::npos;
  return n;
}

// What a student may see of a case: everything for visible ones, the verdict for hidden ones.
static std::string case_output(const CaseResult& c) {
  if (c.status == "not_graded") return c.reason;
  if (c.hidden) return c.status == "passed" ? "passed (hidden test)" : "failed (hidden test)";
  if (c.status == "passed") return "";
  std::string out = c.reason;
  if (!c.output.empty()) out += "\n\n" + c.output;
  return out;
}

// The summary text shared by the Gradescope output and the Markdown details.
static std::string summary_text(const GradeResult& r) {
  std::ostringstream os;
  if (!r.internal_error.empty()) {
    os << "The autograder could not grade this submission (score 0). Please tell the course staff.\n"
       << "Error: " << r.internal_error << "\n\n";
  }
  os << r.pa << " — " << r.title << ": " << format_points(r.score) << " / " << format_points(r.max_score) << "\n";
  os << "Graded: " << r.submission << (r.mode == "local" ? " (local grading: visible tests only, tasks not isolated)" : "") << "\n";
  if (!r.files_taken.empty()) os << "Student files taken: " << join(r.files_taken, ", ") << "\n";
  if (!r.files_starter.empty()) os << "Not in the submission (the starter version was graded): " << join(r.files_starter, ", ") << "\n";
  if (!r.files_ignored.empty()) {
    std::vector<std::string> shown(r.files_ignored.begin(), r.files_ignored.begin() + std::min<size_t>(r.files_ignored.size(), 30));
    os << "Ignored (not student files of " << r.pa << "): " << join(shown, ", ")
       << (r.files_ignored.size() > 30 ? ", ... (" + std::to_string(r.files_ignored.size()) + " in all)" : "") << "\n";
  }
  for (const TaskResult& t : r.tasks)
    if (!t.build_ok) os << "\nTask " << t.id << " (" << t.title << ") did not build, so its tests score 0:\n" << t.build_errors << "\n";
  for (const std::string& n : r.notes) os << "Note: " << n << "\n";
  if (!r.sandbox.empty()) os << "Sandbox: " << r.sandbox << "\n";
  for (const std::string& g : r.sandbox_gaps) os << "  not enforced here: " << g << "\n";
  os << "Grading took " << format_seconds(r.seconds) << ".\n";
  return os.str();
}

// ----------------------------------------------------------------------------------------------
// Gradescope
// ----------------------------------------------------------------------------------------------

std::string to_gradescope(const GradeResult& r) {
  json doc;
  doc["score"] = r.internal_error.empty() ? r.score : 0.0;
  doc["execution_time"] = static_cast<int>(r.seconds + 0.5);
  doc["output"] = summary_text(r);
  doc["visibility"] = "visible";
  doc["stdout_visibility"] = "hidden";
  json tests = json::array();
  if (!r.internal_error.empty()) {
    tests.push_back({{"name", "Autograder error"}, {"score", 0}, {"max_score", 0}, {"status", "failed"},
                     {"output", r.internal_error}, {"visibility", "visible"}});
  } else {
    for (const TaskResult& t : r.tasks)
      if (!t.build_ok)
        tests.push_back({{"name", "Task " + t.id + " " + t.title + ": build"}, {"score", 0}, {"max_score", 0},
                         {"status", "failed"}, {"output", t.build_errors}, {"visibility", "visible"},
                         {"tags", {"task" + t.id, "build"}}});
    for (const CaseResult& c : r.cases) {
      json t = {{"name", case_label(r, c)}, {"score", c.points}, {"max_score", c.max_points},
                {"output", case_output(c)},
                {"visibility", c.hidden ? "after_published" : "visible"},
                {"tags", json::array({"task" + c.task})}};
      if (c.hidden) t["tags"].push_back("hidden");
      if (c.status == "not_graded") {
        t["tags"].push_back("not-graded");
      } else {
        t["status"] = c.status;
      }
      tests.push_back(t);
    }
    for (const PerfResult& p : r.performance) {
      std::string out = p.status == "not_graded" ? p.reason
                                                 : (std::isnan(p.ratio) ? p.reason
                                                                        : "speed ratio " + ratio_text(p.ratio) + " of " + p.reference +
                                                                              " (median of " + std::to_string(p.ratios.size()) + " runs)") +
                                                       "\ntiers: " + p.tiers + (p.output.empty() ? "" : "\n\n" + p.output);
      json t = {{"name", "Task " + p.task + " | performance | " + p.title}, {"score", p.points},
                {"max_score", p.max_points}, {"output", out}, {"visibility", "visible"},
                {"tags", {"task" + p.task, "performance"}}};
      if (p.status != "not_graded") t["status"] = p.status == "passed" ? "passed" : "failed";
      tests.push_back(t);
    }
  }
  doc["tests"] = tests;
  json board = json::array();
  for (const PerfResult& p : r.performance)
    if (!std::isnan(p.ratio)) board.push_back({{"name", p.title}, {"value", std::round(p.ratio * 1000) / 1000}, {"order", "desc"}});
  if (!board.empty()) doc["leaderboard"] = board;
  return dump(doc);
}

// ----------------------------------------------------------------------------------------------
// GitHub Classroom
// ----------------------------------------------------------------------------------------------

std::string to_classroom(const GradeResult& r) {
  json doc;
  doc["version"] = 1;
  json tests = json::array();
  bool all_passed = true;
  double max_score = 0;
  if (!r.internal_error.empty()) {
    tests.push_back({{"name", "autograder"}, {"status", "error"}, {"score", 0}, {"message", r.internal_error},
                     {"test_code", ""}, {"filename", ""}, {"line_no", 0}, {"duration", 0}});
  }
  for (const CaseResult& c : r.cases) {
    if (c.status == "not_graded") continue;
    all_passed &= c.status == "passed";
    max_score += c.max_points;
    tests.push_back({{"name", case_label(r, c)}, {"status", c.status == "passed" ? "pass" : "fail"},
                     {"score", c.points}, {"message", clip(case_output(c), 4000)}, {"test_code", c.target + " --gtest_filter=" + c.name},
                     {"filename", ""}, {"line_no", 0}, {"duration", static_cast<int>(c.seconds * 1000)}});
  }
  for (const PerfResult& p : r.performance) {
    if (p.status == "not_graded") continue;
    all_passed &= p.points >= p.max_points;
    max_score += p.max_points;
    tests.push_back({{"name", "Task " + p.task + " | performance | " + p.title},
                     {"status", p.points >= p.max_points ? "pass" : "fail"}, {"score", p.points},
                     {"message", std::isnan(p.ratio) ? p.reason : "ratio " + ratio_text(p.ratio) + " of " + p.reference + "; tiers: " + p.tiers},
                     {"test_code", ""}, {"filename", ""}, {"line_no", 0}, {"duration", 0}});
  }
  doc["status"] = !r.internal_error.empty() ? "error" : all_passed ? "pass" : "fail";
  doc["max_score"] = max_score;
  doc["tests"] = tests;
  return dump(doc);
}

// ----------------------------------------------------------------------------------------------
// Markdown and the console table
// ----------------------------------------------------------------------------------------------

static std::string md_escape(const std::string& s) { return replace_all(replace_all(s, "|", "\\|"), "\n", " "); }

std::string to_markdown(const GradeResult& r) {
  std::ostringstream os;
  os << "## " << r.pa << " — " << r.title << ": **" << format_points(r.score) << " / " << format_points(r.max_score) << "**\n\n";
  if (!r.internal_error.empty()) os << "> **The grader failed:** " << md_escape(r.internal_error) << "\n\n";
  os << "| Task | Title | Tests passed | Points |\n|---|---|---:|---:|\n";
  for (const TaskResult& t : r.tasks)
    if (!t.not_graded.empty())
      os << "| " << t.id << " | " << md_escape(t.title) << " | " << md_escape(t.not_graded) << " | – |\n";
    else
      os << "| " << t.id << " | " << md_escape(t.title) << (t.build_ok ? "" : " (**did not build**)") << " | " << t.passed
         << " / " << t.total << " | " << format_points(t.score) << " / " << format_points(t.max_score) << " |\n";
  os << "| **Total** | | | **" << format_points(r.score) << " / " << format_points(r.max_score) << "** |\n\n";
  if (!r.performance.empty()) {
    os << "| Performance | Task | Ratio | Tiers | Points |\n|---|---|---:|---|---:|\n";
    for (const PerfResult& p : r.performance)
      os << "| " << md_escape(p.title) << " | " << p.task << " | "
         << (p.status == "not_graded" ? md_escape(p.reason) : std::isnan(p.ratio) ? md_escape(p.reason) : ratio_text(p.ratio) + " of " + p.reference)
         << " | " << p.tiers << " | " << (p.status == "not_graded" ? "–" : format_points(p.points) + " / " + format_points(p.max_points)) << " |\n";
    os << "\n";
  }
  std::vector<const CaseResult*> failed = failures_in_order(r);
  int not_graded = 0;
  for (const CaseResult& c : r.cases) not_graded += c.status == "not_graded";
  if (not_graded) os << "_" << not_graded << " GPU test case(s) not graded here: no GPU (counted out of the maximum)._\n\n";
  if (!failed.empty()) {
    os << "<details><summary>Failed tests (" << failed.size() << ")</summary>\n\n";
    size_t shown = 0, limit = std::max<size_t>(60, own_failures(failed));
    for (const CaseResult* c : failed) {
      if (++shown > limit) {
        os << "- ... and " << failed.size() - limit << " more (not implemented yet, or needing another task)\n";
        break;
      }
      os << "- `" << c->name << "` (task " << c->task << (c->hidden ? ", hidden" : "") << "): " << md_escape(c->reason) << "\n";
      if (!c->hidden && !c->output.empty())
        os << "\n  ```\n  " << replace_all(replace_all(clip(c->output, 1500), "```", "'''"), "\n", "\n  ") << "\n  ```\n";
    }
    os << "\n</details>\n\n";
  }
  os << "<details><summary>Details</summary>\n\n```\n" << replace_all(summary_text(r), "```", "'''") << "```\n\n</details>\n";
  return os.str();
}

std::string to_table(const GradeResult& r, bool color) {
  auto paint = [&](const std::string& s, const char* code) { return color ? std::string("\033[") + code + "m" + s + "\033[0m" : s; };
  std::ostringstream os;
  char line[512];
  os << "\n" << r.pa << " — " << r.title << "  (" << r.mode << " grading of " << r.submission << ")\n";
  if (!r.internal_error.empty()) os << paint("grader error: " + r.internal_error, "31") << "\n";
  // Task rows carry the test points; each performance item has its own row below them.
  std::snprintf(line, sizeof line, "%-6s %-44s %12s %14s\n", "task", "title", "cases passed", "points");
  os << line << std::string(79, '-') << "\n";
  for (const TaskResult& t : r.tasks) {
    std::string title = t.title.size() > 44 ? t.title.substr(0, 41) + "..." : t.title;
    std::string tests = !t.not_graded.empty() ? (starts_with(t.not_graded, "not graded in this run") ? "not this run" : "no GPU")
                        : t.build_ok            ? std::to_string(t.passed) + "/" + std::to_string(t.total)
                                                : "no build";
    std::string pts = t.not_graded.empty() ? format_points(t.test_score) + " / " + format_points(t.test_max_score) : "not graded";
    std::snprintf(line, sizeof line, "%-6s %-44s %12s %14s\n", t.id.c_str(), title.c_str(), tests.c_str(), pts.c_str());
    bool full = t.test_score >= t.test_max_score - 1e-9;
    os << (t.not_graded.empty() ? paint(line, t.build_ok ? (full ? "32" : "33") : "31") : std::string(line));
    if (t.awaiting)
      os << "       " << t.awaiting << " more case(s), " << format_points(t.awaiting_points)
         << " point(s), need another task (not counted here; see below)\n";
  }
  for (const PerfResult& p : r.performance) {
    std::string title = "perf: " + p.title;
    if (title.size() > 44) title = title.substr(0, 41) + "...";
    bool skipped = p.reason.rfind("not measured", 0) == 0;
    std::string ratio = p.status == "not_graded" ? (skipped                                            ? "skipped"
                                                     : starts_with(p.reason, "not graded in this run") ? "not this run"
                                                                                                        : "no GPU")
                                                 : ratio_text(p.ratio);
    std::string pts = p.status == "not_graded" ? "not graded" : format_points(p.points) + " / " + format_points(p.max_points);
    if (!p.needs_task.empty()) {
      ratio = "needs " + p.needs_task;
      pts = "not counted";
    }
    std::snprintf(line, sizeof line, "%-6s %-44s %12s %14s\n", p.task.c_str(), title.c_str(), ratio.c_str(), pts.c_str());
    os << line;
  }
  os << std::string(79, '-') << "\n";
  std::string total = format_points(r.score) + " / " + format_points(r.max_score);
  std::snprintf(line, sizeof line, "%-64s %14s\n", "total", total.c_str());
  os << paint(line, "1");
  // Every failure of the student's own code is shown; only "not implemented yet" and "needs
  // Task ..." cases are cut after 25.
  std::vector<const CaseResult*> failed = failures_in_order(r);
  size_t limit = std::max<size_t>(25, own_failures(failed)), shown = 0;
  for (const CaseResult* c : failed) {
    if (++shown > limit) {
      os << "  ... " << failed.size() - limit << " more failed test cases (not implemented yet, or needing another task)\n";
      break;
    }
    os << "  failed: " << c->name << " (task " << c->task << (c->hidden ? ", hidden" : "") << "): " << c->reason << "\n";
  }
  for (const TaskResult& t : r.tasks)
    if (!t.build_ok) os << "\nTask " << t.id << " did not build:\n" << t.build_errors << "\n";
  for (const PerfResult& p : r.performance)
    if (p.status == "failed" && std::isnan(p.ratio)) os << "  performance " << p.id << ": " << p.reason << "\n";
  for (const std::string& n : r.notes) os << "note: " << n << "\n";
  if (!r.files_ignored.empty()) os << "ignored " << r.files_ignored.size() << " file(s) that are not student files\n";
  os << "graded in " << format_seconds(r.seconds);
  for (const auto& kv : r.timings) os << (kv.first == r.timings.begin()->first ? " (" : ", ") << kv.first << " " << format_seconds(kv.second);
  os << (r.timings.empty() ? "" : ")") << "\n";
  return os.str();
}

// ----------------------------------------------------------------------------------------------
// The grader's own JSON
// ----------------------------------------------------------------------------------------------

static json nan_safe(double v) { return std::isnan(v) ? json(nullptr) : json(v); }
static double num(const json& j, const char* key) {
  return j.contains(key) && j[key].is_number() ? j[key].get<double>() : std::nan("");
}

std::string to_json(const GradeResult& r) {
  json doc;
  doc["schema"] = "mlsys-grade-result/1";
  doc["pa"] = r.pa;
  doc["title"] = r.title;
  doc["mode"] = r.mode;
  doc["submission"] = r.submission;
  doc["score"] = r.score;
  doc["max_score"] = r.max_score;
  doc["internal_error"] = r.internal_error;
  doc["gpu"] = r.gpu;
  doc["sandbox"] = r.sandbox;
  doc["sandbox_gaps"] = r.sandbox_gaps;
  doc["seconds"] = r.seconds;
  doc["timings"] = r.timings;
  doc["files_taken"] = r.files_taken;
  doc["files_starter"] = r.files_starter;
  doc["files_ignored"] = r.files_ignored;
  doc["notes"] = r.notes;
  doc["review"] = r.review;
  doc["unverified"] = r.unverified;
  json tasks = json::array();
  for (const TaskResult& t : r.tasks)
    tasks.push_back({{"id", t.id}, {"title", t.title}, {"build_ok", t.build_ok}, {"build_errors", t.build_errors},
                     {"build_source", t.build_source}, {"not_graded", t.not_graded}, {"score", t.score}, {"max_score", t.max_score},
                     {"test_score", t.test_score}, {"test_max_score", t.test_max_score},
                     {"passed", t.passed}, {"total", t.total}, {"awaiting", t.awaiting},
                     {"awaiting_points", t.awaiting_points}});
  doc["tasks"] = tasks;
  json cases = json::array();
  for (const CaseResult& c : r.cases)
    cases.push_back({{"task", c.task}, {"target", c.target}, {"name", c.name}, {"filter", c.filter},
                     {"hidden", c.hidden}, {"requires_gpu", c.requires_gpu}, {"points", c.points},
                     {"max_points", c.max_points}, {"status", c.status}, {"reason", c.reason},
                     {"output", c.output}, {"needs_task", c.needs_task}, {"seconds", c.seconds}});
  doc["cases"] = cases;
  json perf = json::array();
  for (const PerfResult& p : r.performance)
    perf.push_back({{"id", p.id}, {"task", p.task}, {"title", p.title}, {"reference", p.reference},
                    {"requires_gpu", p.requires_gpu}, {"status", p.status}, {"points", p.points},
                    {"max_points", p.max_points}, {"ratio", nan_safe(p.ratio)}, {"ratios", p.ratios},
                    {"ours_ms", nan_safe(p.ours_ms)}, {"ref_ms", nan_safe(p.ref_ms)}, {"reason", p.reason},
                    {"output", p.output}, {"tiers", p.tiers}, {"needs_task", p.needs_task}});
  doc["performance"] = perf;
  return dump(doc);
}

GradeResult from_json(const std::string& text) {
  json doc = json::parse(text);
  GradeResult r;
  r.pa = doc.value("pa", "");
  r.title = doc.value("title", "");
  r.mode = doc.value("mode", "");
  r.submission = doc.value("submission", "");
  r.score = doc.value("score", 0.0);
  r.max_score = doc.value("max_score", 0.0);
  r.internal_error = doc.value("internal_error", "");
  r.seconds = doc.value("seconds", 0.0);
  for (const json& t : doc.value("tasks", json::array())) {
    TaskResult tr;
    tr.id = t.value("id", "");
    tr.title = t.value("title", "");
    tr.build_ok = t.value("build_ok", true);
    tr.score = t.value("score", 0.0);
    tr.max_score = t.value("max_score", 0.0);
    tr.passed = t.value("passed", 0);
    tr.total = t.value("total", 0);
    r.tasks.push_back(tr);
  }
  for (const json& p : doc.value("performance", json::array())) {
    PerfResult pr;
    pr.id = p.value("id", "");
    pr.task = p.value("task", "");
    pr.points = p.value("points", 0.0);
    pr.max_points = p.value("max_points", 0.0);
    pr.ratio = num(p, "ratio");
    pr.status = p.value("status", "");
    r.performance.push_back(pr);
  }
  return r;
}

void tally_task(TaskResult& tr, const std::vector<CaseResult>& cases, const std::vector<PerfResult>& performance) {
  int not_graded = 0;
  std::string why;
  for (const CaseResult& c : cases) {
    if (c.task != tr.id) continue;
    if (c.status == "not_graded") {
      if (!not_graded++) why = c.reason;
      continue;
    }
    if (!c.needs_task.empty()) {
      tr.awaiting++;
      tr.awaiting_points += c.max_points;
      continue;
    }
    tr.test_score += c.points;
    tr.test_max_score += c.max_points;
    tr.total++;
    tr.passed += c.status == "passed";
  }
  tr.score = tr.test_score;
  tr.max_score = tr.test_max_score;
  for (const PerfResult& p : performance) {
    if (p.task != tr.id) continue;
    if (!p.needs_task.empty()) {
      tr.awaiting_points += p.max_points;
      continue;
    }
    tr.score += p.points;
    tr.max_score += p.max_points;
  }
  // Nothing of this task could be graded here (e.g. its tests and items need a GPU).
  if (tr.total == 0 && not_graded > 0 && tr.max_score == 0) tr.not_graded = why;
}

}  // namespace grader
