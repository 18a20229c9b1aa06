// Collecting a submission and staging the course tree. See stage.h.
#include "stage.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <regex>

namespace grader {

// ----------------------------------------------------------------------------------------------
// Collecting the student files
// ----------------------------------------------------------------------------------------------

static bool skipped_dir_name(const std::string& name) {
  return name == ".git" || name == "__MACOSX" || name == "__pycache__" || name == ".pytest_cache" ||
         name == ".ipynb_checkpoints" || name == "build" || starts_with(name, "build-") ||
         starts_with(name, "build_");
}

static size_t depth(const std::string& rel) { return static_cast<size_t>(std::count(rel.begin(), rel.end(), '/')); }

// Extracts a zip with `cmake -E tar` as the test user, in the sandbox, after refusing unsafe
// entries: absolute or ".." names, and anything but plain files and folders (a symbolic link
// entry "a -> /elsewhere" followed by "a/file" would write outside the folder). The listing is
// libarchive's own (the same reader that extracts), and the result is checked again after
// extraction: no link or special file may be in it.
static fs::path extract_zip(const fs::path& zip, const fs::path& scratch, const SandboxPolicy& policy, int uid) {
  std::string cmake = which("cmake");
  if (cmake.empty()) throw GradeError("cmake is needed to read .zip submissions and was not found");
  remove_tree(scratch);
  fs::create_directories(scratch);
  fs::path copy = scratch / "submission.zip";
  fs::copy_file(zip, copy);
  fs::permissions(copy, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read | fs::perms::others_read);
  // libarchive guesses the format from the content: a tar archive named .zip could carry hard
  // links and device files. Only zip is accepted (local file header or an empty archive).
  std::string magic = read_file_prefix(copy, 4);
  if (magic != std::string("PK\x03\x04", 4) && magic != std::string("PK\x05\x06", 4))
    throw GradeError("the submission is not a zip file (it does not start with a zip header)");
  fs::path out = scratch / "files";
  fs::create_directories(out);
  int run_uid = policy.root ? uid : -1;
  if (policy.root) {
    chown_tree(out, uid, uid);
    fs::permissions(scratch, fs::perms::owner_all | fs::perms::others_exec | fs::perms::group_exec);
  }
  auto sandboxed = [&](const std::vector<std::string>& args, const char* what) {
    RunSpec spec;
    spec.argv = {cmake, "-E", "tar"};
    spec.argv.insert(spec.argv.end(), args.begin(), args.end());
    spec.cwd = out.string();
    spec.env = {"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=" + out.string(), "LANG=C.UTF-8"};
    spec.timeout_s = 120;
    spec.memory_bytes = 2ull << 30;
    spec.max_file_size = 64ull << 20;
    spec.max_output = 8u << 20;
    spec.max_processes = 32;
    spec.uid = run_uid;
    spec.gid = run_uid;
    RunResult r = run_sandboxed(spec, policy);
    if (!r.started || !r.exited || r.exit_code != 0 || r.output_exceeded)
      throw GradeError(std::string(what) + " (" + r.describe_end(spec.timeout_s) + "):\n" + clip(r.output, 2000));
    return r.output;
  };
  std::vector<std::string> names, kinds;
  for (const std::string& line : split(sandboxed({"tf", copy.string()}, "the submission is not a readable zip file"), '\n'))
    if (!trim(line).empty()) names.push_back(line);
  for (const std::string& line : split(sandboxed({"tvf", copy.string()}, "the submission is not a readable zip file"), '\n'))
    if (!trim(line).empty()) kinds.push_back(line);
  for (const std::string& line : names) {
    std::string name = trim(line);
    bool unsafe = name[0] == '/' || name.find('\\') != std::string::npos;
    for (const std::string& part : split(name, '/')) unsafe |= part == "..";
    if (unsafe) throw GradeError("the zip holds an unsafe path (absolute or with '..'): " + name);
  }
  // `tvf` prints one line per entry, `ls -l` style: the first character is the entry's type.
  if (kinds.size() != names.size())
    throw GradeError("the zip's entries could not be listed unambiguously (a name with a line break?)");
  for (const std::string& line : kinds)
    if (line[0] != '-' && line[0] != 'd')
      throw GradeError("the zip holds a symbolic link or another special entry (only files and folders are "
                       "accepted): " + clip(printable(line), 300));
  sandboxed({"xf", copy.string()}, "could not extract the zip");
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(out, ec); it != fs::recursive_directory_iterator(); it.increment(ec)) {
    auto st = it->symlink_status(ec);
    if (!fs::is_regular_file(st) && !fs::is_directory(st)) {
      std::string rel = it->path().lexically_relative(out).generic_string();
      remove_tree(out);
      throw GradeError("the zip holds a symbolic link or another special entry: " + rel);
    }
  }
  if (ec) throw GradeError("cannot read the extracted zip: " + ec.message());
  return out;
}

