// Grading one submission: collect, stage, build per task, run, measure, score. See grade.h.
#include "grade.h"

#include <cxxabi.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cmath>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <thread>

#include "rubric.h"
#include "sandbox.h"
#include "stage.h"
#include "verdict.h"

namespace grader {

using nlohmann::json;

// ----------------------------------------------------------------------------------------------
// Build logs for students
// ----------------------------------------------------------------------------------------------

std::string trim_build_log(const std::string& log, const std::string& stage_dir) {
  std::string text = replace_all(log, stage_dir + "/", "");
  std::vector<std::string> out;
  bool skipping_staff = false, started = false;
  int omitted = 0;
  static const std::regex located(R"(^(\S+?):(\d+):(\d+:)? )");
  static const std::regex noise(R"(^(\[\s*\d+%\]|\[\d+/\d+\]|ninja: |make(\[\d+\])?: |gmake(\[\d+\])?: |FAILED: |Consolidate compiler|-- |Scanning dependencies))");
  for (const std::string& raw : split(text, '\n')) {
    std::string line = printable(raw);
    if (std::regex_search(line, noise)) continue;
    if (starts_with(trim(line), "/usr/bin/") || line.find(" -o ") != std::string::npos) continue;  // compile commands
    std::smatch m;
    if (std::regex_search(line, m, located)) {
      std::string path = m[1].str();
      skipping_staff = path.find("autograder/hidden/") != std::string::npos || starts_with(path, "solutions/") ||
                       path.find("/solutions/") != std::string::npos;
      if (skipping_staff) {
        ++omitted;
        continue;
      }
    } else if (skipping_staff && (starts_with(line, " ") || line.empty())) {
      continue;  // the quoted source of an omitted staff diagnostic
    } else {
      skipping_staff = false;
    }
    if (!started) {
      if (line.find("error") == std::string::npos && line.find("undefined reference") == std::string::npos &&
          line.find("In function") == std::string::npos && line.find("In file included") == std::string::npos)
        continue;
      started = true;
    }
    out.push_back(line);
    if (out.size() >= 60) {
      out.push_back("[... more errors cut: fix the first ones, then rebuild locally with ./mlsys test]");
      break;
    }
  }
  if (omitted) out.push_back("(" + std::to_string(omitted) + " diagnostic(s) inside staff-only files were omitted)");
  if (out.empty()) out.push_back(clip(printable(text), 3000, 3000));
  return clip(join(out, "\n"), 8000);
}

// ----------------------------------------------------------------------------------------------
// The grading run
// ----------------------------------------------------------------------------------------------

namespace {

// One build configuration: which student files come from the submission (the others from
// solutions/), which targets it needs, and where its executables ended up.
struct Config {
  std::string name;                  // "reference", "task 2.1", "local"
  std::vector<std::string> student;  // student files taken from the submission
  std::set<std::string> targets;
  fs::path bin_dir;
  bool ok = false;
  std::string errors;  // trimmed compiler output, or the lint problems
  std::string source;  // "reference build", "cached build", "built", "lint"
};

std::string list_key(const std::vector<std::string>& files) { return hex64(fnv1a(join(files, "\n"))).substr(0, 12); }

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

class Grading {
 public:
  Grading(const GradeOptions& o, GradeResult& res) : o_(o), res_(res) {}

  void run() {
    double t0 = now_seconds();
    rubric_ = load_rubric(o_.rubric.string());
    res_.pa = rubric_.pa;
    res_.title = rubric_.title;
    res_.max_score = rubric_.total_points();
    official_ = fs::is_directory(o_.tree / "solutions") && !o_.force_local;
    res_.mode = official_ ? "official" : "local";
    if (o_.solution && !official_)
      throw GradeError("--solution needs the staff tree (this tree has no solutions/ folder)");
    jobs_ = o_.jobs > 0 ? o_.jobs : std::max(1u, std::thread::hardware_concurrency());
    policy_ = probe_sandbox(o_.allow_namespaces);
    res_.sandbox = policy_.describe();
    res_.sandbox_gaps = policy_.limits_not_enforced;
    detect_gpu();
    if (o_.only == "gpu" && !gpu_) {  // nothing of this run can be graded on this machine
      res_.notes.push_back("--only gpu on a machine without a GPU: nothing is graded here (every item is \"not "
                           "graded\"); run it on a machine with an NVIDIA GPU and nvcc");
      log("--only gpu: this machine has no GPU, so nothing is graded here");
      res_.submission = !o_.submission.empty() ? o_.submission.string() : o_.solution ? "solutions/" : "the tree's student files";
      for (const Task& t : rubric_.tasks) {
        Config& c = configs_[official_ ? "task " + t.id : "local"];
        c.ok = true;
        c.source = "nothing to build here (--only gpu without a GPU)";
      }
      list_cases();
      measure();
      score();
      return;
    }
    open_work_dir();
    if (policy_.root) uids_ = std::make_unique<UidPool>(jobs_);

    collect();
    stage();
    res_.timings["stage"] = now_seconds() - t0;
    double t1 = now_seconds();
    build_all();
    res_.timings["build"] = now_seconds() - t1;
    double t2 = now_seconds();
    tests_deadline_ = t2 + rubric_.limits.tests_s;
    list_cases();
    run_cases();
    res_.timings["tests"] = now_seconds() - t2;
    double t3 = now_seconds();
    perf_deadline_ = t3 + rubric_.limits.performance_s;
    measure();
    if (!rubric_.performance.empty()) res_.timings["performance"] = now_seconds() - t3;
    score();
  }

  void release() {
    uids_.reset();
    if (lock_fd_ >= 0) ::close(lock_fd_);
    lock_fd_ = -1;
  }

  ~Grading() { release(); }

 private:
  // --------------------------------------------------------------------------------------------
  // Set-up
  // --------------------------------------------------------------------------------------------

  void detect_gpu() {
    const char* force = std::getenv("MLSYS_GRADER_GPU");
    bool have_nvcc = have_program("nvcc") || fs::exists("/usr/local/cuda/bin/nvcc");
    if (force) {
      gpu_ = std::string(force) == "1";
    } else if (have_program("nvidia-smi")) {
      CommandResult r = run_command({"nvidia-smi", "-L"}, {}, {}, 30, 1 << 16);
      gpu_ = r.exit_code == 0 && r.output.find("GPU ") != std::string::npos;
      if (gpu_ && !have_nvcc) {
        gpu_ = false;
        res_.notes.push_back("a GPU is present but nvcc is not, so GPU tests are not graded here");
      }
    }
    res_.gpu = gpu_;
  }

  // $MLSYS_CUDA_ARCHITECTURES, else the GPU's own: "native" needs CMake 3.24, so on older CMake
  // (Ubuntu 22.04, Gradescope) ask the driver for the compute capability.
  static std::string cuda_architectures() {
    if (const char* archs = std::getenv("MLSYS_CUDA_ARCHITECTURES")) return archs;
    CommandResult v = run_command({"cmake", "--version"}, {}, {}, 30, 4096);
    int major = 0, minor = 0;
    if (std::sscanf(v.output.c_str(), "cmake version %d.%d", &major, &minor) == 2 && (major > 3 || minor >= 24))
      return "native";
    CommandResult q = run_command({"nvidia-smi", "--query-gpu=compute_cap", "--format=csv,noheader"}, {}, {}, 30, 4096);
    std::set<std::string> caps;
    for (const std::string& line : split(q.output, '\n'))
      if (std::regex_match(trim(line), std::regex("[0-9]+\\.[0-9]+"))) caps.insert(replace_all(trim(line), ".", ""));
    return caps.empty() ? "75" : join(std::vector<std::string>(caps.begin(), caps.end()), ";");
  }

  // Whether every folder above `p` lets others through (test users must reach the work folder).
  static bool reachable_by_others(const fs::path& p, fs::path* blocker) {
    for (fs::path q = p.parent_path(); !q.empty() && q != q.root_path(); q = q.parent_path()) {
      struct stat st;
      if (::stat(q.c_str(), &st) == 0 && !(st.st_mode & S_IXOTH)) {
        if (blocker) *blocker = q;
        return false;
      }
    }
    return true;
  }

