"""The release (CTest grader.release, label slow, run by the staff gate): `autograder/release.py` writes a student
repo that leaks nothing (no solution text, no staff-only text, the repository URL filled in), builds
on its own and whose local grader gives the starter code 0, and
a Gradescope zip whose run_autograder, in a simulated /autograder, gives the reference solution
full marks and the starter code 0, with a results.json valid under results.schema.json.
"""

import json
import os
import re
import shutil
import subprocess
import sys
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
STUDENT_DOCS = ["README.md", "pa1_autodiff/README.md", "pa2_kernels/README.md", "pa3_parallelism/README.md",
                "common/README.md", "docs/BUILD.md", "handouts/pa1.md", "handouts/pa2.md", "handouts/pa3.md",
                "handouts/notebooks/pa1.ipynb", "handouts/notebooks/pa2.ipynb",
                ".github/workflows/classroom.yml", ".github/workflows/classroom-gpu.yml"]


def staff_text(rel: str, text: str) -> list:
    """Every line of ``text`` (the file ``rel``) holding a staff phrase, as 'file:line: ...'."""
    return ["{}:{}: {!r} in {}".format(rel, number, p, line.strip()[:100])
            for number, line in enumerate(text.splitlines(), start=1) for p in STAFF_PHRASES if re.search(p, line, re.I)]


def test_student_docs_have_no_staff_text(release):
    student = release / "student"
    found = []
    for rel in STUDENT_DOCS:
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


def test_leak_check_catches_a_planted_leak(release, tmp_path):
    planted = tmp_path / "student"
    shutil.copytree(str(release / "student"), str(planted))
    secret = next(iter(stubs.secret_lines(util.REPO)))
    with open(str(planted / "README.md"), "a") as f:
        f.write("\n" + secret + "\n")
    forbidden, leaks = stubs.leak_check(planted, util.REPO)
    assert leaks and leaks[0].file == "README.md"


def test_student_repo_builds_and_its_local_grader_gives_the_starter_zero(release):
    student = release / "student"
    # Not pytest's tmp_path: that is private (0700), and as root the grader's test users must
    # reach its work folder.
    tmp_path = util.work_root() / "student-build"
    if tmp_path.exists():
        shutil.rmtree(str(tmp_path))
    tmp_path.mkdir(parents=True)
    env = dict(os.environ, MLSYS_BUILD_ROOT=str(tmp_path / "build"), MLSYS_JOBS=util.jobs())
    env.pop("MLSYS_GRADE", None)
    # The student repo configures on its own (no solutions/, no hidden tests, no grader tests
    # around); the local grader below then builds the tensor library and PA1 in it. (The student
    # files of every PA compile: the staff gate's student build checks that on the same files.)
    r = run(["cmake", "-S", student, "-B", tmp_path / "build" / "all", "-DMLSYS_CUDA=OFF", "-DMLSYS_PYTHON=OFF",
             "-DMLSYS_MPI=OFF"], env=env)
    assert r.returncode == 0, r.stdout[-5000:]
    # The student's own command: local grading of the untouched starter code.
    r = run([sys.executable, student / "tools" / "mlsys_cli.py", "grade", PA, "--expect", "0",
             "--format", "json", "--out", tmp_path / "local.json"], env=env, cwd=str(student))
    print(r.stdout[-3000:])
    assert r.returncode == 0, r.stdout[-5000:]
    rec = json.loads((tmp_path / "local.json").read_text())
    assert rec["mode"] == "local" and rec["score"] == 0 and rec["max_score"] > 0
    assert not any(c["hidden"] for c in rec["cases"])


# ------------------------------------------------------------------------------------------------
# The Gradescope package, in a simulated /autograder
# ------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def autograder_root(release):
    root = util.work_root() / "autograder"
    if root.exists():
        shutil.rmtree(str(root))
    (root / "source").mkdir(parents=True)
    with zipfile.ZipFile(str(release / "gradescope" / (PA + ".zip"))) as z:
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
