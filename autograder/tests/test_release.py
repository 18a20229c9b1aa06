"""The release (CTest grader.release, label slow, run by the staff gate): `autograder/release.py` writes a student
repo that leaks nothing (no solution text, no staff-only text in any student doc, the repository URL
filled in, every rubric's student files, handout and public tests there and no hidden test). In a
copy of that repo, the README's commands run exactly as written on the starter code (builds with
CUDA where nvcc is, the local grader gives 0). PA1's Gradescope zip, in a simulated /autograder,
gives the reference full marks and the starter 0, with a results.json valid under
results.schema.json. With the reference files of Tasks 2.1 and 2.2 dropped into the student repo,
the local and official tables agree on every public row but the local "needs Task" ones. PA3's zip
gives its reference full marks and its starter 0 (threads backend).
"""

import json
import os
import re
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

import grader_test_util as util

sys.path.insert(0, str(util.REPO / "tools"))
import stubs  # noqa: E402

PA = "pa1"
# The release's repository URL in tests (course.json holds the placeholder until staff set it).
TEST_REPO_URL = "https://github.com/example-course/mlsys-student-test.git"


@pytest.fixture(scope="module")
def release():
    out = util.work_root() / "release"
    if out.exists():
        shutil.rmtree(str(out))
    r = subprocess.run([sys.executable, str(util.REPO / "autograder" / "release.py"), "--grader", str(util.grader()),
                        "--out", str(out), "--repo-url", TEST_REPO_URL],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)
    print(r.stdout[-3000:])
    assert r.returncode == 0, r.stdout
    return out


def run(cmd, **kw):
    print("$ " + " ".join(str(c) for c in cmd), flush=True)
    return subprocess.run([str(c) for c in cmd], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, **kw)


# ------------------------------------------------------------------------------------------------
# The student repo
# ------------------------------------------------------------------------------------------------

def test_student_repo_leaks_nothing(release):
    student = release / "student"
    r = run([sys.executable, util.REPO / "tools" / "stubs.py", "leak-check", student])
    assert r.returncode == 0, r.stdout
    assert not (student / "solutions").exists()
    assert not (student / "autograder" / "hidden").exists()
    assert not (student / "autograder" / "tests").exists()
    assert not (student / ".github" / "workflows" / "ci.yml").exists()
    assert (student / ".github" / "workflows" / "classroom.yml").is_file()
    assert (student / ".github" / "workflows" / "classroom-gpu.yml").is_file()
    rubric = json.loads((student / "autograder" / "rubrics" / (PA + ".json")).read_text())
    for task in rubric["tasks"]:
        assert all(g["visibility"] == "visible" for g in task["tests"]), task
    assert any(t.get("hidden_points", 0) > 0 for t in rubric["tasks"])
    # The README keeps the student part and drops the staff workflow.
    readme = (student / "README.md").read_text()
    assert "./mlsys grade pa1" in readme and "## For students" in readme
    assert "--solution" not in readme and "tools/stubs.py generate" not in readme
    # The student files are the stubs.
    for f in rubric["student_files"]:
        assert (student / f).read_text() == (util.REPO / f).read_text()


# Text that speaks to course staff, not to a student: where the solutions and hidden tests
# live, how student files are made, placeholders. "staff code" (code students do not edit)
# is student-facing and allowed; so is the tensor library's "CUDA twin" of an op.
STAFF_PHRASES = [r"solutions/", r"autograder/hidden", r"(?<!CUDA )\btwins?\b", r"YOUR-ORG",
                 r"staff[ -](tree|only|gate)", r"course staff", r"never runs", r"tools/stubs\.py",
                 r"<!-- */?staff-only"]
# The files a student reads: the READMEs of the repo, of each PA and of the tensor library, the
# build guide, the handouts, the notebooks, the Classroom workflows. (docs/GRADING.md and
# docs/TOOLS.md speak to both audiences by design and name staff paths; they are not scanned.)
# Each PA's README, handout and notebook are found by pattern, so a PA's new files are scanned too.
STUDENT_DOCS = ["README.md", "common/README.md", "docs/BUILD.md",
                ".github/workflows/classroom.yml", ".github/workflows/classroom-gpu.yml"]
STUDENT_DOC_PATTERNS = ["pa*_*/README.md", "handouts/pa*.md", "handouts/notebooks/*.ipynb"]


def student_docs(student: Path) -> list:
    found = {p.relative_to(student).as_posix() for pattern in STUDENT_DOC_PATTERNS for p in student.glob(pattern)}
    return STUDENT_DOCS + sorted(found)