  void open_work_dir() {
    fs::create_directories(o_.work);
    work_ = fs::canonical(o_.work);
    fs::path blocker;
    if (policy_.root && !reachable_by_others(work_, &blocker)) {
      // E.g. a checkout under /root (mode 0700): grade in a folder the test users can reach,
      // one per requested folder, so that its build stays incremental between gradings.
      fs::path moved = fs::path("/var/tmp/mlsys-grader") / hex64(fnv1a(work_.string()));
      fs::create_directories(moved);
      fs::permissions(moved.parent_path(), fs::perms(0711));
      res_.notes.push_back("work folder " + work_.string() + " is not reachable by the test users (" + blocker.string() +
                           " is not searchable by others); grading in " + moved.string() + " instead");
      log(res_.notes.back());
      work_ = fs::canonical(moved);
    }
    lock_fd_ = ::open((work_ / ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock_fd_ < 0 || ::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
      log("waiting for another grading that uses " + work_.string());
      if (lock_fd_ < 0 || ::flock(lock_fd_, LOCK_EX) != 0) throw GradeError("cannot lock " + work_.string());
    }
    // Shared scratch folders become private per run (with namespaces), except one that holds
    // the work folder itself; what is not private is swept after every run.
    all_tmp_private_ = policy_.namespaces;
    for (const char* d : {"/tmp", "/var/tmp", "/dev/shm"}) {
      std::string w = work_.string() + "/", dir = fs::weakly_canonical(d).string() + "/";
      if (policy_.namespaces && !starts_with(w, dir))
        private_dirs_.push_back(d);
      else
        all_tmp_private_ = false;
    }
    // Without namespaces nothing is masked: the course tree is closed to test users instead.
    if (policy_.root && !policy_.namespaces) forbid_others(hide_all_but(o_.tree, {work_}));
    stage_ = work_ / "stage";
    build_ = work_ / "build";
    run_dir_ = work_ / "run";
    remove_tree(run_dir_);
    fs::create_directories(run_dir_);
    fs::create_directories(build_);
    if (policy_.root) {
      // Test users must reach the stage (data files) and their run folders.
      if (!reachable_by_others(work_, &blocker))
        throw GradeError("test users cannot reach the work folder: " + blocker.string() +
                         " is not searchable by others (chmod o+x it, or use another --work folder)");
      fs::permissions(work_, fs::perms(0711));
      fs::permissions(run_dir_, fs::perms(0711));
      fs::permissions(build_, fs::perms(0700));
    }
  }

  // --------------------------------------------------------------------------------------------
  // 1-2. Collect the submission, stage the tree
  // --------------------------------------------------------------------------------------------

  void collect() {
    if (o_.solution) {
      sub_ = tree_submission(o_.tree, rubric_, true);
    } else if (!o_.submission.empty()) {
      sub_ = collect_submission(o_.submission, rubric_, work_ / "submission", policy_, uids_ ? uids_->uid(0) : -1);
    } else {
      sub_ = tree_submission(o_.tree, rubric_, false);
    }
    res_.submission = sub_.description;
    for (const std::string& f : rubric_.student_files) {
      if (sub_.files.count(f)) {
        std::string from = sub_.found_at[f];
        res_.files_taken.push_back(from == f ? f : f + " (from " + from + ")");
        content_[f] = sub_.files[f];
      } else {
        res_.files_starter.push_back(f);
        fs::path starter = o_.tree / f;
        if (!fs::is_regular_file(starter)) throw GradeError("the starter file " + f + " is missing from the course tree");
        content_[f] = read_file(starter);
      }
      if (official_) solution_[f] = read_file(o_.tree / "solutions" / f);
    }
    res_.files_ignored = sub_.ignored;
    res_.notes.insert(res_.notes.end(), sub_.notes.begin(), sub_.notes.end());
  }

  void stage() {
    std::set<std::string> student(rubric_.student_files.begin(), rubric_.student_files.end());
    uint64_t fp = sync_stage(o_.tree, stage_, student);
    for (const std::string& f : rubric_.student_files) place_file(stage_, f, content_[f]);
    for (const std::string& f : rubric_.student_files) {
      std::vector<std::string> problems = lint_student_file(f, content_[f], &res_.review);
      if (!problems.empty()) lint_[f] = join(problems, "\n");
    }
    // The fingerprint of everything a cached executable depends on besides the task's files.
    cmake_args_ = {"-DCMAKE_BUILD_TYPE=Release", "-DMLSYS_SOLUTIONS=OFF", "-DMLSYS_PYTHON=OFF", "-DMLSYS_MPI=OFF",
                   "-DMLSYS_GRADER_LISTENER=ON", "-DCMAKE_GTEST_DISCOVER_TESTS_DISCOVERY_MODE=PRE_TEST",
                   "-DCMAKE_EXPORT_COMPILE_COMMANDS=ON",
                   std::string("-DMLSYS_CUDA=") + (gpu_ ? "AUTO" : "OFF")};
    if (gpu_) cmake_args_.push_back("-DCMAKE_CUDA_ARCHITECTURES=" + cuda_architectures());
    for (const auto& kv : rubric_.cmake_options) cmake_args_.push_back("-D" + kv.first + "=" + kv.second);
    generator_ = have_program("ninja") ? "Ninja" : "Unix Makefiles";
    // kCacheLayout changes whenever the grader stores its builds differently.
    static const char* kCacheLayout = "mlsys-grader-cache-2";
    // Root and non-root gradings keep separate caches: only root sets the hidden executables'
    // ownership, so a cache made without root must never serve a root grading.
    fp = fnv1a(join(cmake_args_, " ") + generator_ + kCacheLayout + (policy_.root ? " root" : " user"), fp);
    cache_ = work_ / "cache" / hex64(fp);
    std::error_code ec;
    if (fs::is_directory(work_ / "cache"))
      for (auto& e : fs::directory_iterator(work_ / "cache", ec))
        if (e.path() != cache_) remove_tree(e.path());  // built from an older course tree
    fs::create_directories(cache_);
    // The reference's recorded outputs per case, and the seed that picks which elements of a
    // large tensor are compared: fixed per cache, so the records stay valid between gradings.
    ref_records_dir_ = cache_ / "ref-records";
    fs::create_directories(ref_records_dir_);
    fs::path seed_file = cache_ / "record-seed";
    if (!fs::exists(seed_file)) write_file_atomic(seed_file, std::to_string(std::stoull(random_hex(7), nullptr, 16)));
    record_seed_ = std::stoull(trim(read_file(seed_file)));
    if (policy_.root) {
      fs::permissions(ref_records_dir_, fs::perms(0700));
      fs::permissions(seed_file, fs::perms(0600));
      // Closed to test users: a run gets a hard link of its own executable in its run folder
      // (RunSpec::private_executable), never a path into the cache (the reference build).
      fs::permissions(work_ / "cache", fs::perms(0700));
      fs::permissions(cache_, fs::perms(0700));
      // Test users may read the stage (data files) but not hidden tests or solutions.
      for (const char* secret : {"autograder/hidden", "solutions", "autograder/gradescope"})
        if (fs::exists(stage_ / secret)) fs::permissions(stage_ / secret, fs::perms(0700));
    }
  }

  // --------------------------------------------------------------------------------------------
  // 3. Build one configuration per task
  // --------------------------------------------------------------------------------------------

  bool target_hidden(const std::string& target) const {
    for (const Task& t : rubric_.tasks)
      for (const TestGroup& g : t.tests)
        if (g.target == target && g.hidden) return true;
    return false;
  }

  // Local grading never runs hidden tests (a student release has none; --local in the staff
  // tree behaves the same).
  bool group_graded(const TestGroup& g) const {
    return selected(g.requires_gpu) && (!g.requires_gpu || gpu_) && (official_ || !g.hidden);
  }
  // --only gpu / --only cpu: whether a group or item of this kind is graded in this run.
  bool selected(bool requires_gpu) const { return o_.only.empty() || (o_.only == "gpu") == requires_gpu; }
  std::string not_graded_reason(bool requires_gpu) const {
    return selected(requires_gpu) ? "not graded here: no GPU" : "not graded in this run (--only " + o_.only + ")";
  }

  std::set<std::string> targets_of(const Task* task) const {
    std::set<std::string> out;
    for (const Task& t : rubric_.tasks) {
      if (task && &t != task) continue;
      for (const TestGroup& g : t.tests)
        if (group_graded(g)) out.insert(g.target);
    }
    for (const PerfItem& p : rubric_.performance)
      if ((!task || p.task == task->id) && selected(p.requires_gpu) && (!p.requires_gpu || gpu_)) out.insert(p.benchmark);
    return out;
  }

  std::map<std::string, fs::path> read_target_map() {
    std::map<std::string, fs::path> m;
    fs::path file = build_ / "mlsys_grader_targets.txt";
    if (!fs::exists(file)) return m;
    for (const std::string& line : split(read_file(file), '\n')) {
      size_t tab = line.find('\t');
      if (tab != std::string::npos) m[line.substr(0, tab)] = line.substr(tab + 1);
    }
    return m;
  }

  // Re-runs CMake with this set of solution files (cheap: the cache is kept).
  // `prebuilt` ("<student file>=<object>") links objects compiled in the sandbox instead.
  CommandResult configure(const std::vector<std::string>& solution_files, const std::vector<std::string>& prebuilt = {}) {
    std::vector<std::string> args = {"cmake", "-S", stage_.string(), "-B", build_.string(), "-G", generator_};
    args.insert(args.end(), cmake_args_.begin(), cmake_args_.end());
    args.push_back("-DMLSYS_SOLUTION_FILES=" + join(solution_files, ";"));
    args.push_back("-DMLSYS_PREBUILT_OBJECTS=" + join(prebuilt, ";"));
    // A build folder made by another generator cannot be reused.
    fs::path cache_file = build_ / "CMakeCache.txt";
    if (fs::exists(cache_file) && read_file(cache_file).find("CMAKE_GENERATOR:INTERNAL=" + generator_ + "\n") == std::string::npos) {
      remove_tree(build_);
      fs::create_directories(build_);
    }
    CommandResult r = run_command(args, work_, {}, 900);
    debug("configure (" + format_seconds(r.seconds) + ")");
    return r;
  }

  // Copies the configuration's executables into a cache entry (hidden ones executable only by
  // the hidden group, none readable by test users).
  // Hidden test executables go to cache/hidden/<entry>: a folder only hidden runs may enter
  // (root: group hidden_gid; with namespaces it is also masked in visible runs).
  static fs::path hidden_dir_of(const fs::path& entry) { return entry.parent_path() / "hidden" / entry.filename(); }

  void store(Config& c, const fs::path& entry, const std::map<std::string, fs::path>& targets) {
    fs::path bin = entry / "bin", hbin = hidden_dir_of(entry);
    remove_tree(hbin);
    fs::create_directories(bin);
    fs::create_directories(hbin);
    for (const std::string& t : c.targets) {
      auto it = targets.find(t);
      if (it == targets.end() || !fs::exists(it->second)) throw GradeError("the build has no executable for target " + t);
      fs::path dst = (target_hidden(t) ? hbin : bin) / t;
      fs::copy_file(it->second, dst, fs::copy_options::overwrite_existing);
      fs::permissions(dst, policy_.root ? fs::perms(0711) : fs::perms(0755));
    }
    if (policy_.root) {
      fs::permissions(entry, fs::perms(0711));
      fs::permissions(bin, fs::perms(0711));
      fs::permissions(hbin.parent_path(), fs::perms(0711));
      if (::chown(hbin.c_str(), 0, static_cast<gid_t>(hidden_gid())) != 0) throw GradeError("cannot chown " + hbin.string());
      fs::permissions(hbin, fs::perms(0710));
    }
    write_file_atomic(entry / "complete", "");
    c.bin_dir = bin;
  }

  fs::path bin_of(const Config& c, const std::string& target) const {
    return (target_hidden(target) ? hidden_dir_of(c.bin_dir.parent_path()) : c.bin_dir) / target;
  }

  bool build_config(Config& c, const std::vector<std::string>& solution_files,
                    const std::vector<std::string>& prebuilt = {}) {
    CommandResult cfg = configure(solution_files, prebuilt);
    if (cfg.exit_code != 0) {
      c.errors = "CMake configure failed:\n" + trim_build_log(cfg.output, stage_.string());
      return false;
    }
    std::vector<std::string> args = {"cmake", "--build", build_.string(), "-j", std::to_string(jobs_), "--target"};
    args.insert(args.end(), c.targets.begin(), c.targets.end());
    CommandResult b = run_command(args, work_, {}, 3600);
    log(c.name + ": built in " + format_seconds(b.seconds) + (b.exit_code == 0 ? "" : " (FAILED)"));
    if (b.exit_code != 0) {
      c.errors = trim_build_log(b.output, stage_.string());
      if (verbose()) log(clip(b.output, 20000, 20000));
      return false;
    }
    return true;
  }

  // A cache entry for this file set whose stored files equal the submission's.
  // Whether a cache entry holds every executable of `targets` (a rubric may have grown).
  bool has_targets(const fs::path& entry, const std::set<std::string>& targets) const {
    for (const std::string& t : targets)
      if (!fs::exists((target_hidden(t) ? hidden_dir_of(entry) : entry / "bin") / t)) return false;
    return true;
  }

  fs::path find_cached(const std::string& key, const std::vector<std::string>& files,
                       const std::set<std::string>& targets) {
    std::error_code ec;
    for (auto& e : fs::directory_iterator(cache_, ec)) {
      std::string name = e.path().filename().string();
      if (!starts_with(name, key + "-") || !fs::exists(e.path() / "complete")) continue;
      bool same = true;
      for (const std::string& f : files) {
        fs::path stored = e.path() / "files" / f;
        same = same && fs::exists(stored) && read_file(stored) == content_[f];
      }
      if (same && has_targets(e.path(), targets)) {
        fs::last_write_time(e.path() / "complete", fs::file_time_type::clock::now(), ec);
        return e.path();
      }
    }
    return {};
  }

  void evict(const std::string& key) {
    std::vector<std::pair<fs::file_time_type, fs::path>> entries;
    std::error_code ec;
    for (auto& e : fs::directory_iterator(cache_, ec))
      if (starts_with(e.path().filename().string(), key + "-"))
        entries.emplace_back(fs::exists(e.path() / "complete") ? fs::last_write_time(e.path() / "complete")
                                                               : fs::file_time_type::min(),
                             e.path());
    std::sort(entries.begin(), entries.end(), [](auto& a, auto& b) { return a.first > b.first; });
    for (size_t i = static_cast<size_t>(std::max(1, o_.cache_entries)); i < entries.size(); ++i) {
      remove_tree(entries[i].second);
      remove_tree(hidden_dir_of(entries[i].second));
    }
  }

  void build_all() {
    if (!official_) {
      Config& c = configs_["local"];
      c.name = "local build";
      c.targets = targets_of(nullptr);
      // In a student release hidden targets do not exist: keep what the build defines.
      CommandResult cfg = configure({});
      if (cfg.exit_code != 0) throw GradeError("CMake configure failed:\n" + trim_build_log(cfg.output, stage_.string()));
      auto targets = read_target_map();
      for (auto it = c.targets.begin(); it != c.targets.end();)
        it = targets.count(*it) ? std::next(it) : c.targets.erase(it);
      for (const auto& [f, problems] : lint_) c.errors += problems + "\n";
      // As root, the student's files are compiled by a test user in the sandbox here too, so no
      // step that reads student code runs as root.
      c.student = rubric_.student_files;
      std::vector<std::string> prebuilt;
      c.ok = c.errors.empty() && (!policy_.root || compile_student_files(c, {}, "local", &prebuilt)) &&
             build_config(c, {}, prebuilt);
      c.source = "built";
      if (c.ok) {
        remove_tree(cache_ / "local");
        store(c, cache_ / "local", targets);
      }
      return;
    }
    // The reference: every student file from solutions/. Its test list is the trusted one.
    Config& ref = configs_["reference"];
    ref.name = "reference build";
    ref.targets = targets_of(nullptr);
    ref.student = {};
    fs::path ref_entry = cache_ / "ref";
    if (fs::exists(ref_entry / "complete") && has_targets(ref_entry, ref.targets)) {
      ref.ok = true;
      ref.bin_dir = ref_entry / "bin";
      ref.source = "cached reference build";
    } else {
      remove_tree(ref_entry);
      if (!build_config(ref, rubric_.student_files))
        throw GradeError("the staff tree does not build with the reference solutions:\n" + ref.errors);
      store(ref, ref_entry, read_target_map());
      ref.source = "reference build";
    }
    // One configuration per task.
    for (const Task& t : rubric_.tasks) {
      Config& c = configs_["task " + t.id];
      c.name = "task " + t.id;
      c.student = t.files;
      c.targets = targets_of(&t);
      if (c.targets.empty()) {  // e.g. a GPU task on a machine without a GPU: nothing runs, nothing to build
        c.ok = true;
        c.source = "nothing to build here (no test of this task is graded on this machine)";
        continue;
      }
      bool same_as_solution = true;
      for (const std::string& f : t.files) same_as_solution &= content_[f] == solution_[f];
      std::string problems;
      for (const std::string& f : t.files)
        if (lint_.count(f)) problems += lint_[f] + "\n";
      if (!problems.empty()) {
        c.errors = problems;
        c.source = "rejected before compiling";
        continue;
      }
      if (same_as_solution) {
        c.ok = true;
        c.bin_dir = ref.bin_dir;
        c.source = "identical to the solution: reference build";
        continue;
      }
      std::string key = list_key(t.files);
      fs::path hit = find_cached(key, t.files, c.targets);
      if (!hit.empty()) {
        c.ok = true;
        c.bin_dir = hit / "bin";
        c.source = "cached build";
        continue;
      }
      // Configurations of tasks that share the same files are the same build.
      bool reused = false;
      for (auto& [name, other] : configs_)
        if (&other != &c && other.student == c.student && other.ok && !other.bin_dir.empty()) {
          bool covers = std::includes(other.targets.begin(), other.targets.end(), c.targets.begin(), c.targets.end());
          if (covers) {
            c.ok = true;
            c.bin_dir = other.bin_dir;
            c.source = other.source;
            reused = true;
            break;
          }
        }
      if (reused) continue;
      std::vector<std::string> solution_files;
      for (const std::string& f : rubric_.student_files)
        if (std::find(t.files.begin(), t.files.end(), f) == t.files.end()) solution_files.push_back(f);
      // A task sharing its files with later tasks builds their targets too (one build for all).
      for (const Task& u : rubric_.tasks)
        if (u.files == t.files) {
          auto more = targets_of(&u);
          c.targets.insert(more.begin(), more.end());
        }
      std::vector<std::string> prebuilt;
      c.ok = compile_student_files(c, solution_files, key, &prebuilt) && build_config(c, solution_files, prebuilt);
      c.source = "built";
      if (c.ok) {
        fs::path entry = cache_ / (key + "-" + random_hex(4));
        for (const std::string& f : t.files) write_file_atomic(entry / "files" / f, content_[f]);
        if (policy_.root) fs::permissions(entry / "files", fs::perms(0700));
        store(c, entry, read_target_map());
        evict(key);
      }
    }
  }

  // --------------------------------------------------------------------------------------------
  // 3a. Compile the submitted files in the sandbox
  // --------------------------------------------------------------------------------------------
  //
  // A text check of #include lines loses against the preprocessor (comments, continuations,
  // .incbin in inline assembly). So each submitted file is compiled by the test user in the
  // sandbox, with the command CMake would use, where solutions/, hidden tests, the build and
  // cache folders and the original course tree's staff folders cannot be read; the CMake build
  // then links the object (MLSYS_PREBUILT_OBJECTS) with staff code built separately. The
  // object's symbols are checked before it is linked (check_object).

  // A student file that takes longer than this to compile is rejected (a legitimate one takes
  // seconds; a recursive include or a template bomb would take the grading with it).
  static constexpr double kCompileTimeout = 120;

  // Words of a compile command as compile_commands.json writes it (quotes and backslashes).
  static std::vector<std::string> shell_words(const std::string& cmd) {
    std::vector<std::string> words;
    std::string cur;
    bool in_word = false;
    char quote = 0;
    for (size_t i = 0; i < cmd.size(); ++i) {
      char ch = cmd[i];
      if (quote == '\'') {
        if (ch == '\'') quote = 0;
        else cur += ch;
      } else if (ch == '\\' && i + 1 < cmd.size() && (quote == 0 || std::strchr("\"\\$`", cmd[i + 1]))) {
        cur += cmd[++i];
        in_word = true;
      } else if (quote == '"') {
        if (ch == '"') quote = 0;
        else cur += ch;
      } else if (ch == '"' || ch == '\'') {
        quote = ch;
        in_word = true;
      } else if (std::isspace(static_cast<unsigned char>(ch))) {
        if (in_word) words.push_back(cur);
        cur.clear();
        in_word = false;
      } else {
        cur += ch;
        in_word = true;
      }
    }
    if (in_word) words.push_back(cur);
    return words;
  }

  // The compile command of `file` in the configured build, without its dependency-file and
  // output options; empty if the build does not compile it.
  std::vector<std::string> compile_command_of(const fs::path& file) {
    json db = json::parse(read_file(build_ / "compile_commands.json"), nullptr, false);
    if (!db.is_array()) return {};
    for (const json& e : db) {
      if (!e.is_object() || !e.contains("file") || !e["file"].is_string() || fs::path(e["file"].get<std::string>()) != file)
        continue;
      std::vector<std::string> words = e.contains("arguments") && e["arguments"].is_array()
                                           ? e["arguments"].get<std::vector<std::string>>()
                                           : shell_words(e.value("command", ""));
      std::vector<std::string> out;
      for (size_t i = 0; i < words.size(); ++i) {
        const std::string& w = words[i];
        if (w == "-o" || w == "-MT" || w == "-MF" || w == "-MQ") {
          ++i;
          continue;
        }
        if (w == "-MD" || w == "-MMD") continue;
        out.push_back(w);
      }
      return out;
    }
    return {};
  }

  // Compiles the task's submitted files in the sandbox; fills `prebuilt` for configure().
  bool compile_student_files(Config& c, const std::vector<std::string>& solution_files, const std::string& key,
                             std::vector<std::string>* prebuilt) {
    CommandResult cfg = configure(solution_files);
    if (cfg.exit_code != 0) {
      c.errors = "CMake configure failed:\n" + trim_build_log(cfg.output, stage_.string());
      return false;
    }
    int uid = uids_ ? uids_->uid(0) : -1;
    fs::path objects = build_ / "prebuilt" / key;
    remove_tree(objects);
    fs::create_directories(objects);
    for (const std::string& f : c.student) {
      std::vector<std::string> cmd = compile_command_of(stage_ / f);
      if (cmd.empty()) continue;  // this configuration does not compile the file
      fs::path dir = make_run_dir(uid, uid);
      std::string obj = (dir / (fs::path(f).filename().string() + ".o")).string();
      cmd.push_back("-o");
      cmd.push_back(obj);
      if (!fs::path(cmd[0]).is_absolute() && !which(cmd[0]).empty()) cmd[0] = which(cmd[0]);
      RunSpec spec = spec_for(fs::path(cmd[0]), std::vector<std::string>(cmd.begin() + 1, cmd.end()), dir,
                              kCompileTimeout, uid, uid, 0);
      spec.max_output = 1 << 20;
      spec.max_processes = 64;
      append_staff_paths(spec.hide_paths);
      // The public tests too: a student file has no reason to include them, and their helpers
      // compute the expected results (PA3's pp_test_util.h generates the schedules of Task 6.2).
      for (const fs::path& tests : public_test_dirs()) spec.hide_paths.push_back(tests.string());
      double t0 = now_seconds();
      RunResult r = run_sandboxed(spec, policy_);
      debug("compile " + f + ": " + format_seconds(now_seconds() - t0));
      struct stat st;
      bool made = ::lstat(obj.c_str(), &st) == 0 && S_ISREG(st.st_mode);
      if (!r.exited || r.exit_code != 0 || !made) {
        c.errors = r.timed_out || r.signal || r.output_exceeded
                       ? f + ": the compiler " + r.describe_end(kCompileTimeout) + " (limits: " +
                             format_seconds(kCompileTimeout) + ", " +
                             format_points(rubric_.limits.memory_mb) + " MiB)"
                       : trim_build_log(r.output, stage_.string());
        if (c.errors.empty()) c.errors = f + ": the compiler " + r.describe_end(kCompileTimeout);
        remove_tree(dir);
        return false;
      }
      std::string problems = check_object(f, obj, dir, uid);
      fs::path kept = objects / (fs::path(f).filename().string() + ".o");
      fs::copy_file(obj, kept, fs::copy_options::overwrite_existing);
      remove_tree(dir);
      if (!problems.empty()) {
        c.errors = problems;
        return false;
      }
      prebuilt->push_back(f + "=" + kept.string());
    }
    return true;
  }

  // The stage's test folders (<top-level folder>/tests: pa3_parallelism/tests, common/tests, ...).
  std::vector<fs::path> public_test_dirs() const {
    std::vector<fs::path> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(stage_, ec))
      if (e.is_directory(ec) && fs::is_directory(e.path() / "tests", ec)) out.push_back(e.path() / "tests");
    std::sort(out.begin(), out.end());
    return out;
  }

