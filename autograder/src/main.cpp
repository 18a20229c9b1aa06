// mlsys_grade — the course's grader. Usually run through `./mlsys grade` (tools/mlsys_cli.py),
// on Gradescope through run_autograder, and by staff for batches. docs/GRADING.md has the story.
//
//   mlsys_grade grade  --tree DIR --rubric FILE [--submission DIR|ZIP | --solution] [--work DIR]
//                      [--format table|gradescope|classroom|markdown|json] [--out FILE]
//                      [--json FILE] [--markdown FILE] [--jobs N] [--local] [--expect SCORE|full]
//                      [--skip-performance] [--only gpu|cpu] [--no-namespaces] [--verbose]
//   mlsys_grade batch  --tree DIR --rubric FILE --submissions DIR --out DIR [--parallel N] [--work DIR]
//                      [--only gpu|cpu]
//   mlsys_grade merge  --cpu DIR --gpu DIR --out DIR [--rubric FILE] [--tree DIR]
//                      joins a batch graded --only cpu and the same batch graded --only gpu (merge.h)
//   mlsys_grade table  RUBRIC          the handout's grading table (Markdown): points and tiers
//   mlsys_grade check  RUBRIC...       validate rubrics
//   mlsys_grade public-rubric RUBRIC   the rubric for the student release (hidden groups removed)
//
// `grade` always writes its --out file, whatever happens: on an internal error it is a valid
// file with score 0 and the error. Exit status: 0 graded, 1 internal error, 2 usage,
// 3 the score differs from --expect.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "grade.h"
#include "merge.h"
#include "results.h"
#include "rubric.h"
#include "util.h"

using namespace grader;