def staff_text(rel: str, text: str) -> list:
    """Every line of ``text`` (the file ``rel``) holding a staff phrase, as 'file:line: ...'."""
    return ["{}:{}: {!r} in {}".format(rel, number, p, line.strip()[:100])
            for number, line in enumerate(text.splitlines(), start=1) for p in STAFF_PHRASES if re.search(p, line, re.I)]


def test_student_docs_have_no_staff_text(release):
    student = release / "student"
    docs = student_docs(student)
    assert {"pa1_autodiff/README.md", "pa2_kernels/README.md", "pa3_parallelism/README.md", "handouts/pa1.md",
            "handouts/pa2.md", "handouts/pa3.md", "handouts/notebooks/pa1.ipynb"} <= set(docs), docs
    found = []
    for rel in docs:
        found += staff_text(rel, (student / rel).read_text())
    assert not found, "\n".join(found)
    # The staff README's staff-only sections are gone, the student ones stay.
    readme = (student / "README.md").read_text()
    assert "## For course staff" not in readme and "## For students" in readme and "## Layout" in readme


def test_the_repository_url_is_filled_in(release):
    student = release / "student"
    base = TEST_REPO_URL[:-len(".git")]
    for pa in ("pa1", "pa2"):
        nb = json.loads((student / "handouts" / "notebooks" / (pa + ".ipynb")).read_text())
        setup = "".join(nb["cells"][1]["source"])
        assert 'REPO_URL = "{}"'.format(TEST_REPO_URL) in setup
    readme = (student / "README.md").read_text()
    assert "colab.research.google.com/github/example-course/mlsys-student-test/blob/main/handouts/notebooks/pa1.ipynb" in readme
    assert base in readme
    assert not (student / "course.json").exists()


def test_rubric_checks_catch_what_a_release_must_not_lose_or_leak(release, tmp_path):
    """release.py's rubric-driven checks: clean on the release; on a copy, a missing PA3 student
    file, a missing handout and a CMake file naming a hidden target are each reported."""
    sys.path.insert(0, str(util.REPO / "autograder"))
    import release as rel  # noqa: E402
    assert rel.rubric_problems(release / "student", util.REPO) == []
    planted = tmp_path / "student"
    shutil.copytree(str(release / "student"), str(planted))
    rubric = json.loads((util.REPO / "autograder" / "rubrics" / "pa3.json").read_text())
    hidden = next(g["target"] for t in rubric["tasks"] for g in t["tests"] if g["visibility"] == "hidden")
    (planted / rubric["student_files"][-1]).unlink()
    (planted / "handouts" / "pa3.md").unlink()
    with open(str(planted / "pa3_parallelism" / "CMakeLists.txt"), "a") as f:
        f.write("\nadd_executable({} tests/x.cpp)\n".format(hidden))
    problems = "\n".join(rel.rubric_problems(planted, util.REPO))
    assert rubric["student_files"][-1] + " is missing" in problems, problems
    assert "handouts/pa3.md is missing" in problems and "hidden test target " + hidden in problems, problems


def test_leak_check_catches_a_planted_leak(release, tmp_path):
    planted = tmp_path / "student"
    shutil.copytree(str(release / "student"), str(planted))
    secret = next(iter(stubs.secret_lines(util.REPO)))
    with open(str(planted / "README.md"), "a") as f:
        f.write("\n" + secret + "\n")
    forbidden, leaks = stubs.leak_check(planted, util.REPO)
    assert leaks and leaks[0].file == "README.md"


# ------------------------------------------------------------------------------------------------
# The student's path: the README's commands, exactly as written, in the released repo
# ------------------------------------------------------------------------------------------------

# Which commands a student is told to run: every line of the shell code blocks (```bash, ```sh)
# of the released README.md and pa1_autodiff/README.md, run with bash in the repo root exactly
# as written (comments included: bash drops them). pa1_autodiff/README.md has no shell block (its
# one block is a C++ example, not a command), so its inline `./mlsys ...` spans are run too.
# Not run: README.md's inline spans (they repeat the block commands or add `--cuda off`, which
# would build a second configuration) and `build/<preset>/...` paths (placeholders).
# `./mlsys setup` runs only when it has nothing to install: the test never installs apt or pip
# packages on the machine; otherwise the report names what it would install.
README_BLOCKS = ["README.md", "pa1_autodiff/README.md"]
README_INLINE = ["pa1_autodiff/README.md"]


