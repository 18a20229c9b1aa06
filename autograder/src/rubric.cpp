// Loading, validating and printing rubrics ("mlsys-rubric/1"). See rubric.h.
#include "rubric.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "util.h"

namespace grader {

using nlohmann::json;

// ----------------------------------------------------------------------------------------------
// Validation: every problem is collected with its place, then reported together
// ----------------------------------------------------------------------------------------------

namespace {

class Checker {
 public:
  explicit Checker(std::string name) : name_(std::move(name)) {}

  void problem(const std::string& where, const std::string& msg) {
    problems_.push_back(name_ + ": " + where + (where.empty() ? "" : ": ") + msg);
  }

  static std::string show(const json& v) {
    std::string s = v.dump(-1, ' ', false, json::error_handler_t::replace);
    return s.size() > 60 ? s.substr(0, 57) + "..." : s;
  }

  // Reports keys of `obj` that are not in `allowed` (and not "$comment").
  void only_keys(const json& obj, const std::string& where, const std::set<std::string>& allowed) {
    for (auto it = obj.begin(); it != obj.end(); ++it) {
      if (it.key() == "$comment" || allowed.count(it.key())) continue;
      std::vector<std::string> names(allowed.begin(), allowed.end());
      problem(where, "unknown field \"" + it.key() + "\" (allowed: " + join(names, ", ") + ")");
    }
  }

  bool object(const json& v, const std::string& where) {
    if (v.is_object()) return true;
    problem(where, "expected an object, got " + show(v));
    return false;
  }

  std::string string(const json& obj, const std::string& key, const std::string& where, bool required = true,
                     const std::string& pattern = "", const std::string& pattern_help = "") {
    std::string at = where.empty() ? key : where + "." + key;
    if (!obj.contains(key)) {
      if (required) problem(at, "missing (a string)");
      return "";
    }
    const json& v = obj[key];
    if (!v.is_string() || v.get<std::string>().empty()) {
      problem(at, "expected a non-empty string, got " + show(v));
      return "";
    }
    std::string s = v.get<std::string>();
    if (!pattern.empty() && !std::regex_match(s, std::regex(pattern)))
      problem(at, "\"" + s + "\" is not " + pattern_help);
    return s;
  }

  double number(const json& obj, const std::string& key, const std::string& where, bool required,
                double fallback, double min_exclusive) {
    std::string at = where.empty() ? key : where + "." + key;
    if (!obj.contains(key)) {
      if (required) problem(at, "missing (a number)");
      return fallback;
    }
    const json& v = obj[key];
    if (!v.is_number() || !std::isfinite(v.get<double>()) || v.get<double>() <= min_exclusive) {
      problem(at, "expected a number > " + format_points(min_exclusive) + ", got " + show(v));
      return fallback;
    }
    return v.get<double>();
  }

  bool boolean(const json& obj, const std::string& key, const std::string& where, bool fallback) {
    if (!obj.contains(key)) return fallback;
    if (!obj[key].is_boolean()) {
      problem(where + "." + key, "expected true or false, got " + show(obj[key]));
      return fallback;
    }
    return obj[key].get<bool>();
  }

  const std::vector<std::string>& problems() const { return problems_; }