  // Staff-only folders a student process must never read: the stage's are masked by spec_for;
  // these are the cache (reference executables) and the original course tree's.
  void append_staff_paths(std::vector<std::string>& hide) const {
    std::vector<std::string> staff = hide_all_but(o_.tree, {work_});  // never the way to the work folder
    staff.push_back(cache_.string());
    for (const std::string& p : staff)
      if (std::find(hide.begin(), hide.end(), p) == hide.end()) hide.push_back(p);
  }

  // The symbols a student object may not define or use, judged from the object (nm in the
  // sandbox), not from the source text: C-linkage definitions (they replace the C library's
  // own functions, e.g. write() to rewrite the result record), the test framework and the
  // grader's channel, and the rubric's forbidden libraries.
  std::string check_object(const std::string& file, const std::string& obj, const fs::path& dir, int uid) {
    RunSpec spec = spec_for(fs::path(which("nm")), {"-P", "-g", obj}, dir, 60, uid, uid, 0);
    spec.max_output = 16 << 20;
    append_staff_paths(spec.hide_paths);
    RunResult r = run_sandboxed(spec, policy_);
    if (!r.exited || r.exit_code != 0) return file + ": error: the compiled object could not be read (nm " + r.describe_end(60) + ")";
    std::vector<std::string> problems;
    std::set<std::string> seen;
    for (const std::string& line : split(r.output, '\n')) {
      std::vector<std::string> parts = split(trim(line), ' ');
      if (parts.size() < 2 || parts[1].size() != 1) continue;
      const std::string& name = parts[0];
      char type = parts[1][0];
      bool defined = type != 'U' && type != 'w' && type != 'v';
      std::string pretty = demangle(name);
      std::string why;
      // Compiler-made names (DW.ref.__gxx_personality_v0, CUDA registration) are not C functions.
      bool c_identifier = std::regex_match(name, std::regex("[A-Za-z_][A-Za-z0-9_]*"));
      if (defined && c_identifier && !starts_with(name, "_Z") && !starts_with(name, "__cuda") &&
          !starts_with(name, "__nv") && !starts_with(name, "__fatbin"))
        why = "defines the C-linkage symbol '" + name + "': a student file may define only C++ functions "
              "(a C-linkage definition can replace the C library's own)";
      else if (starts_with(pretty, "testing::") || starts_with(pretty, "mlsys::test::") ||
               pretty.find("mlsys_grader") != std::string::npos)
        why = "uses '" + clip(pretty, 120) + "': student files may not use the test framework or the grader";
      else
        for (const ForbiddenSymbol& fsym : rubric_.forbidden_symbols)
          if (fsym.applies_to(file) && std::regex_search(pretty, std::regex(fsym.pattern))) {
            why = "uses '" + clip(pretty, 120) + "': " + fsym.why;
            break;
          }
      if (!why.empty() && seen.insert(why).second) problems.push_back(file + ": error: " + why);
      if (problems.size() >= 10) break;
    }
    return join(problems, "\n");
  }