Submission collect_submission(const fs::path& source, const Rubric& rubric, const fs::path& scratch,
                              const SandboxPolicy& policy, int uid) {
  Submission s;
  struct stat st;
  if (::stat(source.c_str(), &st) != 0) throw GradeError("the submission " + source.string() + " does not exist");
  fs::path root = source;
  if (S_ISREG(st.st_mode) && ends_with(source.string(), ".zip")) {
    root = extract_zip(source, scratch, policy, uid);
    s.description = "zip " + source.filename().string();
  } else if (S_ISDIR(st.st_mode)) {
    s.description = "folder " + source.string();
  } else {
    throw GradeError("the submission " + source.string() + " is neither a folder nor a .zip file");
  }

  // Every regular file, by its path relative to the submission root; nothing is followed.
  std::vector<std::string> files;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root, fs::directory_options::skip_permission_denied, ec);
       it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) break;
    std::string rel = it->path().lexically_relative(root).generic_string();  // never resolves links
    auto status = it->symlink_status();
    if (fs::is_directory(status)) {
      if (skipped_dir_name(it->path().filename().string())) {
        s.ignored.push_back(rel + "/ (folder skipped)");
        it.disable_recursion_pending();
      }
      continue;
    }
    if (rel == "submission.zip" && root == source) continue;
    if (fs::is_symlink(status)) {
      s.ignored.push_back(rel + " (symbolic link: never followed)");
      continue;
    }
    if (!fs::is_regular_file(status)) continue;
    files.push_back(rel);
  }
  std::sort(files.begin(), files.end());

  std::map<std::string, int> basename_uses;
  for (const std::string& f : rubric.student_files) basename_uses[fs::path(f).filename().string()]++;
  std::set<std::string> taken;
  for (const std::string& f : rubric.student_files) {
    std::string base = fs::path(f).filename().string();
    std::vector<std::string> exact, suffix, by_name;
    for (const std::string& p : files) {
      if (p == f)
        exact.push_back(p);
      else if (ends_with(p, "/" + f))
        suffix.push_back(p);
      else if (basename_uses[base] == 1 && fs::path(p).filename().string() == base)
        by_name.push_back(p);
    }
    std::vector<std::string>& pick = !exact.empty() ? exact : !suffix.empty() ? suffix : by_name;
    if (pick.empty()) continue;
    std::stable_sort(pick.begin(), pick.end(), [](const std::string& a, const std::string& b) { return depth(a) < depth(b); });
    if (pick.size() > 1 && depth(pick[0]) == depth(pick[1]))
      s.notes.push_back("several files could be " + f + " (" + join(pick, ", ") + "); took " + pick[0]);
    const std::string& chosen = pick[0];
    bool too_long = false;
    std::string content = read_file_prefix(root / chosen, kMaxStudentFileBytes, &too_long);
    taken.insert(chosen);
    if (too_long) {
      s.notes.push_back(chosen + " is larger than " + std::to_string(kMaxStudentFileBytes >> 10) +
                        " KiB and was not used (the starter version of " + f + " is graded)");
      continue;
    }
    s.files[f] = content;
    s.found_at[f] = chosen;
  }
  for (const std::string& p : files)
    if (!taken.count(p)) s.ignored.push_back(p);
  return s;
}

Submission tree_submission(const fs::path& tree, const Rubric& rubric, bool solutions) {
  Submission s;
  s.description = solutions ? "the staff solutions (solutions/)" : "the student files of " + tree.string();
  for (const std::string& f : rubric.student_files) {
    fs::path p = solutions ? tree / "solutions" / f : tree / f;
    if (!fs::is_regular_file(p)) {
      if (solutions) throw GradeError("the solution twin solutions/" + f + " is missing");
      continue;
    }
    s.files[f] = read_file(p);
    s.found_at[f] = (solutions ? "solutions/" : "") + f;
  }
  return s;
}

