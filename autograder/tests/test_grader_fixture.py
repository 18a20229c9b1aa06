"""The grader end to end on the fake course (autograder/tests/fixtures/fakepa): a few seconds per
grading, so this runs in the default test run (CTest label "grader").

Covers: full marks for the solutions, zero for the starter, task independence, every hostile
submission of fixtures/fakepa-hostile (scores, reasons, nothing left running, nothing leaked),
submission layouts (repo, flat, wrapped folder, zip, Gradescope), batch mode, every output
format, and a valid results file even when the grader itself fails.
"""

import csv
import json
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

import grader_test_util as util

HOSTILE = util.HERE / "fixtures" / "fakepa-hostile"
EXPECTED = json.loads((HOSTILE / "expected.json").read_text())
STUDENT_FILES = ["fake/src/add.cpp", "fake/src/mul.cpp"]
MAX = 12  # the GPU item is not graded here


@pytest.fixture(scope="module")
def course():
    root = util.work_root() / "fake"
    return util.make_fake_course(root / "course")


@pytest.fixture(scope="module")
def env(course):
    root = util.work_root() / "fake"
    return {"course": course, "rubric": course / "autograder/rubrics/fake.json", "work": root / "work",
            "out": root / "out"}


def run(env, name, **kw):
    return util.grade(env["course"], env["rubric"], env["work"], env["out"] / name, **kw)


def sandbox_has(graded, prop):
    if prop == "root":
        return os.geteuid() == 0
    if prop == "namespaces":
        return "namespaces" in graded.record["sandbox"] and "no namespaces" not in graded.record["sandbox"]
    raise ValueError(prop)


# ------------------------------------------------------------------------------------------------
# Reference, starter, one task
# ------------------------------------------------------------------------------------------------

def test_solution_scores_full_marks(env):
    g = run(env, "solution", solution=True)
    assert g.rc == 0, g.log
    assert g.score == MAX, g.failed()
    assert not util.schema_errors(g.gradescope)
    gpu_item = [p for p in g.record["performance"] if p["id"] == "gpu_item"][0]
    assert gpu_item["status"] == "not_graded" and gpu_item["max_points"] == 0  # counted out, not zero
    names = [t["name"] for t in g.gradescope["tests"]]
    assert not any("DISABLED" in n for n in names)  # disabled tests are not graded
    assert g.gradescope["leaderboard"][0]["name"] == "mul vs a plain loop"


def test_starter_scores_zero_without_crashing(env):
    g = run(env, "starter")
    assert g.rc == 0, g.log
    assert g.score == 0
    assert g.record["max_score"] == MAX
    # Hidden cases say only pass/fail; visible ones say why.
    hidden = {c["name"] for c in g.record["cases"] if c["hidden"]}
    assert all(r == ("failed" if n in hidden else "failed: not implemented yet") for n, r in g.failed().items()), g.failed()
    assert not util.schema_errors(g.gradescope)


def test_tasks_are_graded_independently(env):
    # add is right, mul is the starter: task 1 (whose tests also call mul) gets full marks.
    sub = util.make_submission(env["out"] / "sub-one-task", env["course"], STUDENT_FILES, "starter",
                               HOSTILE / "one_task_done")
    g = run(env, "one-task", submission=sub)
    assert g.score == EXPECTED["one_task_done"]["score"], g.failed()
    assert g.case("Task1_Add.UsesMul")["status"] == "passed"
    assert g.record["files_starter"] == ["fake/src/mul.cpp"]