  static std::string demangle(const std::string& name) {
    int status = 0;
    char* out = abi::__cxa_demangle(name.c_str(), nullptr, nullptr, &status);
    std::string s = status == 0 && out ? out : name;
    std::free(out);
    return s;
  }

  const Config& config_for(const std::string& task_id) const {
    return official_ ? configs_.at("task " + task_id) : configs_.at("local");
  }

  // --------------------------------------------------------------------------------------------
  // 4. Run every test case
  // --------------------------------------------------------------------------------------------

  // Names of the cases of one executable, from the trusted build (the reference, officially).
  std::vector<std::string> list_target(const std::string& target) {
    auto it = listings_.find(target);
    if (it != listings_.end()) return it->second;
    const Config& c = official_ ? configs_.at("reference") : configs_.at("local");
    fs::path bin = bin_of(c, target);
    // A listing runs the executable's static initializers: student code in local grading. So
    // it runs like a test, in the sandbox as a test user.
    int uid = uids_ ? uids_->uid(0) : -1;
    int gid = uids_ && target_hidden(target) ? hidden_gid() : uid;
    fs::path dir = make_run_dir(uid, gid);
    RunSpec spec = spec_for(bin, {"--gtest_list_tests"}, dir, 60, uid, gid, 1);
    spec.max_output = 4 << 20;
    spec.private_executable = true;
    RunResult r = run_sandboxed(spec, policy_);
    remove_tree(dir);
    if (!r.started || !r.exited || r.exit_code != 0)
      throw GradeError("listing the tests of " + target + " failed (" + r.describe_end(60) + "):\n" + clip(r.output, 3000));
    std::vector<std::string> names;
    std::string suite;
    for (const std::string& raw : split(r.output, '\n')) {
      if (trim(raw).empty()) continue;
      std::string token = trim(raw).substr(0, trim(raw).find_first_of(" \t#"));
      if (raw[0] != ' ') {
        suite = token;
      } else if (!suite.empty() && ends_with(suite, ".")) {
        std::string name = suite + token;
        if (name.find("DISABLED_") == std::string::npos) names.push_back(name);
      }
    }
    listings_[target] = names;
    return names;
  }