 private:
  std::string name_;
  std::vector<std::string> problems_;
};

const char* kSchema = "mlsys-rubric/1";
const char* kRelPath = R"([A-Za-z0-9_.+-]+(/[A-Za-z0-9_.+-]+)*)";

bool safe_relpath(const std::string& p) {
  if (!std::regex_match(p, std::regex(kRelPath))) return false;
  for (const auto& part : split(p, '/'))
    if (part == "." || part == "..") return false;
  return true;
}

}  // namespace

// ----------------------------------------------------------------------------------------------
// Parsing
// ----------------------------------------------------------------------------------------------

double PerfItem::max_points() const {
  double m = 0;
  for (const Tier& t : tiers) m = std::max(m, t.points);
  return m;
}

bool ForbiddenSymbol::applies_to(const std::string& file) const {
  return files.empty() || std::find(files.begin(), files.end(), file) != files.end();
}

const Task* Rubric::task(const std::string& id) const {
  for (const Task& t : tasks)
    if (t.id == id) return &t;
  return nullptr;
}

std::vector<const Task*> Rubric::tasks_of_file(const std::string& file) const {
  std::vector<const Task*> out;
  for (const Task& t : tasks)
    if (std::find(t.files.begin(), t.files.end(), file) != t.files.end()) out.push_back(&t);
  return out;
}

double Rubric::task_points(const Task& t) const {
  double p = t.hidden_points;
  for (const TestGroup& g : t.tests) p += g.points;
  for (const PerfItem& item : performance)
    if (item.task == t.id) p += item.max_points();
  return p;
}

double Rubric::total_points() const {
  double p = 0;
  for (const Task& t : tasks) p += task_points(t);
  return p;
}

Rubric parse_rubric(const std::string& text, const std::string& name) {
  Checker c(name);
  Rubric r;
  r.path = name;
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::parse_error& e) {
    throw GradeError(name + ": not valid JSON: " + e.what());
  }
  if (!c.object(doc, "")) throw GradeError(join(c.problems(), "\n"));
  c.only_keys(doc, "(top level)", {"schema", "pa", "title", "student_files", "tasks", "performance",
                                   "limits", "cmake_options", "forbidden_symbols"});
  if (!doc.contains("schema") || doc["schema"] != kSchema)
    c.problem("schema", std::string("must be \"") + kSchema + "\", got " +
                            (doc.contains("schema") ? Checker::show(doc["schema"]) : "nothing"));
  r.pa = c.string(doc, "pa", "", true, "pa[0-9]+", "a PA name such as \"pa1\"");
  r.title = c.string(doc, "title", "");

  // student_files
  std::set<std::string> student_files;
  if (!doc.contains("student_files") || !doc["student_files"].is_array() || doc["student_files"].empty()) {
    c.problem("student_files", "expected a non-empty list of repo-relative paths");
  } else {
    for (size_t i = 0; i < doc["student_files"].size(); ++i) {
      const json& f = doc["student_files"][i];
      std::string at = "student_files[" + std::to_string(i) + "]";
      if (!f.is_string() || !safe_relpath(f.get<std::string>())) {
        c.problem(at, "expected a repo-relative path without '..', got " + Checker::show(f));
        continue;
      }
      if (!student_files.insert(f.get<std::string>()).second) c.problem(at, "listed twice");
      r.student_files.push_back(f.get<std::string>());
    }
  }

  // limits, cmake_options
  if (doc.contains("limits") && c.object(doc["limits"], "limits")) {
    const json& l = doc["limits"];
    c.only_keys(l, "limits", {"timeout_s", "memory_mb", "processes", "output_kb", "tests_s", "performance_s"});
    r.limits.tests_s = c.number(l, "tests_s", "limits", false, r.limits.tests_s, 0);
    r.limits.performance_s = c.number(l, "performance_s", "limits", false, r.limits.performance_s, 0);
    r.limits.timeout_s = c.number(l, "timeout_s", "limits", false, r.limits.timeout_s, 0);
    r.limits.memory_mb = c.number(l, "memory_mb", "limits", false, r.limits.memory_mb, 0);
    r.limits.processes = static_cast<int>(c.number(l, "processes", "limits", false, r.limits.processes, 0));
    r.limits.output_kb = c.number(l, "output_kb", "limits", false, r.limits.output_kb, 0);
  }
  if (doc.contains("cmake_options") && c.object(doc["cmake_options"], "cmake_options")) {
    for (auto it = doc["cmake_options"].begin(); it != doc["cmake_options"].end(); ++it) {
      if (!std::regex_match(it.key(), std::regex("[A-Za-z_][A-Za-z0-9_]*")) || !it.value().is_string())
        c.problem("cmake_options." + it.key(), "expected NAME: \"value\"");
      else
        r.cmake_options[it.key()] = it.value().get<std::string>();
    }
  }

  // forbidden_symbols: [{"pattern": regex on demangled names, "why": "..."}]
  if (doc.contains("forbidden_symbols")) {
    if (!doc["forbidden_symbols"].is_array()) c.problem("forbidden_symbols", "expected a list of {pattern, why}");
    else
      for (size_t i = 0; i < doc["forbidden_symbols"].size(); ++i) {
        const json& f = doc["forbidden_symbols"][i];
        std::string at = "forbidden_symbols[" + std::to_string(i) + "]";
        if (!c.object(f, at)) continue;
        c.only_keys(f, at, {"pattern", "why", "files"});
        ForbiddenSymbol fs{c.string(f, "pattern", at), c.string(f, "why", at), {}};
        if (f.contains("files")) {
          if (!f["files"].is_array() || f["files"].empty())
            c.problem(at + ".files", "expected a non-empty list of student files, got " + Checker::show(f["files"]));
          else
            for (size_t j = 0; j < f["files"].size(); ++j) {
              const json& file = f["files"][j];
              if (!file.is_string() || !student_files.count(file.get<std::string>()))
                c.problem(at + ".files[" + std::to_string(j) + "]",
                          "expected one of student_files, got " + Checker::show(file));
              else
                fs.files.push_back(file.get<std::string>());
            }
        }
        try {
          std::regex check(fs.pattern);
        } catch (const std::regex_error&) {
          c.problem(at + ".pattern", "not a valid regular expression: " + Checker::show(f["pattern"]));
          continue;
        }
        r.forbidden_symbols.push_back(fs);
      }
  }

