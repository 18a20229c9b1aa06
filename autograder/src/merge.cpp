// Joining a batch's CPU grading and its GPU grading into one (merge.h has the rules).
#include "merge.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

namespace grader {

using nlohmann::json;

// ----------------------------------------------------------------------------------------------
// Reading a grade.json back, all of it
// ----------------------------------------------------------------------------------------------

static double num_or_nan(const json& j, const char* key) {
  return j.contains(key) && j[key].is_number() ? j[key].get<double>() : std::nan("");
}

static std::vector<std::string> strings(const json& doc, const char* key) {
  std::vector<std::string> out;
  if (doc.contains(key) && doc[key].is_array())
    for (const json& s : doc[key])
      if (s.is_string()) out.push_back(s.get<std::string>());
  return out;
}

GradeResult read_grade_json(const std::string& text) {
  json doc = json::parse(text);
  if (doc.value("schema", "") != "mlsys-grade-result/1")
    throw GradeError("not a grade.json of mlsys_grade (schema \"" + doc.value("schema", "") + "\", expected "
                     "\"mlsys-grade-result/1\")");
  GradeResult r;
  r.pa = doc.value("pa", "");
  r.title = doc.value("title", "");
  r.mode = doc.value("mode", "");
  r.submission = doc.value("submission", "");
  r.score = doc.value("score", 0.0);
  r.max_score = doc.value("max_score", 0.0);
  r.internal_error = doc.value("internal_error", "");
  r.gpu = doc.value("gpu", false);
  r.sandbox = doc.value("sandbox", "");
  r.sandbox_gaps = strings(doc, "sandbox_gaps");
  r.seconds = doc.value("seconds", 0.0);
  if (doc.contains("timings") && doc["timings"].is_object())
    for (auto& [k, v] : doc["timings"].items())
      if (v.is_number()) r.timings[k] = v.get<double>();
  r.files_taken = strings(doc, "files_taken");
  r.files_starter = strings(doc, "files_starter");
  r.files_ignored = strings(doc, "files_ignored");
  r.notes = strings(doc, "notes");
  r.review = strings(doc, "review");
  r.unverified = strings(doc, "unverified");
  for (const json& t : doc.value("tasks", json::array())) {
    TaskResult tr;
    tr.id = t.value("id", "");
    tr.title = t.value("title", "");
    tr.build_ok = t.value("build_ok", true);
    tr.build_errors = t.value("build_errors", "");
    tr.build_source = t.value("build_source", "");
    tr.not_graded = t.value("not_graded", "");
    tr.score = t.value("score", 0.0);
    tr.max_score = t.value("max_score", 0.0);
    tr.test_score = t.value("test_score", 0.0);
    tr.test_max_score = t.value("test_max_score", 0.0);
    tr.passed = t.value("passed", 0);
    tr.total = t.value("total", 0);
    tr.awaiting = t.value("awaiting", 0);
    tr.awaiting_points = t.value("awaiting_points", 0.0);
    r.tasks.push_back(tr);
  }
  for (const json& c : doc.value("cases", json::array())) {
    CaseResult cr;
    cr.task = c.value("task", "");
    cr.target = c.value("target", "");
    cr.name = c.value("name", "");
    cr.filter = c.value("filter", "");
    cr.hidden = c.value("hidden", false);
    cr.requires_gpu = c.value("requires_gpu", false);
    cr.points = c.value("points", 0.0);
    cr.max_points = c.value("max_points", 0.0);
    cr.status = c.value("status", "");
    cr.reason = c.value("reason", "");
    cr.output = c.value("output", "");
    cr.needs_task = c.value("needs_task", "");
    cr.seconds = c.value("seconds", 0.0);
    r.cases.push_back(cr);
  }
  for (const json& p : doc.value("performance", json::array())) {
    PerfResult pr;
    pr.id = p.value("id", "");
    pr.task = p.value("task", "");
    pr.title = p.value("title", "");
    pr.reference = p.value("reference", "");
    pr.requires_gpu = p.value("requires_gpu", false);
    pr.status = p.value("status", "");
    pr.points = p.value("points", 0.0);
    pr.max_points = p.value("max_points", 0.0);
    pr.ratio = num_or_nan(p, "ratio");
    for (const json& x : p.value("ratios", json::array()))
      if (x.is_number()) pr.ratios.push_back(x.get<double>());
    pr.ours_ms = num_or_nan(p, "ours_ms");
    pr.ref_ms = num_or_nan(p, "ref_ms");
    pr.reason = p.value("reason", "");
    pr.output = p.value("output", "");
    pr.tiers = p.value("tiers", "");
    pr.needs_task = p.value("needs_task", "");
    r.performance.push_back(pr);
  }
  return r;
}

// ----------------------------------------------------------------------------------------------
// One submission
// ----------------------------------------------------------------------------------------------

// The rubric group of a case: same task, target and filter. Null when the rubric has none (a
// grade.json of another rubric version): such a case is dropped with a note.
static const TestGroup* group_of(const Rubric& rb, const CaseResult& c) {
  const Task* t = rb.task(c.task);
  if (!t) return nullptr;
  for (const TestGroup& g : t->tests)
    if (g.target == c.target && g.filter == c.filter) return &g;
  return nullptr;
}

static const PerfItem* item_of(const Rubric& rb, const std::string& id) {
  for (const PerfItem& p : rb.performance)
    if (p.id == id) return &p;
  return nullptr;
}

static std::string tiers_text(const PerfItem& item) {
  std::string s;
  for (const Tier& t : item.tiers) s += (s.empty() ? "" : ", ") + format_ratio(t.min_ratio) + "x: " + format_points(t.points);
  return s;
}

static void add_unique(std::vector<std::string>& to, const std::vector<std::string>& from) {
  for (const std::string& s : from)
    if (std::find(to.begin(), to.end(), s) == to.end()) to.push_back(s);
}

GradeResult merge_results(const Rubric& rb, const std::string& name, const MergeSide& cpu, const MergeSide& gpu,
                          std::string* status) {
  GradeResult m;
  m.pa = rb.pa;
  m.title = rb.title;
  const MergeSide& first = cpu.usable ? cpu : gpu;
  m.mode = first.usable ? first.result.mode : "official";
  m.submission = first.usable ? first.result.submission : name;
  std::vector<std::string> problems;
  std::vector<std::string> dropped;

  for (bool want_gpu : {false, true}) {
    const MergeSide& side = want_gpu ? gpu : cpu;
    const char* kind = want_gpu ? "GPU" : "CPU";
    if (side.usable) {
      const GradeResult& r = side.result;
      for (const CaseResult& c : r.cases) {
        const TestGroup* g = group_of(rb, c);
        if (!g) {
          dropped.push_back(c.task + " " + c.target + " " + c.name);
          continue;
        }
        if (g->requires_gpu != want_gpu) continue;
        CaseResult k = c;
        k.requires_gpu = g->requires_gpu;
        m.cases.push_back(k);
      }
      for (const PerfResult& p : r.performance) {
        const PerfItem* item = item_of(rb, p.id);
        if (!item) {
          dropped.push_back("performance " + p.id);
          continue;
        }
        if (item->requires_gpu != want_gpu) continue;
        PerfResult k = p;
        k.requires_gpu = item->requires_gpu;
        m.performance.push_back(k);
      }
      if (want_gpu) m.gpu = r.gpu;
      if (want_gpu && !r.gpu) problems.push_back("gpu side had no GPU");
      if (!want_gpu || !cpu.usable) {
        m.files_taken = r.files_taken;
        m.files_starter = r.files_starter;
        m.files_ignored = r.files_ignored;
        m.sandbox = r.sandbox;
      }
      for (const std::string& n : r.notes)
        if (n.rfind("--only ", 0) != 0) add_unique(m.notes, {n});
      add_unique(m.review, r.review);
      add_unique(m.unverified, r.unverified);
      add_unique(m.sandbox_gaps, r.sandbox_gaps);
      for (const auto& [k, v] : r.timings) m.timings[std::string(want_gpu ? "gpu " : "cpu ") + k] = v;
      m.seconds += r.seconds;
      continue;
    }
    // No usable grading on this side: its groups and items, failed, at full value.
    problems.push_back(std::string(want_gpu ? "gpu " : "cpu ") + (side.problem.rfind("missing", 0) == 0 ? "missing" : "grader error"));
    std::string reason = std::string("no ") + kind + " grading of this submission (" + side.problem + ")";
    bool local = m.mode == "local";
    for (const Task& t : rb.tasks)
      for (const TestGroup& g : t.tests) {
        if (g.requires_gpu != want_gpu || (local && g.hidden)) continue;
        CaseResult c;
        c.task = t.id;
        c.target = g.target;
        c.name = g.target + " " + g.filter;
        c.filter = g.filter;
        c.hidden = g.hidden;
        c.requires_gpu = g.requires_gpu;
        c.max_points = g.points;
        c.status = "failed";
        c.reason = reason;
        m.cases.push_back(c);
      }
    for (const PerfItem& item : rb.performance) {
      if (item.requires_gpu != want_gpu) continue;
      PerfResult p;
      p.id = item.id;
      p.task = item.task;
      p.title = item.title;
      p.reference = item.reference;
      p.requires_gpu = item.requires_gpu;
      p.status = "failed";
      p.max_points = item.max_points();
      p.tiers = tiers_text(item);
      p.reason = reason;
      m.performance.push_back(p);
    }
    m.notes.push_back(reason + ": its " + kind + " items count as failed; ask the course staff");
  }
  if (!dropped.empty())
    m.review.push_back("merge: not in the rubric, left out: " + join(dropped, ", "));
  if (!cpu.usable && !gpu.usable)
    m.internal_error = "no usable grading of this submission: CPU: " + cpu.problem + "; GPU: " + gpu.problem;

  // Cases in rubric order (the CPU side's first otherwise): task by task, as a grading lists them.
  std::stable_sort(m.cases.begin(), m.cases.end(), [&](const CaseResult& a, const CaseResult& b) {
    auto pos = [&](const std::string& id) {
      for (size_t i = 0; i < rb.tasks.size(); ++i)
        if (rb.tasks[i].id == id) return i;
      return rb.tasks.size();
    };
    return pos(a.task) < pos(b.task);
  });
  std::stable_sort(m.performance.begin(), m.performance.end(), [&](const PerfResult& a, const PerfResult& b) {
    auto pos = [&](const std::string& id) {
      for (size_t i = 0; i < rb.performance.size(); ++i)
        if (rb.performance[i].id == id) return i;
      return rb.performance.size();
    };
    return pos(a.id) < pos(b.id);
  });

  // Task rows and totals, from the merged cases and items (the same tally_task as a grading).
  for (const Task& t : rb.tasks) {
    TaskResult tr;
    tr.id = t.id;
    tr.title = t.title;
    std::vector<std::string> sources;
    for (const MergeSide* side : {&cpu, &gpu}) {
      if (!side->usable) continue;
      for (const TaskResult& o : side->result.tasks) {
        if (o.id != t.id) continue;
        if (!o.build_ok) {
          tr.build_ok = false;
          tr.build_errors += (tr.build_errors.empty() ? "" : "\n") + o.build_errors;
        }
        if (!o.build_source.empty()) sources.push_back((side == &gpu ? "GPU: " : "CPU: ") + o.build_source);
      }
    }
    tr.build_source = join(sources, "; ");
    tally_task(tr, m.cases, m.performance);
    m.score += tr.score;
    m.max_score += tr.max_score;
    m.tasks.push_back(tr);
  }
  if (!m.internal_error.empty()) m.score = 0;
  if (status) *status = problems.empty() ? "ok" : join(problems, "; ");
  return m;
}

// ----------------------------------------------------------------------------------------------
// scores.csv
// ----------------------------------------------------------------------------------------------

static std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  return "\"" + replace_all(s, "\"", "\"\"") + "\"";
}