  void list_cases() {
    std::map<std::pair<std::string, std::string>, std::string> owner;  // (target, case) -> "task x filter y"
    bool local_failed = !official_ && !configs_.at("local").ok;
    for (const Task& t : rubric_.tasks) {
      for (const TestGroup& g : t.tests) {
        std::string where = "task " + t.id + " group {" + g.target + ", \"" + g.filter + "\"}";
        if (!official_ && g.hidden) {
          res_.notes.push_back("hidden tests (" + g.target + ") are graded only by the official grader");
          continue;
        }
        if (!group_graded(g)) {
          CaseResult cr;
          cr.task = t.id;
          cr.target = g.target;
          cr.name = g.filter;
          cr.filter = g.filter;
          cr.hidden = g.hidden;
          cr.requires_gpu = g.requires_gpu;
          cr.status = "not_graded";
          cr.reason = not_graded_reason(g.requires_gpu);
          res_.cases.push_back(cr);
          continue;
        }
        if (!official_ && !configs_.at("local").targets.count(g.target))
          throw GradeError("the test executable " + g.target + " is not defined in this tree");
        if (local_failed) {  // nothing to list: one entry per group, worth the group's points
          CaseResult cr;
          cr.task = t.id;
          cr.target = g.target;
          cr.name = g.target + " " + g.filter;
          cr.filter = g.filter;
          cr.hidden = g.hidden;
          cr.max_points = g.points;
          cr.status = "failed";
          cr.reason = "not run: the build failed";
          res_.cases.push_back(cr);
          continue;
        }
        std::vector<std::string> matched;
        for (const std::string& name : list_target(g.target))
          if (gtest_filter_matches(g.filter, name)) matched.push_back(name);
        if (matched.empty()) throw GradeError(where + " matches no test case of " + g.target);
        for (const std::string& name : matched) {
          auto key = std::make_pair(g.target, name);
          if (owner.count(key)) throw GradeError(g.target + " " + name + " is matched by two groups: " + owner[key] + " and " + where);
          owner[key] = where;
          CaseResult cr;
          cr.task = t.id;
          cr.target = g.target;
          cr.name = name;
          cr.filter = g.filter;
          cr.hidden = g.hidden;
          cr.requires_gpu = g.requires_gpu;
          cr.max_points = g.points / static_cast<double>(matched.size());
          cr.status = "failed";
          res_.cases.push_back(cr);
          timeouts_.push_back(g.timeout_s > 0 ? g.timeout_s : rubric_.limits.timeout_s);
          case_index_.push_back(res_.cases.size() - 1);
        }
      }
    }
  }

  std::vector<std::string> base_env(const fs::path& home, int omp_threads) const {
    std::vector<std::string> env = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                                    "HOME=" + home.string(), "TMPDIR=" + home.string(), "LANG=C.UTF-8",
                                    "LC_ALL=C.UTF-8", "MALLOC_ARENA_MAX=4"};
    if (omp_threads > 0) env.push_back("OMP_NUM_THREADS=" + std::to_string(omp_threads));
    for (const char* pass : {"CUDA_VISIBLE_DEVICES", "LD_LIBRARY_PATH", "NVIDIA_VISIBLE_DEVICES"})
      if (const char* v = std::getenv(pass)) env.push_back(std::string(pass) + "=" + v);
    return env;
  }

  fs::path make_run_dir(int uid, int gid) {
    fs::path dir = run_dir_ / ("r" + std::to_string(run_counter_++) + "-" + random_hex(4));
    fs::create_directories(dir);
    if (policy_.root && uid >= 0) {
      if (::chown(dir.c_str(), static_cast<uid_t>(uid), static_cast<gid_t>(gid)) != 0)
        throw GradeError("cannot hand " + dir.string() + " to the test user");
      fs::permissions(dir, fs::perms(0700));
    }
    return dir;
  }