// ----------------------------------------------------------------------------------------------
// Staging the course tree
// ----------------------------------------------------------------------------------------------

static bool skipped_top_level(const std::string& name) {
  static const std::set<std::string> names = {".git", "out", ".deps", ".whl", ".release", "gpu-results",
                                              ".pytest_cache", ".gl"};
  return names.count(name) || name == "build" || starts_with(name, "build-") || starts_with(name, "build_");
}

static bool skipped_anywhere(const std::string& name) {
  return name == "__pycache__" || name == ".pytest_cache" || name == ".ipynb_checkpoints" || name == ".git";
}

// Files that cannot change a build or a test result: documentation, notebooks, CI, the grader's
// own tests and packaging. They are staged but left out of the fingerprint, so editing a
// handout does not invalidate the cached builds.
static bool outside_fingerprint(const std::string& rel) {
  for (const char* prefix : {"docs/", "handouts/", ".github/", ".ci/", "autograder/tests/", "autograder/gradescope/"})
    if (starts_with(rel, prefix)) return true;
  return ends_with(rel, ".md") || ends_with(rel, ".ipynb") || rel == "autograder/release.py";
}

uint64_t sync_stage(const fs::path& tree, const fs::path& stage, const std::set<std::string>& exclude) {
  std::error_code ec;
  fs::path tree_abs = fs::canonical(tree);
  fs::path stage_abs = fs::weakly_canonical(stage);
  std::vector<std::string> rels;
  std::set<std::string> dirs;
  for (auto it = fs::recursive_directory_iterator(tree_abs, ec); it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (ec) throw GradeError("cannot walk " + tree.string() + ": " + ec.message());
    std::string name = it->path().filename().string();
    bool top = it.depth() == 0;
    if (it->is_directory()) {
      if ((top && skipped_top_level(name)) || skipped_anywhere(name) ||
          fs::equivalent(it->path(), stage_abs, ec)) {
        it.disable_recursion_pending();
        continue;
      }
      dirs.insert(it->path().lexically_relative(tree_abs).generic_string());
      continue;
    }
    if (name.size() > 4 && (ends_with(name, ".pyc") || ends_with(name, ".pyo"))) continue;
    if (!it->is_regular_file()) continue;
    rels.push_back(it->path().lexically_relative(tree_abs).generic_string());
  }
  std::sort(rels.begin(), rels.end());
  fs::create_directories(stage);
  uint64_t fp = 1469598103934665603ull;
  std::set<std::string> keep(rels.begin(), rels.end());
  for (const std::string& rel : rels) {
    if (exclude.count(rel)) continue;
    fs::path src = tree_abs / rel, dst = stage / rel;
    std::string content = read_file(src);
    if (!outside_fingerprint(rel)) {
      fp = fnv1a(rel + '\0' + std::to_string(content.size()) + '\0', fp);
      fp = fnv1a(content, fp);
    }
    auto dst_status = fs::symlink_status(dst, ec);
    bool same = fs::is_regular_file(dst_status) && fs::file_size(dst, ec) == content.size() && read_file(dst) == content;
    if (!same) {
      if (fs::exists(dst_status)) remove_tree(dst);
      write_file_atomic(dst, content);
    }
    auto mode = fs::status(src).permissions();
    auto want = (mode & fs::perms::owner_exec) != fs::perms::none
                    ? fs::perms(0755)
                    : fs::perms(0644);
    if (fs::status(dst).permissions() != want) fs::permissions(dst, want);
  }
  // Remove what the tree no longer has (student files are managed by place_file).
  std::vector<fs::path> stale;
  for (auto it = fs::recursive_directory_iterator(stage, ec); it != fs::recursive_directory_iterator(); it.increment(ec)) {
    std::string rel = it->path().lexically_relative(stage).generic_string();
    if (it->is_directory(ec) && !it->is_symlink(ec)) {
      if (!dirs.count(rel)) {
        stale.push_back(it->path());
        it.disable_recursion_pending();
      }
      continue;
    }
    if (!keep.count(rel) && !exclude.count(rel)) stale.push_back(it->path());
  }
  for (const fs::path& p : stale) remove_tree(p);
  for (const std::string& d : dirs) fs::permissions(stage / d, fs::perms(0755), ec);
  return fp;
}