  // tasks
  std::set<std::string> task_ids, files_in_tasks;
  if (!doc.contains("tasks") || !doc["tasks"].is_array() || doc["tasks"].empty()) {
    c.problem("tasks", "expected a non-empty list of tasks");
  } else {
    for (size_t i = 0; i < doc["tasks"].size(); ++i) {
      const json& t = doc["tasks"][i];
      std::string at = "tasks[" + std::to_string(i) + "]";
      if (!c.object(t, at)) continue;
      c.only_keys(t, at, {"id", "title", "files", "tests", "hidden_points"});
      Task task;
      task.id = c.string(t, "id", at, true, "[0-9]+(\\.[0-9]+)?", "a task id such as \"2.1\"");
      task.title = c.string(t, "title", at);
      if (!task.id.empty() && !task_ids.insert(task.id).second) c.problem(at + ".id", "task " + task.id + " is listed twice");
      if (!t.contains("files") || !t["files"].is_array() || t["files"].empty()) {
        c.problem(at + ".files", "expected a non-empty list of student files");
      } else {
        for (const json& f : t["files"]) {
          if (!f.is_string() || !student_files.count(f.get<std::string>())) {
            c.problem(at + ".files", Checker::show(f) + " is not one of student_files");
            continue;
          }
          task.files.push_back(f.get<std::string>());
          files_in_tasks.insert(f.get<std::string>());
        }
      }
      task.hidden_points = c.number(t, "hidden_points", at, false, 0, -1e-12);
      if (!t.contains("tests") || !t["tests"].is_array()) {
        c.problem(at + ".tests", "expected a list of test groups (may be empty)");
      } else {
        for (size_t j = 0; j < t["tests"].size(); ++j) {
          const json& g = t["tests"][j];
          std::string gat = at + ".tests[" + std::to_string(j) + "]";
          if (!c.object(g, gat)) continue;
          c.only_keys(g, gat, {"target", "filter", "points", "visibility", "requires_gpu", "timeout_s"});
          TestGroup group;
          group.target = c.string(g, "target", gat, true, "[A-Za-z0-9_.+-]+", "a CMake target name");
          group.filter = c.string(g, "filter", gat);
          group.points = c.number(g, "points", gat, true, 0, 0);
          std::string vis = c.string(g, "visibility", gat, true, "visible|hidden", "\"visible\" or \"hidden\"");
          group.hidden = vis == "hidden";
          group.requires_gpu = c.boolean(g, "requires_gpu", gat, false);
          group.timeout_s = c.number(g, "timeout_s", gat, false, 0, 0);
          task.tests.push_back(group);
        }
      }
      if (task.tests.empty() && task.hidden_points == 0 && t.contains("tests") && t["tests"].is_array()) {
        bool has_perf = false;
        if (doc.contains("performance") && doc["performance"].is_array())
          for (const json& p : doc["performance"])
            if (p.is_object() && p.contains("task") && p["task"] == task.id) has_perf = true;
        if (!has_perf) c.problem(at, "task " + task.id + " has no test group and no performance item: it is worth nothing");
      }
      r.tasks.push_back(task);
    }
  }
  for (const std::string& f : r.student_files)
    if (!files_in_tasks.count(f)) c.problem("student_files", f + " belongs to no task (list it in a task's \"files\")");
  // Hidden tests live in executables of their own: the grader lets only hidden runs execute
  // them, so student code in a visible test cannot run a hidden test and print its output.
  std::map<std::string, std::set<bool>> visibility_of_target;
  for (const Task& t : r.tasks)
    for (const TestGroup& g : t.tests) visibility_of_target[g.target].insert(g.hidden);
  for (const auto& [target, kinds] : visibility_of_target)
    if (kinds.size() > 1)
      c.problem("tasks", "target " + target + " has both visible and hidden groups; hidden tests must be in an executable of their own");