  RunSpec spec_for(const fs::path& bin, const std::vector<std::string>& args, const fs::path& dir, double timeout,
                   int uid, int gid, int omp_threads) const {
    RunSpec spec;
    spec.argv = {bin.string()};
    spec.argv.insert(spec.argv.end(), args.begin(), args.end());
    spec.cwd = dir.string();
    spec.env = base_env(dir, omp_threads);
    spec.timeout_s = timeout;
    uint64_t mem = static_cast<uint64_t>(rubric_.limits.memory_mb * 1024 * 1024);
    if (gpu_) {
      spec.memory_bytes = 0;  // the CUDA runtime reserves far more address space than it uses
      spec.data_bytes = mem;
    } else {
      spec.memory_bytes = mem;
    }
    spec.max_output = static_cast<uint64_t>(rubric_.limits.output_kb * 1024);
    spec.max_processes = rubric_.limits.processes;
    spec.uid = uid;
    spec.gid = gid;
    spec.hide_paths = {(stage_ / "autograder/hidden").string(), (stage_ / "solutions").string(), build_.string(),
                       (work_ / "submission").string()};
    spec.hide_paths.erase(std::remove_if(spec.hide_paths.begin(), spec.hide_paths.end(),
                                         [](const std::string& p) { return !fs::is_directory(p); }),
                          spec.hide_paths.end());
    // The original course tree (solutions, hidden tests, other builds) but the way to the work
    // folder, and the build cache (the reference executables).
    for (const std::string& p : hide_all_but(o_.tree, {work_})) spec.hide_paths.push_back(p);
    spec.hide_paths.push_back(cache_.string());
    spec.private_dirs = private_dirs_;
    return spec;
  }

  // The verdict on one case from what the sandbox observed. Nothing the test printed counts;
  // a "passed" report counts only once verify() has compared its recorded outputs with the
  // reference run's. Returns the parsed report (its records are needed by verify()).
  CaseReport judge(CaseResult& cr, const RunResult& r, double timeout) {
    cr.seconds = r.seconds;
    CaseReport rep = parse_report(r.channel, r.secret, cr.name);
    std::string tail = clip(printable(r.output), 0, 3000);
    auto fail = [&](const std::string& reason, const std::string& output) {
      cr.status = "failed";
      cr.points = 0;
      cr.reason = reason;
      cr.output = output;
      return rep;
    };
    if (!r.started) return fail("could not be run: " + r.error, "");
    if (r.timed_out || r.output_exceeded || r.channel_exceeded || r.interfered || r.signal || !r.exited)
      return fail(r.describe_end(timeout), tail);
    if (!rep.problem.empty()) {
      if (starts_with(rep.problem, "reported no result"))
        return fail("exited with code " + std::to_string(r.exit_code) + " before reporting a result" +
                        rep.problem.substr(std::string("reported no result").size()),
                    tail);
      return fail(rep.problem, tail);
    }
    std::string message = printable(rep.message);
    if (rep.status == "passed") {
      if (r.exit_code != 0) return fail("the test passed, but the process then exited with code " + std::to_string(r.exit_code), tail);
      cr.status = "passed";
      cr.points = cr.max_points;
      cr.reason = "passed";
      return rep;
    }
    if (rep.status == "skipped") return fail("skipped" + (message.empty() ? "" : ": " + first_line(message)), message);
    std::string reason = "failed";
    if (message.find("NotImplemented") != std::string::npos) {
      reason = "failed: not implemented yet";
      std::string other = unfinished_other_task(message, cr.task);
      if (!official_ && !other.empty()) {
        cr.needs_task = other;
        reason = "needs Task " + other + " (not done yet; the official grader runs this case with the staff code for it)";
      }
    }
    if (message.find("std::bad_alloc") != std::string::npos)
      reason = "failed: out of memory (the limit is " + format_points(rubric_.limits.memory_mb) + " MiB)";
    // The failure messages, then what the test printed besides GoogleTest's own lines.
    std::string printed = clip(own_output(printable(r.output), message), 0, 2000);
    return fail(reason, clip(message, 6000, 2000) + (printed.empty() ? "" : "\n\n--- what the test printed (last 2000 bytes) ---\n" + printed));
  }

  // Officially, a case that reported "passed" passes only if its recorded outputs match those
  // of the same case run on the reference solution (mlsys/testing.h, "Recorded outputs"). The
  // reference's records are kept in the cache, keyed by case, for later gradings.
  void verify(CaseResult& cr, const CaseReport& rep, const RunSpec& sub_spec, bool from_reference_build) {
    if (!official_ || cr.status != "passed") return;
    fs::path file = ref_records_dir_ / (hex64(fnv1a(cr.target + "\n" + cr.name)) + ".json");
    json ref_records;
    bool have = false;
    {
      std::lock_guard<std::mutex> lock(records_mutex_);
      if (from_reference_build) {
        write_file_atomic(file, rep.records.dump());
        ref_records = rep.records;
        have = true;
      } else if (fs::exists(file)) {
        ref_records = json::parse(read_file(file), nullptr, false);
        have = ref_records.is_array();
      }
    }
    if (!have) {
      // Run the case on the reference build: staff code only, as the grader's own user.
      RunSpec spec = sub_spec;
      spec.argv[0] = bin_of(configs_.at("reference"), cr.target).string();
      spec.uid = spec.gid = -1;
      fs::path dir = run_dir_ / ("ref-" + random_hex(6));
      fs::create_directories(dir);
      spec.cwd = dir.string();
      RunResult r = run_sandboxed(spec, policy_);
      remove_tree(dir);
      CaseReport ref = parse_report(r.channel, r.secret, cr.name);
      if (!r.exited || r.exit_code != 0 || !ref.problem.empty() || ref.status != "passed") {
        cr.status = "failed";
        cr.points = 0;
        cr.reason = "could not be verified: the reference solution's run of this case failed (a staff problem; tell the course staff)";
        std::lock_guard<std::mutex> lock(records_mutex_);
        res_.notes.push_back("the reference run of " + cr.target + " " + cr.name + " failed: " +
                             (ref.problem.empty() ? r.describe_end(spec.timeout_s) : ref.problem));
        return;
      }
      ref_records = ref.records;
      std::lock_guard<std::mutex> lock(records_mutex_);
      write_file_atomic(file, ref_records.dump());
    }
    if (ref_records.empty()) {
      std::lock_guard<std::mutex> lock(records_mutex_);
      res_.unverified.push_back(cr.target + " " + cr.name);
      return;
    }
    std::string diff = compare_records(rep.records, ref_records, !cr.hidden);
    if (diff.empty()) return;
    cr.status = "failed";
    cr.points = 0;
    cr.reason = cr.hidden ? "failed: its outputs differ from the reference solution's"
                          : "failed: its outputs differ from the reference solution's: " + diff;
    cr.output = cr.hidden ? "" : "The test's own checks passed, but " + diff +
                                     ".\nThe grader re-runs every case on the reference solution and compares what "
                                     "the test recorded (mlsys::test::record*, allclose).";
  }

  // The task a NotImplemented message names ("... PA1 Task 1.3 ..."), when it is not `own`:
  // the case stopped at another task's unfinished code.
  static std::string unfinished_other_task(const std::string& message, const std::string& own) {
    static const std::regex task(R"(NotImplemented[^\n]*?PA[0-9]+ Task ([0-9]+(\.[0-9]+)?))");
    std::smatch m;
    if (!std::regex_search(message, m, task) || m[1].str() == own) return "";
    return m[1].str();
  }

  // A test's output without GoogleTest's framing and without the lines of its failure
  // messages (already shown): what the code under test printed.
  static std::string own_output(const std::string& output, const std::string& message) {
    std::set<std::string> known;
    for (const std::string& l : split(message, '\n')) known.insert(trim(l));
    std::vector<std::string> kept;
    for (const std::string& l : split(output, '\n')) {
      std::string t = trim(l);
      if (t.empty() || known.count(t) || starts_with(t, "Running main() from") ||
          starts_with(t, "Note: Google Test filter") || starts_with(t, "[==========]") ||
          starts_with(t, "[----------]") || starts_with(t, "[ RUN      ]") || starts_with(t, "[       OK ]") ||
          starts_with(t, "[  FAILED  ]") || starts_with(t, "[  PASSED  ]") || starts_with(t, "[  SKIPPED ]") ||
          ends_with(t, "FAILED TEST") || ends_with(t, "FAILED TESTS") || ends_with(t, ": Failure"))
        continue;
      kept.push_back(l);
    }
    return join(kept, "\n");
  }

  static std::string first_line(const std::string& s) {
    std::string l = s.substr(0, s.find('\n'));
    return l.size() > 200 ? l.substr(0, 200) + "..." : l;
  }