# ------------------------------------------------------------------------------------------------
# Hostile submissions
# ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("variant", sorted(k for k in EXPECTED if not k.startswith("$") and k != "one_task_done"))
def test_hostile_submission(env, variant):
    spec = EXPECTED[variant]
    sub = util.make_submission(env["out"] / ("sub-" + variant), env["course"], STUDENT_FILES,
                               spec.get("base", "solution"), HOSTILE / variant)
    g = run(env, "hostile-" + variant, submission=sub, timeout=600)
    assert g.rc == 0, g.log
    assert g.gradescope and not util.schema_errors(g.gradescope), util.schema_errors(g.gradescope)
    # Grading time is bounded: the slowest case (a 5 s timeout) plus build and overhead.
    assert g.seconds < 60, g.seconds
    if "requires" in spec and not sandbox_has(g, spec["requires"]):
        pytest.skip("this machine's sandbox lacks {} ({})".format(spec["requires"], g.record["sandbox"]))
    assert g.score == spec["score"], (g.failed(), g.record["tasks"])
    failed = g.failed()
    if "failed" in spec:
        assert set(failed) == set(spec["failed"]), failed
        for name, reason in spec["failed"].items():
            assert reason in failed[name], (name, failed[name])
    if "build_failed" in spec:
        task = [t for t in g.record["tasks"] if t["id"] == spec["build_failed"]][0]
        assert not task["build_ok"] and task["build_errors"], task
        assert "HIDDEN-SOURCE-MARKER" not in task["build_errors"]
        assert spec.get("build_error", "") in task["build_errors"], task["build_errors"]
    for item, reason in spec.get("perf_reason", {}).items():
        perf = [p for p in g.record["performance"] if p["id"] == item][0]
        assert perf["points"] == 0 and reason in perf["reason"], perf
    if "ignored" in spec:
        assert spec["ignored"] in g.record["files_ignored"]
    text = json.dumps(g.gradescope)
    assert "HIDDEN-SOURCE-MARKER" not in text and "HIDDEN RUN" not in text  # nothing leaked
    left = subprocess.run(["pgrep", "-f", "^sleep 313$"], stdout=subprocess.PIPE, universal_newlines=True)
    assert left.stdout.strip() == "", "a background process survived: " + left.stdout


def test_a_submission_that_hangs_everywhere_is_bounded(env, tmp_path):
    """Every case and the benchmark hang: the grading's budgets (limits.tests_s for the cases,
    limits.performance_s for the items) end it, nothing scores, and the results are valid."""
    rubric = json.loads(env["rubric"].read_text())
    rubric["limits"].update({"tests_s": 12, "performance_s": 8})
    small = tmp_path / "fake.json"
    small.write_text(json.dumps(rubric))
    sub = util.make_submission(env["out"] / "sub-hang", env["course"], STUDENT_FILES, "solution",
                               HOSTILE / "hang_everywhere")
    g = util.grade(env["course"], small, env["work"], env["out"] / "hang-everywhere", submission=sub, timeout=600)
    assert g.rc == 0, g.log
    assert g.gradescope and not util.schema_errors(g.gradescope)
    assert g.score == 0
    reasons = g.failed()
    assert len(reasons) == 9, reasons
    assert any("time budget for test cases" in r for r in reasons.values()), reasons
    # Each phase stops within a case's timeout (5 s) of its budget.
    assert g.record["timings"]["tests"] < 12 + 6, g.record["timings"]
    assert g.record["timings"]["performance"] < 8 + 3, g.record["timings"]
    perf = [p for p in g.record["performance"] if p["id"] == "mul_loop"][0]
    assert perf["points"] == 0 and "timed out" in perf["reason"], perf


def test_compile_errors_are_shown_trimmed(env):
    sub = util.make_submission(env["out"] / "sub-ce", env["course"], STUDENT_FILES, "solution",
                               HOSTILE / "compile_error")
    g = run(env, "compile-error-output", submission=sub)
    build = [t for t in g.gradescope["tests"] if t["name"].endswith(": build")][0]
    assert "fake/src/add.cpp:4" in build["output"] and "error" in build["output"]
    assert str(env["work"]) not in build["output"]  # paths are relative to the repo


# ------------------------------------------------------------------------------------------------
# Submission layouts
# ------------------------------------------------------------------------------------------------

def test_repo_layout_wrapped_folder_and_zip(env):
    repo = util.make_submission(env["out"] / "sub-repo" / "my-repo", env["course"], STUDENT_FILES, "repo")
    (repo / "notes.txt").write_text("not a student file")
    g = run(env, "layout-wrapped", submission=repo.parent)
    assert g.score == MAX
    assert any(t.endswith("(from my-repo/fake/src/add.cpp)") for t in g.record["files_taken"])
    assert "my-repo/notes.txt" in g.record["files_ignored"]

    zpath = env["out"] / "sub.zip"
    with zipfile.ZipFile(zpath, "w") as z:
        for f in STUDENT_FILES:
            z.write(env["course"] / "solutions" / f, "submission/" + f)
        z.writestr("submission/README.md", "hello")
    g = run(env, "layout-zip", submission=zpath)
    assert g.score == MAX, g.log
    assert "submission/README.md" in g.record["files_ignored"]


def test_zip_with_unsafe_paths_is_refused_with_a_valid_result(env):
    zpath = env["out"] / "evil.zip"
    with zipfile.ZipFile(zpath, "w") as z:
        z.writestr("../../evil.cpp", "int x;")
    g = run(env, "layout-evil-zip", submission=zpath)
    assert g.rc == 1
    assert g.gradescope["score"] == 0 and "unsafe path" in g.gradescope["output"]
    assert not util.schema_errors(g.gradescope)