  // performance
  std::set<std::string> perf_ids;
  if (doc.contains("performance")) {
    if (!doc["performance"].is_array()) c.problem("performance", "expected a list");
    for (size_t i = 0; doc["performance"].is_array() && i < doc["performance"].size(); ++i) {
      const json& p = doc["performance"][i];
      std::string at = "performance[" + std::to_string(i) + "]";
      if (!c.object(p, at)) continue;
      c.only_keys(p, at, {"id", "task", "title", "benchmark", "item", "reference", "requires_gpu", "tiers",
                          "runs", "timeout_s", "threads", "repeats", "reference_ms", "measure", "clock"});
      PerfItem item;
      item.id = c.string(p, "id", at, true, "[A-Za-z0-9_.-]+", "an identifier");
      if (!item.id.empty() && !perf_ids.insert(item.id).second) c.problem(at + ".id", item.id + " is listed twice");
      item.task = c.string(p, "task", at);
      if (!item.task.empty() && !task_ids.count(item.task)) c.problem(at + ".task", "no task has id \"" + item.task + "\"");
      item.title = c.string(p, "title", at);
      item.benchmark = c.string(p, "benchmark", at, true, "[A-Za-z0-9_.+-]+", "a CMake target name");
      item.item = c.string(p, "item", at);
      item.reference = c.string(p, "reference", at);
      item.requires_gpu = c.boolean(p, "requires_gpu", at, false);
      item.runs = static_cast<int>(c.number(p, "runs", at, false, 3, 0));
      item.timeout_s = c.number(p, "timeout_s", at, false, 300, 0);
      item.threads = static_cast<int>(c.number(p, "threads", at, false, 0, 0));
      item.repeats = static_cast<int>(c.number(p, "repeats", at, false, 20, 0));
      item.reference_ms = c.number(p, "reference_ms", at, false, 0, -1e-12);
      item.measure = c.string(p, "measure", at, false, "time|memory", "\"time\" or \"memory\"");
      if (item.measure.empty()) item.measure = "time";
      item.clock = c.string(p, "clock", at, false, "wall|cpu", "\"wall\" or \"cpu\"");
      if (item.clock.empty()) item.clock = "wall";
      if (!p.contains("tiers") || !p["tiers"].is_array() || p["tiers"].empty()) {
        c.problem(at + ".tiers", "expected a non-empty list of {\"min_ratio\": x, \"points\": y}");
      } else {
        for (size_t j = 0; j < p["tiers"].size(); ++j) {
          const json& tj = p["tiers"][j];
          std::string tat = at + ".tiers[" + std::to_string(j) + "]";
          if (!c.object(tj, tat)) continue;
          c.only_keys(tj, tat, {"min_ratio", "points"});
          Tier tier;
          tier.min_ratio = c.number(tj, "min_ratio", tat, true, 1, 0);
          tier.points = c.number(tj, "points", tat, true, 0, -1e-12);
          item.tiers.push_back(tier);
        }
        std::sort(item.tiers.begin(), item.tiers.end(),
                  [](const Tier& a, const Tier& b) { return a.min_ratio > b.min_ratio; });
        for (size_t j = 1; j < item.tiers.size(); ++j) {
          if (item.tiers[j].min_ratio == item.tiers[j - 1].min_ratio)
            c.problem(at + ".tiers", "two tiers with min_ratio " + format_ratio(item.tiers[j].min_ratio));
          if (item.tiers[j].points > item.tiers[j - 1].points)
            c.problem(at + ".tiers", "a faster tier (min_ratio " + format_ratio(item.tiers[j - 1].min_ratio) +
                                         ") must not earn fewer points than a slower one");
        }
      }
      r.performance.push_back(item);
    }
  }
  if (!c.problems().empty()) throw GradeError("invalid rubric:\n  " + join(c.problems(), "\n  "));
  return r;
}

Rubric load_rubric(const std::string& path) {
  std::string text;
  try {
    text = read_file(path);
  } catch (const GradeError& e) {
    throw GradeError("cannot read the rubric: " + std::string(e.what()));
  }
  return parse_rubric(text, path);
}

// ----------------------------------------------------------------------------------------------
// The handout's points table and the public rubric
// ----------------------------------------------------------------------------------------------