  // Runs the cases `jobs` until `deadline` (the rubric's limits.tests_s); cases still waiting
  // then fail as "not run", so a submission whose every test hangs cannot stretch a grading.
  void run_phase(const std::vector<size_t>& jobs, bool hidden, double deadline) {
    std::atomic<size_t> next{0};
    std::mutex mutex;
    // OpenMP threads per test: the cores shared out between the parallel runs (oversubscribed
    // OpenMP spins and can slow a test down tenfold); MLSYS_GRADER_OMP_THREADS overrides.
    int omp = std::max(1, static_cast<int>(std::thread::hardware_concurrency()) / jobs_);
    if (const char* v = std::getenv("MLSYS_GRADER_OMP_THREADS")) omp = std::max(1, std::atoi(v));
    auto worker = [&](int slot) {
      int uid = uids_ ? uids_->uid(slot) : -1;
      int gid = uids_ ? (hidden ? hidden_gid() : uid) : -1;
      for (;;) {
        size_t k = next++;
        if (k >= jobs.size()) return;
        size_t ci = jobs[k];
        CaseResult& cr = res_.cases[case_index_[ci]];
        double timeout = std::min(timeouts_[ci], deadline - now_seconds());
        if (timeout < 1) {
          cr.status = "failed";
          cr.reason = "not run: the grading's time budget for test cases (" +
                      format_seconds(rubric_.limits.tests_s) + ") was spent";
          continue;
        }
        const Config& c = config_for(cr.task);
        if (!c.ok) {
          cr.status = "failed";
          cr.reason = "not run: task " + cr.task + " did not build";
          continue;
        }
        fs::path dir;
        {
          std::lock_guard<std::mutex> lock(mutex);
          dir = make_run_dir(uid, gid);
        }
        RunSpec spec = spec_for(bin_of(c, cr.target), {"--gtest_filter=" + cr.name, "--gtest_color=no"}, dir,
                                timeout, uid, gid, omp);
        if (!hidden) spec.hide_paths.push_back((cache_ / "hidden").string());
        spec.private_executable = true;
        spec.channel = true;
        spec.env.push_back("MLSYS_GRADER_RECORD_SEED=" + std::to_string(record_seed_));
        RunResult r = run_sandboxed(spec, policy_);
        CaseReport rep = judge(cr, r, timeout);
        verify(cr, rep, spec, official_ && c.bin_dir == configs_.at("reference").bin_dir);
        try {
          remove_tree(dir);
          if (policy_.root && !all_tmp_private_) sweep_uid_files({uid});
        } catch (const std::exception& e) {
          log(std::string("cleanup: ") + e.what());
        }
        debug(cr.name + ": " + cr.reason + " (" + format_seconds(cr.seconds) + ")");
      }
    };
    std::vector<std::thread> threads;
    for (int s = 0; s < std::min<int>(jobs_, static_cast<int>(jobs.size())); ++s) threads.emplace_back(worker, s);
    for (auto& t : threads) t.join();
  }

  void run_cases() {
    std::vector<size_t> visible, hidden;
    for (size_t i = 0; i < case_index_.size(); ++i)
      (res_.cases[case_index_[i]].hidden ? hidden : visible).push_back(i);
    log("running " + std::to_string(visible.size()) + " visible and " + std::to_string(hidden.size()) +
        " hidden test cases, " + std::to_string(jobs_) + " at a time");
    // Visible cases first, hidden ones after: a hidden test never runs beside a visible one
    // that could pass on what it wrote to a shared place.
    // Each phase may use the test budget in proportion to its cases, and whatever the visible
    // phase leaves.
    double share = visible.size() + hidden.size() ? double(visible.size()) / double(visible.size() + hidden.size()) : 1;
    run_phase(visible, false, now_seconds() + share * (tests_deadline_ - now_seconds()));
    if (uids_ && !all_tmp_private_) sweep_uid_files(uids_->uids());
    run_phase(hidden, true, tests_deadline_);
    if (uids_ && !all_tmp_private_) sweep_uid_files(uids_->uids());
  }

  // --------------------------------------------------------------------------------------------
  // 5. Performance items
  // --------------------------------------------------------------------------------------------

  void measure() {
    for (const PerfItem& item : rubric_.performance) {
      PerfResult p;
      p.id = item.id;
      p.task = item.task;
      p.title = item.title;
      p.reference = item.reference;
      p.requires_gpu = item.requires_gpu;
      p.max_points = item.max_points();
      for (const Tier& t : item.tiers)
        p.tiers += (p.tiers.empty() ? "" : ", ") + format_ratio(t.min_ratio) + "x: " + format_points(t.points);
      if ((item.requires_gpu && !gpu_) || !selected(item.requires_gpu) || o_.skip_performance) {
        p.status = "not_graded";
        p.reason = (item.requires_gpu && !gpu_) || !selected(item.requires_gpu) ? not_graded_reason(item.requires_gpu)
                                                                                 : "not measured (--skip-performance)";
        p.max_points = 0;
        res_.performance.push_back(p);
        continue;
      }
      const Config& c = config_for(item.task);
      p.status = "failed";
      if (!c.ok) {
        p.reason = "task " + item.task + " did not build";
        res_.performance.push_back(p);
        continue;
      }
      if (!c.targets.count(item.benchmark)) {
        p.reason = "the benchmark " + item.benchmark + " is not in this tree";
        res_.performance.push_back(p);
        continue;
      }
      std::string problem = measure_item(item, c, p);
      if (!problem.empty()) {
        p.reason = problem;
        p.ratios.clear();
        std::string other = unfinished_other_task(p.output, item.task);
        if (!official_ && !other.empty()) {
          p.needs_task = other;
          p.reason = "needs Task " + other + " (not done yet; the official grader measures this with the staff code for it)";
        }
      }
      if (!p.ratios.empty()) {
        p.ratio = median(p.ratios);
        for (const Tier& t : item.tiers)
          if (p.ratio >= t.min_ratio) {
            p.points = t.points;
            break;
          }
        p.status = p.points > 0 ? "passed" : "failed";
        if (p.points == 0) p.reason = "speed ratio below the lowest tier";
      }
      log("performance " + item.id + ": " + (std::isnan(p.ratio) ? p.reason : format_ratio(p.ratio) + "x") + " -> " +
          format_points(p.points) + "/" + format_points(p.max_points));
      res_.performance.push_back(p);
    }
  }

  // One process of an item's benchmark, measuring one side with `repeats` timed repeats
  // (mlsys/bench.h, Side). The reference side runs the reference build, as the grader's own user:
  // no student code is in that process.
  RunResult bench_run(const fs::path& bin, const PerfItem& item, bool reference_side, int repeats, double timeout) {
    // Locally the reference side runs the student's own build: as a test user like the rest.
    int uid = (reference_side && official_) || !uids_ ? -1 : uids_->uid(0);
    fs::path dir = make_run_dir(uid, uid);
    RunSpec spec = spec_for(bin, {"--item", item.item}, dir, timeout, uid, uid, item.threads);
    spec.private_executable = true;
    spec.env.push_back(std::string("MLSYS_BENCH_SIDE=") + (reference_side ? "reference" : "ours"));
    spec.env.push_back("MLSYS_BENCH_REPEATS=" + std::to_string(repeats));
    const std::string nonce = random_hex(12);
    spec.env.push_back("MLSYS_BENCH_NONCE=" + nonce);
    if (!reference_side || !official_) append_staff_paths(spec.hide_paths);
    RunResult r = run_sandboxed(spec, policy_);
    // The harness prints the nonce after the measured side's repeats: a process that exits
    // early (or never reaches them) has not done the work being timed.
    if (r.exited && r.exit_code == 0 && r.output.find("mlsys-bench: done " + nonce) == std::string::npos)
      r.error = "exited before its timed repeats finished";
    try {
      remove_tree(dir);
    } catch (const std::exception&) {
    }
    return r;
  }