void place_file(const fs::path& stage, const std::string& rel, const std::string& content) {
  fs::path dst = stage / rel;
  std::error_code ec;
  auto st = fs::symlink_status(dst, ec);
  if (fs::is_regular_file(st) && fs::file_size(dst, ec) == content.size() && read_file(dst) == content) return;
  if (fs::exists(st)) remove_tree(dst);
  write_file_atomic(dst, content);
  fs::permissions(dst, fs::perms(0644), ec);
}

// ----------------------------------------------------------------------------------------------
// Checking student files before they are compiled
// ----------------------------------------------------------------------------------------------

std::vector<std::string> lint_student_file(const std::string& rel, const std::string& content,
                                           std::vector<std::string>* review) {
  std::vector<std::string> problems;
  // Logical lines: a backslash-newline continues the line (as in translation phase 2).
  std::vector<std::pair<int, std::string>> lines;
  std::string cur;
  int start_line = 1, lineno = 0;
  for (const std::string& raw : split(content, '\n')) {
    ++lineno;
    std::string l = raw;
    if (!l.empty() && l.back() == '\r') l.pop_back();
    if (cur.empty()) start_line = lineno;
    if (!l.empty() && l.back() == '\\') {
      cur += l.substr(0, l.size() - 1);
      continue;
    }
    lines.emplace_back(start_line, cur + l);
    cur.clear();
  }
  if (!cur.empty()) lines.emplace_back(start_line, cur);

  static const std::regex directive(R"(^\s*(?:#|%:|\?\?=)\s*(include|include_next|import|embed)\b\s*(.*)$)");
  static const std::vector<std::pair<std::regex, std::string>> flags = {
      {std::regex(R"(__attribute__\s*\(\(\s*(constructor|destructor|section|init_priority))"), "a constructor/section attribute"},
      {std::regex(R"(\binit_priority\b|\.init_array|\.preinit_array|\.fini_array)"), "initialization-order tricks"},
      {std::regex(R"(\basm\b|__asm__)"), "inline assembly"},
      {std::regex(R"(/proc/|\bptrace\b|process_vm_)"), "/proc or ptrace"},
      {std::regex(R"(\bdlopen\b|\bdlsym\b)"), "dynamic loading"},
      {std::regex(R"(MLSYS_GRADER|\btesting::|gtest/)"), "the test framework or the grader's channel"},
      {std::regex(R"(\bfork\s*\(|\bexec[lv]p?e?\s*\(|\bsystem\s*\(|\bpopen\s*\()"), "process creation"},
      {std::regex(R"(\bsocket\s*\(|\bconnect\s*\()"), "sockets"},
      {std::regex(R"(\bgetenv\s*\(|\benviron\b)"), "the environment"},
      {std::regex(R"(\bclock_gettime\b|\bgettimeofday\b|\brdtsc\b)"), "clock functions"},
  };
  for (const auto& [line, text] : lines) {
    std::smatch m;
    if (std::regex_search(text, m, directive)) {
      std::string what = m[1].str(), arg = trim(m[2].str());
      std::string where = rel + ":" + std::to_string(line) + ": ";
      std::string name;
      if (what == "embed") {
        problems.push_back(where + "#embed is not allowed in a student file");
        continue;
      }
      if (!arg.empty() && (arg[0] == '<' || arg[0] == '"')) {
        char close = arg[0] == '<' ? '>' : '"';
        size_t end = arg.find(close, 1);
        if (end == std::string::npos) {
          problems.push_back(where + "malformed #" + what);
          continue;
        }
        name = arg.substr(1, end - 1);
      } else {
        problems.push_back(where + "#" + what + " of a macro (a computed include) is not allowed in a student file");
        continue;
      }
      bool bad = name.empty() || name[0] == '/' || name.find('\\') != std::string::npos;
      for (const std::string& part : split(name, '/')) bad |= part == ".." || part == "autograder" || part == "solutions" || part == "hidden";
      if (bad)
        problems.push_back(where + "#" + what + " \"" + name +
                           "\" is not allowed: a student file may include only the course headers and system headers");
    }
    if (review) {
      for (const auto& [re, label] : flags)
        if (std::regex_search(text, re)) {
          review->push_back(rel + ":" + std::to_string(line) + ": uses " + label);
          break;
        }
    }
  }
  return problems;
}

}  // namespace grader