std::string scores_csv_header(const Rubric& rb) {
  std::ostringstream csv;
  csv << "submission,score,max_score";
  for (const Task& t : rb.tasks) csv << ",task " << t.id;
  csv << ",status,seconds,error\n";
  return csv.str();
}

std::string scores_csv_row(const Rubric& rb, const std::string& name, const GradeResult& r, const std::string& status) {
  std::ostringstream csv;
  csv << csv_field(name) << "," << format_points(r.internal_error.empty() ? r.score : 0.0) << "," << format_points(r.max_score);
  for (const Task& t : rb.tasks) {
    double s = 0;
    for (const TaskResult& tr : r.tasks)
      if (tr.id == t.id) s = tr.score;
    csv << "," << format_points(s);
  }
  csv << "," << csv_field(status) << "," << format_points(r.seconds) << "," << csv_field(r.internal_error.substr(0, 200)) << "\n";
  return csv.str();
}

// ----------------------------------------------------------------------------------------------
// Two folders
// ----------------------------------------------------------------------------------------------

static MergeSide read_side(const fs::path& dir, const std::string& name, const std::string& label) {
  MergeSide s;
  fs::path sub = dir / name;
  if (!fs::is_directory(sub)) {
    s.problem = "missing from " + label;
    return s;
  }
  fs::path file = sub / "grade.json";
  try {
    s.result = read_grade_json(read_file(file));
  } catch (const std::exception& e) {
    s.problem = "the grading in " + label + " left no readable grade.json (" + e.what() + "; see its grader.log)";
    return s;
  }
  if (!s.result.internal_error.empty()) {
    s.problem = "the grading in " + label + " failed: " + clip(s.result.internal_error, 300);
    return s;
  }
  s.usable = true;
  return s;
}