def readme_commands(student: Path) -> list:
    """(file, command) for every command a student is told to run, in order, each once."""
    found = []
    for rel in README_BLOCKS:
        text = (student / rel).read_text()
        for m in re.finditer(r"^```(\w*)[ \t]*\n(.*?)^```", text, re.M | re.S):
            if m.group(1) in ("bash", "sh", "shell"):
                found += [(rel, line.strip()) for line in m.group(2).splitlines()
                          if line.strip() and not line.strip().startswith("#")]
    for rel in README_INLINE:
        found += [(rel, m.group(1)) for m in re.finditer(r"`(\./mlsys [^`]+)`", (student / rel).read_text())]
    seen, out = set(), []
    for rel, cmd in found:  # a command written twice (with different comments) runs once
        if tuple(command_words(cmd)) not in seen:
            seen.add(tuple(command_words(cmd)))
            out.append((rel, cmd))
    return out


def command_words(cmd: str) -> list:
    import shlex
    return shlex.split(cmd, comments=True)


@pytest.fixture(scope="module")
def student_workspace(release):
    """A copy of the released student repo (the dependent-tasks case below edits it), with HOME
    a fresh folder holding hw1.zip (the README's `--submission ~/hw1.zip`: the student files,
    untouched, in their repo layout). Builds go where a student's go: build/ inside the repo.
    Not pytest's tmp_path: that is private (0700), and as root the grader's test users must
    reach the work folders."""
    root = util.work_root() / "student-path"
    if root.exists():
        shutil.rmtree(str(root))
    repo, home = root / "mlsys-student", root / "home"
    shutil.copytree(str(release / "student"), str(repo), symlinks=True)
    home.mkdir(parents=True)
    rubric = json.loads((repo / "autograder" / "rubrics" / (PA + ".json")).read_text())
    with zipfile.ZipFile(str(home / "hw1.zip"), "w") as z:
        for f in rubric["student_files"]:
            z.write(str(repo / f), f)
    import site
    env = dict(os.environ, HOME=str(home), MLSYS_JOBS=util.jobs(), PYTHONUSERBASE=site.getuserbase())
    # With nvcc on the machine the README's `./mlsys test` builds CUDA code: for one architecture
    # (T4's), as the staff gate and CI do, unless the caller chose others.
    env.setdefault("MLSYS_CUDA_ARCHITECTURES", "75")
    for var in ("MLSYS_GRADE", "MLSYS_BUILD_ROOT"):
        env.pop(var, None)
    return repo, env


def missing_for_setup(repo: Path, env: dict) -> list:
    """What `./mlsys setup` would install here (asked of the released CLI itself)."""
    code = ("import sys; sys.path.insert(0, 'tools'); import mlsys_cli as m, shutil; "
            "print(' '.join((m.missing_apt() if shutil.which('dpkg') else []) + m.missing_pip(m.PIP_ALL)))")
    r = subprocess.run([sys.executable, "-c", code], cwd=str(repo), env=env, stdout=subprocess.PIPE,
                       universal_newlines=True)
    assert r.returncode == 0
    return r.stdout.split()