  // Measures an item from outside (docs/GRADING.md §3, "Performance items"). Each side's
  // benchmark runs once with no timed repeats and, per run, once with R: the supervisor's clock
  // around the processes (wall time, or CPU time for "clock": "cpu") gives R repeats of that
  // side's work as the difference, so nothing the benchmark reports about itself counts. The
  // reference side runs the reference build; a budget item ("reference_ms") has no reference
  // process. A "memory" item compares the peak memory of our side's two runs instead. Our side's
  // run is stopped once it is too slow to reach the lowest tier. Fills p.ratios; returns why
  // the item failed, or "".
  std::string measure_item(const PerfItem& item, const Config& c, PerfResult& p) {
    const Config& ref = configs_.count("reference") ? configs_.at("reference") : c;
    const fs::path ours_bin = c.bin_dir / item.benchmark, ref_bin = ref.bin_dir / item.benchmark;
    const double R = item.repeats;
    const bool cpu = item.clock == "cpu";
    auto work = [&](const RunResult& r) { return cpu ? r.cpu_seconds : r.command_seconds; };
    double lowest = item.tiers.empty() ? 1 : item.tiers.back().min_ratio;
    double left = perf_deadline_ - now_seconds();
    if (left <= 0) return "not measured: the grading's time budget for performance items was spent";
    std::string at;
    // A benchmark checks its result before timing it: a non-zero exit is usually a wrong result.
    auto failed = [&](const RunResult& r, double timeout) {
      if (r.started && r.exited && r.exit_code == 0 && r.error.empty()) return std::string();
      p.output = clip(printable(r.output), 0, 3000);
      return at + "the benchmark " + (r.error.empty() || !r.exited ? r.describe_end(timeout) : r.error);
    };
    // Officially the reference side runs the reference build, so its failure is a staff
    // problem. Locally there is no reference build: the same process also validates the
    // student's code, so a failure there is the item's (often "needs Task X").
    auto reference_failed = [&](const RunResult& r) {
      if (r.exited && r.exit_code == 0 && r.error.empty()) return std::string();
      if (official_)
        throw GradeError("the reference benchmark " + item.benchmark + " --item " + item.item + " failed: " +
                         r.describe_end(item.timeout_s) + " " + r.error + "\n" + clip(r.output, 0, 2000));
      p.output = clip(printable(r.output), 0, 3000);
      return at + "the benchmark " + (r.error.empty() || !r.exited ? r.describe_end(item.timeout_s) : r.error);
    };
    const bool timed = item.measure == "time", measured_ref = timed && item.reference_ms <= 0;
    RunResult ref_none;
    if (measured_ref) {
      ref_none = bench_run(ref_bin, item, true, 0, item.timeout_s);
      if (!reference_failed(ref_none).empty()) return reference_failed(ref_none);
    }
    RunResult none;  // our side without timed repeats: measured once, after the reference
    int remeasured = 0;  // runs measured again because a difference was not positive (noise)
    for (int run = 0; run < item.runs; ++run) {
      at = "run " + std::to_string(run + 1) + ": ";
      double ref_ms = item.reference_ms, ref_wall_ms = item.reference_ms;
      if (measured_ref) {
        RunResult full = bench_run(ref_bin, item, true, item.repeats, item.timeout_s);
        if (!reference_failed(full).empty()) return reference_failed(full);
        ref_ms = 1e3 * (work(full) - work(ref_none)) / R;
        ref_wall_ms = 1e3 * (full.command_seconds - ref_none.command_seconds) / R;
      }
      if (run == 0 && !none.started) {
        // Its validation call may be as slow as the lowest tier allows.
        double setup = item.timeout_s;
        if (measured_ref) setup = std::min(setup, 10 + 2 * ref_none.command_seconds + 2e-3 * ref_wall_ms / lowest);
        if (timed && !measured_ref) setup = std::min(setup, 10 + 4e-3 * item.reference_ms / lowest);  // ~2 repeats
        setup = std::min(setup, std::max(1.0, perf_deadline_ - now_seconds()));
        none = bench_run(ours_bin, item, false, 0, setup);
        if (!failed(none, setup).empty()) return failed(none, setup);
      }
      // Slower than this cannot reach the lowest tier: the run stops there (with a margin).
      double budget = item.timeout_s;
      if (timed && ref_wall_ms > 0) budget = std::min(budget, 10 + none.command_seconds + 2 * R * 1e-3 * ref_wall_ms / lowest);
      budget = std::min(budget, std::max(1.0, perf_deadline_ - now_seconds()));
      RunResult full = bench_run(ours_bin, item, false, item.repeats, budget);
      if (full.timed_out && timed)
        return at + "stopped after " + format_seconds(budget) + ": too slow to reach the lowest tier (" +
               format_ratio(lowest) + "x the reference)";
      if (!failed(full, budget).empty()) return failed(full, budget);
      double ratio;
      if (!timed) {
        if (full.max_rss_kb <= 0) return at + "the peak memory could not be measured";
        ratio = static_cast<double>(none.max_rss_kb) / static_cast<double>(full.max_rss_kb);
        p.ours_ms = full.max_rss_kb / 1024.0;  // shown as MiB for this kind of item
        p.ref_ms = none.max_rss_kb / 1024.0;
      } else {
        double ours_ms = 1e3 * (work(full) - work(none)) / R;
        if (!(ours_ms > 0) || !(ref_ms > 0)) {
          // Machine noise can swallow a short measurement: measure this run again, a few times.
          if (remeasured++ < item.runs) {
            --run;
            continue;
          }
          if (!(ref_ms > 0)) return at + "the reference's repeats took no measurable time (raise the item's repeats)";
          return at + "the timed repeats took no measurable time (a run with them ended no later than one without)";
        }
        ratio = ref_ms / ours_ms;
        if (run == 0) {
          p.ours_ms = ours_ms;
          p.ref_ms = ref_ms;
        }
      }
      p.ratios.push_back(ratio);
      debug(item.id + " " + at + format_ratio(ratio) + "x");
    }
    return "";
  }

  // --------------------------------------------------------------------------------------------
  // 6. Score
  // --------------------------------------------------------------------------------------------

  void score() {
    res_.score = 0;
    res_.max_score = 0;
    double hidden_only = 0;
    for (const Task& t : rubric_.tasks) {
      TaskResult tr;
      tr.id = t.id;
      tr.title = t.title;
      const Config& c = config_for(t.id);
      tr.build_ok = c.ok;
      tr.build_errors = c.ok ? "" : c.errors;
      tr.build_source = c.source;
      tally_task(tr, res_.cases, res_.performance);
      hidden_only += t.hidden_points;
      res_.score += tr.score;
      res_.max_score += tr.max_score;
      res_.tasks.push_back(tr);
    }
    if (!official_) {
      double awaiting = 0;
      for (const TaskResult& tr : res_.tasks) awaiting += tr.awaiting_points;
      if (awaiting > 0)
        res_.notes.push_back(format_points(awaiting) + " point(s) are left out of this local score: their tests or "
                             "benchmarks stop at a task you have not done yet (\"needs Task ...\"). The official "
                             "grader runs them with the staff code for that task");
      double hidden = hidden_only;
      for (const Task& t : rubric_.tasks)
        for (const TestGroup& g : t.tests)
          if (g.hidden) hidden += g.points;
      if (hidden > 0)
        res_.notes.push_back(format_points(hidden) + " more point(s) come from hidden tests, which only the official grader runs");
    }
  }

  const GradeOptions& o_;
  GradeResult& res_;
  Rubric rubric_;
  bool official_ = false, gpu_ = false;
  int jobs_ = 1;
  SandboxPolicy policy_;
  std::unique_ptr<UidPool> uids_;
  int lock_fd_ = -1;
  fs::path work_, stage_, build_, run_dir_, cache_;
  Submission sub_;
  std::map<std::string, std::string> content_, solution_, lint_;
  std::vector<std::string> cmake_args_, private_dirs_;
  bool all_tmp_private_ = false;
  std::string generator_;
  std::map<std::string, Config> configs_;
  std::map<std::string, std::vector<std::string>> listings_;
  std::vector<double> timeouts_;
  std::vector<size_t> case_index_;  // job -> index into res_.cases
  std::atomic<int> run_counter_{0};
  double perf_deadline_ = 0;  // when the performance items' time budget ends
  double tests_deadline_ = 0;  // ... and the test cases'
  fs::path ref_records_dir_;  // the reference run's records of each case (official grading)
  uint64_t record_seed_ = 0;  // which elements of large recorded tensors are compared
  std::mutex records_mutex_;
};

}  // namespace

GradeResult grade(const GradeOptions& options) {
  GradeResult res;
  double start = now_seconds();
  try {
    Grading g(options, res);
    g.run();
  } catch (const std::exception& e) {
    res.internal_error = e.what();
  } catch (...) {
    res.internal_error = "unknown error";
  }
  if (!res.internal_error.empty()) {
    log("internal error: " + res.internal_error);
    res.score = 0;
    res.tasks.clear();  // partial results would only confuse: the error says it all
    res.cases.clear();
    res.performance.clear();
  }
  // A hidden case shows passed or failed and nothing else, in every output: an exit code, a
  // signal, a message or a time would each carry bits of the hidden test's data to the student.
  // (--verbose logs the details for staff.)
  for (CaseResult& c : res.cases)
    if (c.hidden && c.status != "not_graded") {
      if (c.status == "failed") c.reason = "failed";
      c.output.clear();
      c.seconds = 0;
    }
  res.seconds = now_seconds() - start;
  return res;
}

}  // namespace grader