// One table per handout: a row per task with its test, hidden-test and performance points, and,
// when the rubric has performance items, a last column with each item of the task (its
// benchmark item name and what it is measured against) and its tiers.
std::string rubric_table(const Rubric& r) {
  std::ostringstream os;
  bool any_hidden = false, any_perf = !r.performance.empty();
  for (const Task& t : r.tasks) {
    if (t.hidden_points > 0) any_hidden = true;
    for (const TestGroup& g : t.tests) any_hidden |= g.hidden;
  }
  os << "| Task | Title | Tests |";
  if (any_hidden) os << " Hidden tests |";
  if (any_perf) os << " Performance |";
  os << " Points |";
  if (any_perf) os << " Performance tiers (ratio ≥ → points) |";
  os << "\n|---|---|---:|";
  if (any_hidden) os << "---:|";
  if (any_perf) os << "---:|";
  os << "---:|";
  if (any_perf) os << "---|";
  os << "\n";
  double sum_vis = 0, sum_hid = 0, sum_perf = 0;
  auto cell = [](double v) { return v > 0 ? format_points(v) : std::string("–"); };
  for (const Task& t : r.tasks) {
    double vis = 0, hid = t.hidden_points, perf = 0;
    bool gpu = false;
    for (const TestGroup& g : t.tests) {
      (g.hidden ? hid : vis) += g.points;
      gpu |= g.requires_gpu;
    }
    std::string tiers;  // "`item` vs reference: 0.5 → 3, 0.25 → 1; ..." for the task's items
    for (const PerfItem& p : r.performance) {
      if (p.task != t.id) continue;
      perf += p.max_points();
      gpu |= p.requires_gpu;
      tiers += (tiers.empty() ? "`" : "; `") + p.item + "` vs " + p.reference + ":";
      for (size_t k = 0; k < p.tiers.size(); ++k)
        tiers += (k ? ", " : " ") + format_ratio(p.tiers[k].min_ratio) + " → " + format_points(p.tiers[k].points);
    }
    sum_vis += vis;
    sum_hid += hid;
    sum_perf += perf;
    os << "| " << t.id << " | " << t.title << (gpu ? " (GPU)" : "") << " | " << cell(vis) << " |";
    if (any_hidden) os << " " << cell(hid) << " |";
    if (any_perf) os << " " << cell(perf) << " |";
    os << " " << format_points(vis + hid + perf) << " |";
    if (any_perf) os << " " << (tiers.empty() ? "–" : tiers) << " |";
    os << "\n";
  }
  os << "| **Total** | | " << format_points(sum_vis) << " |";
  if (any_hidden) os << " " << format_points(sum_hid) << " |";
  if (any_perf) os << " " << format_points(sum_perf) << " |";
  os << " **" << format_points(sum_vis + sum_hid + sum_perf) << "** |";
  if (any_perf) os << " |";
  os << "\n";
  return os.str();
}

std::string public_rubric_json(const std::string& rubric_text) {
  json doc = json::parse(rubric_text);
  for (json& t : doc["tasks"]) {
    double hidden = t.value("hidden_points", 0.0);
    json kept = json::array();
    for (const json& g : t["tests"]) {
      if (g.value("visibility", "") == "hidden")
        hidden += g["points"].get<double>();
      else
        kept.push_back(g);
    }
    t["tests"] = kept;
    if (hidden > 0) t["hidden_points"] = hidden;
  }
  return doc.dump(2) + "\n";
}

// ----------------------------------------------------------------------------------------------
// gtest filters
// ----------------------------------------------------------------------------------------------

static bool glob_match(const char* pat, const char* s) {
  // '*' any run, '?' one character (gtest's rules).
  const char* star = nullptr;
  const char* resume = nullptr;
  while (*s) {
    if (*pat == '?' || *pat == *s) {
      ++pat;
      ++s;
    } else if (*pat == '*') {
      star = pat++;
      resume = s;
    } else if (star) {
      pat = star + 1;
      s = ++resume;
    } else {
      return false;
    }
  }
  while (*pat == '*') ++pat;
  return *pat == '\0';
}

bool gtest_filter_matches(const std::string& filter, const std::string& name) {
  std::string positive = filter, negative;
  size_t dash = filter.find('-');
  if (dash != std::string::npos) {
    positive = filter.substr(0, dash);
    negative = filter.substr(dash + 1);
  }
  if (positive.empty()) positive = "*";
  auto any = [&](const std::string& patterns) {
    for (const std::string& p : split(patterns, ':'))
      if (!p.empty() && glob_match(p.c_str(), name.c_str())) return true;
    return false;
  };
  return any(positive) && !any(negative);
}

}  // namespace grader