def check_readme_command(cmd: str, rc: int, out: str) -> list:
    """What is wrong with the outcome of README command ``cmd`` on the untouched starter code."""
    words = command_words(cmd)
    broken = [s for s in ("Traceback (most recent call last)", "build failed", "configure failed",
                          "could not build the grader") if s in out]
    if broken:
        return ["{}: {}".format(cmd, ", ".join(broken))]
    if words[:2] == ["./mlsys", "setup"]:
        return [] if rc == 0 and "everything already installed" in out else ["{}: exit {}".format(cmd, rc)]
    if words[:2] == ["./mlsys", "demo"]:
        return [] if rc == 0 else ["{}: exit {}".format(cmd, rc)]
    if words[:2] == ["./mlsys", "test"]:
        # It builds and runs the tests; with the starter they fail (exit 1), each with the stub's
        # NotImplemented message naming its task, never a crash.
        problems = [] if rc == 1 else ["{}: exit {} (the starter's tests must fail, exit 1)".format(cmd, rc)]
        if not re.search(r"NotImplemented|not implemented", out) or not re.search(r"PA1 Task \d", out):
            problems.append("{}: no NotImplemented message naming a PA1 task in its output".format(cmd))
        # CTest's and pytest's words for a test process that died (not the text of a test that
        # checks a crash on purpose, whose output is not shown when it passes).
        if re.search(r"\*\*\*Exception: (SegFault|Illegal|Numerical|Other)|Child aborted|Fatal Python error", out):
            problems.append("{}: a test crashed".format(cmd))
        return problems
    if words[:3] == ["./mlsys", "grade", PA]:
        # The local grader's table: the starter scores 0 of the public points.
        m = re.search(r"^\s*total\s+([\d.]+)\s*/\s*([\d.]+)", out, re.M | re.I)
        if rc != 0 or not m:
            return ["{}: exit {}, total line {}".format(cmd, rc, m.group(0) if m else "missing")]
        return [] if float(m.group(1)) == 0 and float(m.group(2)) > 0 else ["{}: {}".format(cmd, m.group(0))]
    if words[:2] == ["./mlsys", "build"]:
        return [] if rc == 0 else ["{}: exit {}".format(cmd, rc)]
    if words and words[0].startswith("build/"):
        # A program the README runs from the build folder (pa3_train): on the starter it stops at
        # the first unfinished task with that stub's message, or runs; never a crash.
        if rc == 0:
            return []
        if rc < 0 or rc > 128:
            return ["{}: killed by a signal (exit {})".format(cmd, rc)]
        if re.search(r"NotImplemented|not implemented", out) and re.search(r"PA\d Task \d", out):
            return []
        return ["{}: exit {} without a NotImplemented message naming a task".format(cmd, rc)]
    return ["{}: the README has a command this test does not know what to expect of; add it to "
            "check_readme_command".format(cmd)]


def test_readme_command_checks_can_fail(release):
    """The README's commands are found, and each outcome check rejects what it must (quick:
    nothing is built)."""
    commands = [c for _, c in readme_commands(release / "student")]
    assert any(command_words(c)[:2] == ["./mlsys", "test"] for c in commands), commands
    stub = "NotImplemented: PA1 Task 2.1 is not implemented yet"
    assert check_readme_command("./mlsys test pa1 --task 2.1", 1, stub) == []
    assert check_readme_command("./mlsys test pa1 --task 2.1", 0, stub)             # starter tests passed?
    assert check_readme_command("./mlsys test pa1 --task 2.1", 1, "1 test failed")  # no stub message
    assert check_readme_command("./mlsys test pa1", 1, stub + "\n***Exception: SegFault")
    assert check_readme_command("./mlsys test pa1", 1, stub + "\nbuild failed for preset 'student'")
    assert check_readme_command("./mlsys grade pa1", 0, "total   0 / 67") == []
    assert check_readme_command("./mlsys grade pa1", 0, "total   5 / 67")
    assert check_readme_command("./mlsys grade pa1", 0, "no table")
    assert check_readme_command("./mlsys demo", 2, "")
    assert check_readme_command("./mlsys frobnicate", 0, "")                        # unknown command
    assert check_readme_command("./mlsys build pa3", 0, "") == []
    assert check_readme_command("./mlsys build pa3", 2, "")
    train = "build/student/pa3_parallelism/pa3_train --dp 2 --zero 1"
    assert check_readme_command(train, 1, "rank 0: NotImplemented: PA3 Task 3.1 is not implemented yet") == []
    assert check_readme_command(train, 1, "pa3_train: something else went wrong")  # no stub message
    assert check_readme_command(train, 139, "PA3 Task 3.1 not implemented")       # a crash