int merge_folders(const Rubric& rb, const fs::path& cpu_dir, const fs::path& gpu_dir, const fs::path& out) {
  for (const fs::path& d : {cpu_dir, gpu_dir})
    if (!fs::is_directory(d)) throw GradeError("merge: " + d.string() + " is not a folder (a batch's --out folder)");
  std::set<std::string> names;
  for (const fs::path& d : {cpu_dir, gpu_dir})
    for (auto& e : fs::directory_iterator(d)) {
      std::string n = e.path().filename().string();
      if (e.is_directory() && !n.empty() && n[0] != '.') names.insert(n);
    }
  fs::create_directories(out);
  std::string cpu_label = cpu_dir.filename().empty() ? cpu_dir.parent_path().filename().string() + "/" : cpu_dir.filename().string() + "/";
  std::string gpu_label = gpu_dir.filename().empty() ? gpu_dir.parent_path().filename().string() + "/" : gpu_dir.filename().string() + "/";
  std::string csv = scores_csv_header(rb);
  int incomplete = 0;
  for (const std::string& name : names) {
    MergeSide cpu = read_side(cpu_dir, name, cpu_label), gpu = read_side(gpu_dir, name, gpu_label);
    std::string status;
    GradeResult m = merge_results(rb, name, cpu, gpu, &status);
    if (status != "ok") {
      ++incomplete;
      log("merge: " + name + ": " + status + (cpu.usable ? "" : " (CPU: " + cpu.problem + ")") +
          (gpu.usable ? "" : " (GPU: " + gpu.problem + ")"));
    }
    fs::path dir = out / name;
    fs::create_directories(dir);
    write_file_atomic(dir / "results.json", to_gradescope(m));
    write_file_atomic(dir / "grade.json", to_json(m));
    write_file_atomic(dir / "summary.md", to_markdown(m));
    csv += scores_csv_row(rb, name, m, status);
  }
  write_file_atomic(out / "scores.csv", csv);
  log("merge: " + std::to_string(names.size()) + " submission(s), " + std::to_string(incomplete) +
      " incomplete; wrote " + (out / "scores.csv").string());
  return incomplete;
}

}  // namespace grader