def test_symlinks_in_a_submission_are_never_followed(env):
    sub = env["out"] / "sub-symlink"
    shutil.rmtree(sub, ignore_errors=True)
    sub.mkdir(parents=True)
    os.symlink(str(env["course"] / "solutions/fake/src/add.cpp"), str(sub / "add.cpp"))
    g = run(env, "layout-symlink", submission=sub)
    assert "add.cpp (symbolic link: never followed)" in g.record["files_ignored"]
    assert "fake/src/add.cpp" in g.record["files_starter"]


# ------------------------------------------------------------------------------------------------
# Output formats, internal errors, batch mode
# ------------------------------------------------------------------------------------------------

def test_classroom_and_markdown_outputs(env):
    out = env["out"] / "formats"
    out.mkdir(parents=True, exist_ok=True)
    cmd = [str(util.grader()), "grade", "--tree", str(env["course"]), "--rubric", str(env["rubric"]),
           "--work", str(env["work"]), "--solution", "--format", "classroom", "--out", str(out / "classroom.json"),
           "--markdown", str(out / "summary.md"), "--jobs", util.jobs(), "--expect", "full"]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)
    assert proc.returncode == 0, proc.stdout
    assert "total" in proc.stdout and "12 / 12" in proc.stdout  # the console table
    cls = json.loads((out / "classroom.json").read_text())
    assert cls["version"] == 1 and cls["status"] == "pass"
    assert abs(cls["max_score"] - MAX) < 1e-9
    assert abs(sum(t["score"] for t in cls["tests"]) - MAX) < 1e-9
    assert {t["status"] for t in cls["tests"]} == {"pass"}
    md = (out / "summary.md").read_text()
    assert "## pa9" in md and "**12 / 12**" in md


def test_expect_fails_when_the_score_differs(env):
    proc = subprocess.run([str(util.grader()), "grade", "--tree", str(env["course"]), "--rubric", str(env["rubric"]),
                           "--work", str(env["work"]), "--expect", "full", "--quiet", "--jobs", util.jobs()])
    assert proc.returncode == 3


def test_internal_error_still_writes_a_valid_file(env, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema": "mlsys-rubric/1", "pa": "pa9"}')
    g = util.grade(env["course"], bad, env["work"], env["out"] / "internal-error", solution=True)
    assert g.rc == 1
    assert g.gradescope["score"] == 0
    assert "invalid rubric" in g.gradescope["output"]
    assert not util.schema_errors(g.gradescope)


def test_batch_mode_writes_one_result_each_and_a_csv(env):
    subs = env["out"] / "batch-in"
    shutil.rmtree(subs, ignore_errors=True)
    util.make_submission(subs / "alice", env["course"], STUDENT_FILES, "solution")
    util.make_submission(subs / "bob", env["course"], STUDENT_FILES, "starter")
    util.make_submission(subs / "carol", env["course"], STUDENT_FILES, "solution", HOSTILE / "segfault")
    out = env["out"] / "batch-out"
    shutil.rmtree(out, ignore_errors=True)
    proc = subprocess.run([str(util.grader()), "batch", "--tree", str(env["course"]), "--rubric", str(env["rubric"]),
                           "--submissions", str(subs), "--out", str(out), "--parallel", "2",
                           "--work", str(env["work"].parent / "batch-work")],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, timeout=900)
    assert proc.returncode == 0, proc.stdout
    rows = {r["submission"]: r for r in csv.DictReader((out / "scores.csv").open())}
    assert {k: float(v["score"]) for k, v in rows.items()} == {"alice": 12, "bob": 0, "carol": 11}
    assert rows["carol"]["task 1"] == "5" and rows["carol"]["status"] == "ok"
    for name in rows:
        assert not util.schema_errors(json.loads((out / name / "results.json").read_text()))


def test_rubric_table_and_check_commands(env):
    table = subprocess.run([str(util.grader()), "table", str(env["rubric"])], stdout=subprocess.PIPE,
                           universal_newlines=True, check=True).stdout
    assert "| 1 | Addition | 4 | 2 | – | 6 |" in table
    assert "| 2 | Multiplication (GPU) | 3 | 1 | 7 | 11 |" in table
    check = subprocess.run([str(util.grader()), "check", str(env["rubric"])], stdout=subprocess.PIPE,
                           universal_newlines=True)
    assert check.returncode == 0 and "OK" in check.stdout