def test_readme_commands_as_written(student_workspace):
    repo, env = student_workspace
    commands = readme_commands(repo)
    print("README commands:\n" + "\n".join("  {}: {}".format(rel, c) for rel, c in commands))
    # The commands the README must keep offering (a parse that finds nothing must not pass).
    names = {" ".join(command_words(c)[:3]) for _, c in commands}
    assert {"./mlsys setup", "./mlsys test pa1", "./mlsys grade pa1", "./mlsys demo"} <= names, names
    assert any("--submission" in c for _, c in commands)
    problems, timings = [], []
    for rel, cmd in commands:
        if command_words(cmd)[:2] == ["./mlsys", "setup"]:
            missing = missing_for_setup(repo, env)
            if missing:
                print("NOT RUN: {} (it would install {}; this test installs nothing)".format(cmd, " ".join(missing)))
                continue
        start = time.time()
        print("$ " + cmd, flush=True)
        r = subprocess.run(["bash", "-c", cmd], cwd=str(repo), env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, universal_newlines=True)
        timings.append("{:7.1f} s  {}".format(time.time() - start, cmd))
        print(r.stdout[-2500:])
        problems += check_readme_command(cmd, r.returncode, r.stdout)
    print("README commands, wall time:\n" + "\n".join(timings))
    assert not problems, "\n".join(problems)
    # The local grader's record of the starter: 0 of the public points, no hidden case.
    out = repo.parent / "starter.json"
    r = run(["./mlsys", "grade", PA, "--expect", "0", "--format", "json", "--out", out], cwd=str(repo), env=env)
    assert r.returncode == 0, r.stdout[-5000:]
    rec = json.loads(out.read_text())
    assert rec["mode"] == "local" and rec["score"] == 0 and rec["max_score"] > 0
    assert not any(c["hidden"] for c in rec["cases"])
    # Rubric-driven: every public test executable of every PA is a target of the student's build,
    # no hidden one is (GPU groups only where the build has CUDA).
    targets = set(re.findall(r"^\.\.\. (\S+)", run(["cmake", "--build", repo / "build" / "student", "--target", "help"]).stdout, re.M))
    cuda = any((repo / "build" / "student" / "CMakeFiles").glob("*/CMakeCUDACompiler.cmake"))  # CUDA enabled
    missing, leaked = [], []
    for rubric_path in sorted((util.REPO / "autograder" / "rubrics").glob("pa*.json")):
        for task in json.loads(rubric_path.read_text())["tasks"]:
            for g in task["tests"]:
                if g["visibility"] == "hidden" and g["target"] in targets:
                    leaked.append(g["target"])
                elif g["visibility"] == "visible" and g["target"] not in targets and (cuda or not g.get("requires_gpu")):
                    missing.append(g["target"])
    assert not leaked, "hidden test targets in the student build: {}".format(leaked)
    assert not missing, "public test targets missing from the student build: {}".format(missing)


# Two PA1 tasks where one's public tests need the other: Task 2.2's Task2_2_Gradients.* run
# gradients() on top of topological_sort (Task 2.1), so locally they pass only with 2.1 done.
# Task 1's gradients stay stubs: Task2_2_WithOps.* and the engine item need them, so locally
# they are "needs Task 1.x" rows; the official grader runs them with the staff code for Task 1.
DEPENDENT_TASKS = ["2.1", "2.2"]


def local_rows(rec: dict) -> dict:
    """The local record's rows under the names the official results.json gives them."""
    titles = {t["id"]: t["title"] for t in rec["tasks"]}
    rows = {"Task {} {} | {} | {}".format(c["task"], titles[c["task"]], c["target"], c["name"]): c
            for c in rec["cases"]}
    rows.update({"Task {} | performance | {}".format(p["task"], p["title"]): p for p in rec["performance"]})
    return rows


def compare_tables(local: dict, official: dict):
    """Row by row: the local record (mlsys_grade --format json) against the official
    results.json. Returns (local rows, official public rows, differences, needs-Task rows)."""
    public = {t["name"]: t for t in official["tests"] if "hidden" not in t.get("tags", [])}
    rows = local_rows(local)
    differ = ["only in the local table: " + n for n in sorted(set(rows) - set(public))]
    differ += ["only in the official table: " + n for n in sorted(set(public) - set(rows))]
    needs = []
    for name, row in sorted(rows.items()):
        off = public.get(name)
        if off is None:
            continue
        if row.get("needs_task"):
            needs.append(name)
            # Left out locally. Officially it runs with the staff code for the task it needs, so
            # a row of a task whose reference file is in passes there (a row of an untouched
            # task still fails there on its own stub: the local table promises nothing for it).
            if row["task"] in DEPENDENT_TASKS and off["score"] != off["max_score"]:
                differ.append("{}: needs Task {} locally, but officially {} / {}".format(
                    name, row["needs_task"], off["score"], off["max_score"]))
            continue
        local_status = "passed" if row["status"] == "passed" else "failed"
        if (local_status, round(row["points"], 9)) != (off.get("status"), round(off["score"], 9)):
            differ.append("{}: local {} {}, official {} {}".format(name, local_status, row["points"],
                                                                   off.get("status"), off["score"]))
    return rows, public, differ, needs