namespace {

const char* kUsage =
    "usage:\n"
    "  mlsys_grade grade --tree DIR --rubric FILE [--submission DIR|ZIP | --solution] [--work DIR]\n"
    "                    [--format table|gradescope|classroom|markdown|json] [--out FILE]\n"
    "                    [--json FILE] [--markdown FILE] [--jobs N] [--local] [--no-namespaces]\n"
    "                    [--expect SCORE|full] [--skip-performance] [--only gpu|cpu] [--quiet] [--verbose]\n"
    "  mlsys_grade batch --tree DIR --rubric FILE --submissions DIR --out DIR [--parallel N]\n"
    "                    [--work DIR] [--jobs N] [--only gpu|cpu]\n"
    "  mlsys_grade merge --cpu DIR --gpu DIR --out DIR [--rubric FILE] [--tree DIR]\n"
    "  mlsys_grade table RUBRIC\n"
    "  mlsys_grade check RUBRIC...\n"
    "  mlsys_grade public-rubric RUBRIC\n"
    "See docs/GRADING.md.\n";

struct Args {
  std::map<std::string, std::string> values;
  std::map<std::string, bool> flags;
  std::vector<std::string> positional;
};

Args parse_args(int argc, char** argv, int first, const std::vector<std::string>& with_value,
                const std::vector<std::string>& flag_names) {
  Args a;
  for (int i = first; i < argc; ++i) {
    std::string s = argv[i];
    if (std::find(with_value.begin(), with_value.end(), s) != with_value.end()) {
      if (i + 1 >= argc) throw std::invalid_argument(s + " needs a value");
      a.values[s] = argv[++i];
    } else if (std::find(flag_names.begin(), flag_names.end(), s) != flag_names.end()) {
      a.flags[s] = true;
    } else if (starts_with(s, "--")) {
      throw std::invalid_argument("unknown option " + s);
    } else {
      a.positional.push_back(s);
    }
  }
  return a;
}

std::string render(const GradeResult& r, const std::string& format) {
  if (format == "gradescope") return to_gradescope(r);
  if (format == "classroom") return to_classroom(r);
  if (format == "markdown") return to_markdown(r);
  if (format == "json") return to_json(r);
  return to_table(r);
}

// Writes a file the grader promised; a failure here is reported but never hides the others.
bool write_output(const std::string& path, const std::string& content) {
  try {
    if (path == "-") {
      std::cout << content << std::flush;
    } else {
      write_file_atomic(path, content);
    }
    return true;
  } catch (const std::exception& e) {
    log(std::string("cannot write ") + path + ": " + e.what());
    return false;
  }
}

// --only gpu|cpu: grade only the groups and items with (gpu) or without (cpu) requires_gpu.
std::string only_option(Args& a) {
  if (!a.values.count("--only")) return "";
  std::string v = a.values["--only"];
  if (v != "gpu" && v != "cpu") throw std::invalid_argument("--only must be gpu or cpu, got \"" + v + "\"");
  return v;
}

fs::path default_work(const fs::path& tree, const std::string& pa) {
  const char* root = std::getenv("MLSYS_BUILD_ROOT");
  return (root ? fs::path(root) : tree / "build") / "grader" / pa;
}

int cmd_grade(int argc, char** argv) {
  Args a = parse_args(argc, argv, 2,
                      {"--tree", "--rubric", "--submission", "--work", "--format", "--out", "--json", "--markdown",
                       "--jobs", "--expect", "--classroom", "--only"},
                      {"--solution", "--local", "--no-namespaces", "--quiet", "--verbose", "--skip-performance"});
  std::string format = a.values.count("--format") ? a.values["--format"] : "table";
  if (format != "table" && format != "gradescope" && format != "classroom" && format != "markdown" && format != "json")
    throw std::invalid_argument("--format must be table, gradescope, classroom, markdown or json");
  set_verbose(a.flags["--verbose"]);
  GradeOptions o;
  o.tree = a.values.count("--tree") ? a.values["--tree"] : ".";
  o.rubric = a.values["--rubric"];
  o.submission = a.values["--submission"];
  o.solution = a.flags["--solution"];
  o.force_local = a.flags["--local"];
  o.allow_namespaces = !a.flags["--no-namespaces"];
  o.skip_performance = a.flags["--skip-performance"];
  o.only = only_option(a);
  o.jobs = a.values.count("--jobs") ? std::stoi(a.values["--jobs"]) : 0;
  if (o.rubric.empty()) throw std::invalid_argument("--rubric is required");
  if (o.solution && !o.submission.empty()) throw std::invalid_argument("--solution and --submission exclude each other");
  std::string pa = o.rubric.stem().string();
  o.work = a.values.count("--work") ? fs::path(a.values["--work"]) : default_work(o.tree, pa);

  GradeResult r = grade(o);
  bool ok = true;
  std::string out = a.values.count("--out") ? a.values["--out"] : "";
  if (!out.empty()) ok &= write_output(out, render(r, format));
  if (a.values.count("--json")) ok &= write_output(a.values["--json"], to_json(r));
  if (a.values.count("--markdown")) ok &= write_output(a.values["--markdown"], to_markdown(r));
  if (a.values.count("--classroom")) ok &= write_output(a.values["--classroom"], to_classroom(r));
  if (!a.flags["--quiet"] && !(out == "-")) std::cout << to_table(r, ::isatty(1)) << std::flush;
  if (out.empty() && format != "table" && !a.flags["--quiet"]) std::cout << render(r, format);
  if (!r.internal_error.empty() || !ok) return 1;
  if (a.values.count("--expect")) {
    std::string e = a.values["--expect"];
    double want = e == "full" ? r.max_score : std::stod(e);
    if (std::fabs(r.score - want) > 1e-6) {
      log("expected a score of " + format_points(want) + ", got " + format_points(r.score));
      return 3;
    }
  }
  return 0;
}

// ----------------------------------------------------------------------------------------------
// Batch mode: one grader process per submission, N at a time, each with its own work folder
// ----------------------------------------------------------------------------------------------

int cmd_batch(int argc, char** argv) {
  Args a = parse_args(argc, argv, 2,
                      {"--tree", "--rubric", "--submissions", "--out", "--parallel", "--work", "--jobs", "--only"},
                      {"--no-namespaces", "--verbose"});
  std::string only = only_option(a);
  for (const char* req : {"--rubric", "--submissions", "--out"})
    if (!a.values.count(req)) throw std::invalid_argument(std::string(req) + " is required");
  fs::path tree = a.values.count("--tree") ? a.values["--tree"] : ".";
  fs::path rubric = a.values["--rubric"], subs = a.values["--submissions"], out = a.values["--out"];
  Rubric rb = load_rubric(rubric.string());  // fail early on a bad rubric
  int parallel = a.values.count("--parallel") ? std::max(1, std::stoi(a.values["--parallel"])) : 1;
  int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  int jobs = a.values.count("--jobs") ? std::stoi(a.values["--jobs"]) : std::max(1, cores / parallel);
  fs::path work = a.values.count("--work") ? fs::path(a.values["--work"]) : default_work(tree, rb.pa + "-batch");
  fs::create_directories(out);

  std::vector<std::pair<std::string, fs::path>> items;  // name, path
  for (auto& e : fs::directory_iterator(subs)) {
    std::string name = e.path().filename().string();
    if (name.empty() || name[0] == '.') continue;
    if (e.is_directory() || (e.is_regular_file() && ends_with(name, ".zip")))
      items.emplace_back(ends_with(name, ".zip") ? name.substr(0, name.size() - 4) : name, e.path());
  }
  std::sort(items.begin(), items.end());
  log("batch: " + std::to_string(items.size()) + " submissions, " + std::to_string(parallel) + " at a time, " +
      std::to_string(jobs) + " jobs each");

  std::string self = fs::canonical("/proc/self/exe").string();
  std::map<pid_t, int> running;  // pid -> slot
  std::vector<bool> slot_busy(static_cast<size_t>(parallel), false);
  double start = now_seconds();
  size_t next = 0, done = 0;
  while (done < items.size()) {
    while (next < items.size() && static_cast<int>(running.size()) < parallel) {
      int slot = static_cast<int>(std::find(slot_busy.begin(), slot_busy.end(), false) - slot_busy.begin());
      const auto& [name, path] = items[next++];
      fs::path dir = out / name;
      fs::create_directories(dir);
      std::vector<std::string> args = {self, "grade", "--tree", tree.string(), "--rubric", rubric.string(),
                                       "--submission", path.string(), "--work", (work / ("slot" + std::to_string(slot))).string(),
                                       "--format", "gradescope", "--out", (dir / "results.json").string(),
                                       "--json", (dir / "grade.json").string(), "--markdown", (dir / "summary.md").string(),
                                       "--jobs", std::to_string(jobs), "--quiet"};
      if (a.flags["--no-namespaces"]) args.push_back("--no-namespaces");
      if (!only.empty()) args.insert(args.end(), {"--only", only});
      std::vector<char*> cargv;
      for (auto& s : args) cargv.push_back(const_cast<char*>(s.c_str()));
      cargv.push_back(nullptr);
      std::string log_path = (dir / "grader.log").string();
      pid_t pid = ::fork();
      if (pid == 0) {
        FILE* f = std::freopen(log_path.c_str(), "w", stderr);
        (void)f;
        ::execv(self.c_str(), cargv.data());
        _exit(127);
      }
      if (pid < 0) throw GradeError("fork failed");
      running[pid] = slot;
      slot_busy[static_cast<size_t>(slot)] = true;
    }
    int st = 0;
    pid_t pid = ::waitpid(-1, &st, 0);
    if (pid < 0) break;
    auto it = running.find(pid);
    if (it == running.end()) continue;
    slot_busy[static_cast<size_t>(it->second)] = false;
    running.erase(it);
    ++done;
    log("batch: " + std::to_string(done) + "/" + std::to_string(items.size()) + " graded");
  }

  // One row per submission; the task columns come from the rubric.
  std::string csv = scores_csv_header(rb);
  for (const auto& [name, path] : items) {
    fs::path dir = out / name;
    GradeResult r;
    std::string status = "ok";
    try {
      r = from_json(read_file(dir / "grade.json"));
      if (!r.internal_error.empty()) status = "grader error";
    } catch (const std::exception& e) {
      status = "grader error";
      r.internal_error = std::string("no result: ") + e.what();
      // The promise holds in batch mode too: a valid results file for every submission.
      r.pa = rb.pa;
      r.title = rb.title;
      write_output((dir / "results.json").string(), to_gradescope(r));
    }
    csv += scores_csv_row(rb, name, r, status);
  }
  write_output((out / "scores.csv").string(), csv);
  log("batch: wrote " + (out / "scores.csv").string() + " in " + format_seconds(now_seconds() - start));
  return 0;
}

// ----------------------------------------------------------------------------------------------
// Merge: a batch graded --only cpu and the same batch graded --only gpu, joined (merge.h)
// ----------------------------------------------------------------------------------------------

int cmd_merge(int argc, char** argv) {
  Args a = parse_args(argc, argv, 2, {"--cpu", "--gpu", "--out", "--rubric", "--tree"}, {"--verbose"});
  for (const char* req : {"--cpu", "--gpu", "--out"})
    if (!a.values.count(req)) throw std::invalid_argument(std::string(req) + " is required");
  set_verbose(a.flags["--verbose"]);
  fs::path cpu = a.values["--cpu"], gpu = a.values["--gpu"], out = a.values["--out"];
  fs::path rubric = a.values.count("--rubric") ? fs::path(a.values["--rubric"]) : fs::path();
  if (rubric.empty()) {  // the PA named by the first grade.json found, in the tree's rubrics
    for (const fs::path& d : {cpu, gpu}) {
      if (!rubric.empty() || !fs::is_directory(d)) continue;
      for (auto& e : fs::directory_iterator(d))
        if (rubric.empty() && fs::exists(e.path() / "grade.json")) {
          try {
            std::string pa = read_grade_json(read_file(e.path() / "grade.json")).pa;
            if (!pa.empty())
              rubric = fs::path(a.values.count("--tree") ? a.values["--tree"] : ".") / "autograder" / "rubrics" / (pa + ".json");
          } catch (const std::exception&) {
          }
        }
    }
    if (rubric.empty()) throw std::invalid_argument("no grade.json names the PA: give --rubric");
  }
  Rubric rb = load_rubric(rubric.string());
  merge_folders(rb, cpu, gpu, out);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  ::signal(SIGPIPE, SIG_IGN);
  if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h") {
    std::cout << kUsage;
    return argc < 2 ? 2 : 0;
  }
  std::string cmd = argv[1];
  try {
    if (cmd == "grade") return cmd_grade(argc, argv);
    if (cmd == "batch") return cmd_batch(argc, argv);
    if (cmd == "merge") return cmd_merge(argc, argv);
    if (cmd == "table" && argc == 3) {
      std::cout << rubric_table(load_rubric(argv[2]));
      return 0;
    }
    if (cmd == "check" && argc >= 3) {
      int bad = 0;
      for (int i = 2; i < argc; ++i) {
        try {
          Rubric r = load_rubric(argv[i]);
          std::cout << argv[i] << ": OK (" << r.pa << ", " << r.tasks.size() << " tasks, "
                    << format_points(r.total_points()) << " points)\n";
        } catch (const std::exception& e) {
          std::cout << e.what() << "\n";
          ++bad;
        }
      }
      return bad ? 1 : 0;
    }
    if (cmd == "public-rubric" && argc == 3) {
      std::string text = read_file(argv[2]);
      load_rubric(argv[2]);
      std::cout << public_rubric_json(text);
      return 0;
    }
  } catch (const std::invalid_argument& e) {
    std::cerr << "mlsys_grade: " << e.what() << "\n" << kUsage;
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "mlsys_grade: " << e.what() << "\n";
    return 1;
  }
  std::cerr << kUsage;
  return 2;
}