def test_two_dependent_tasks_local_and_official_tables_agree(student_workspace, autograder_root):
    repo, env = student_workspace
    rubric = json.loads((util.REPO / "autograder" / "rubrics" / (PA + ".json")).read_text())
    files = [f for t in rubric["tasks"] if t["id"] in DEPENDENT_TASKS for f in t["files"]]
    assert len(files) == 2
    for f in files:
        shutil.copy2(str(util.REPO / "solutions" / f), str(repo / f))
    out = repo.parent / "dependent.json"
    r = run(["./mlsys", "grade", PA, "--format", "json", "--out", out], cwd=str(repo), env=env)
    assert r.returncode == 0, r.stdout[-5000:]
    local = json.loads(out.read_text())
    official = gradescope_run(autograder_root, {Path(f).name: (repo / f).read_text() for f in files})
    rows, public, differ, needs = compare_tables(local, official)
    print("{} rows, {} 'needs Task' rows left out locally".format(len(rows), len(needs)))
    assert not differ, "\n".join(differ)
    # The case is a real one: 2.2's tests passed locally on top of 2.1, and some rows wait for Task 1.
    passed_22 = [n for n, c in rows.items() if n.startswith("Task 2.2 ") and c["status"] == "passed"]
    assert passed_22 and needs and any("Task 2.2" in n for n in needs), (passed_22, needs)
    # The task rows. Each task's local points (tests and performance) are the official points
    # of its rows that are not "needs Task"; for the two tasks dropped in, adding the points
    # awaiting another task gives all of their official public points.
    for task in local["tasks"]:
        mine = [n for n, row in rows.items() if row["task"] == task["id"]]
        graded = sum(public[n]["score"] for n in mine if not rows[n].get("needs_task"))
        assert task["score"] == pytest.approx(graded), task
        if task["id"] in DEPENDENT_TASKS:
            assert task["score"] + task["awaiting_points"] == pytest.approx(sum(public[n]["score"] for n in mine)), task


# ------------------------------------------------------------------------------------------------
# The Gradescope package, in a simulated /autograder
# ------------------------------------------------------------------------------------------------

def simulated_autograder(release: Path, pa: str) -> Path:
    """PA ``pa``'s Gradescope zip unpacked and set up (setup.sh) in a simulated /autograder."""
    root = util.work_root() / ("autograder" if pa == PA else "autograder-" + pa)
    if root.exists():
        shutil.rmtree(str(root))
    (root / "source").mkdir(parents=True)
    with zipfile.ZipFile(str(release / "gradescope" / (pa + ".zip"))) as z:
        z.extractall(str(root / "source"))
        for info in z.infolist():  # zipfile drops the mode bits
            mode = (info.external_attr >> 16) & 0o777
            if mode:
                os.chmod(str(root / "source" / info.filename), mode)
    shutil.copy2(str(root / "source" / "run_autograder"), str(root / "run_autograder"))
    env = dict(os.environ, MLSYS_AUTOGRADER_ROOT=str(root), MLSYS_SKIP_APT="1")
    r = run(["bash", root / "source" / "setup.sh"], env=env, cwd=str(root / "source"))
    print(r.stdout[-3000:])
    assert r.returncode == 0, r.stdout[-5000:]
    return root


@pytest.fixture(scope="module")
def autograder_root(release):
    return simulated_autograder(release, PA)


def gradescope_run(root: Path, files: dict):
    sub = root / "submission"
    if sub.exists():
        shutil.rmtree(str(sub))
    sub.mkdir()
    for name, text in files.items():
        (sub / name).write_text(text)
    env = dict(os.environ, MLSYS_AUTOGRADER_ROOT=str(root))
    r = run([root / "run_autograder"], env=env, cwd=str(root))
    print(r.stdout[-3000:])
    assert r.returncode == 0
    results = json.loads((root / "results" / "results.json").read_text())
    assert not util.schema_errors(results), util.schema_errors(results)
    return results


def test_gradescope_reference_scores_full_marks(autograder_root):
    rubric = json.loads((util.REPO / "autograder" / "rubrics" / (PA + ".json")).read_text())
    # Uploaded as plain files, the way students drag them into Gradescope.
    files = {Path(f).name: (util.REPO / "solutions" / f).read_text() for f in rubric["student_files"]}
    results = gradescope_run(autograder_root, files)
    max_score = sum(t["max_score"] for t in results["tests"])
    assert results["score"] == pytest.approx(max_score) and max_score == pytest.approx(100), results["output"]
    hidden = [t for t in results["tests"] if "hidden" in t.get("tags", [])]
    assert hidden and all(t["visibility"] == "after_published" for t in hidden)


def test_gradescope_starter_scores_zero(autograder_root):
    results = gradescope_run(autograder_root, {})
    assert results["score"] == 0
    assert "starter version was graded" in results["output"]


