"""The grader on PA1 itself: the reference solution scores full marks, the starter scores 0, and
every hostile submission of autograder/tests/hostile/ is scored right, in bounded time, with a
valid results file.

The reference is graded first; a hostile variant's expected score is stated relative to the
reference's test points ("loses this case's points", "loses task 2.1"). Hostile gradings skip
the benchmarks (they measure tasks 2.2 and 4, which no variant touches, and take minutes). Default run (CTest grader.pa1, `-m "not slow"`): reference, starter and a fast
subset of the hostile suite; `-m slow` (grader.pa1_hostile_full) runs the rest.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import grader_test_util as util

sys.path.insert(0, str(util.HERE / "hostile"))
import make_hostile  # noqa: E402

RUBRIC = util.REPO / "autograder" / "rubrics" / "pa1.json"
FAST = ["compile_error", "segfault", "infinite_loop", "fake_results"]
# Seconds one hostile grading may take on a 2-core CI machine once the reference build is
# cached: a rebuild of one task (one file, its test executables), its cases, at worst one 20 s
# timeout (benchmarks skipped). docs/GRADING.md states this bound.
BOUND_S = 120


@pytest.fixture(scope="module")
def env():
    root = util.work_root()
    # The work folder is where `./mlsys grade pa1` puts it with MLSYS_BUILD_ROOT=<work root>, so
    # CI's grading step reuses this build (.github/workflows/ci.yml).
    return {"work": root / "grader" / "pa1", "out": root / "pa1" / "out", "subs": root / "pa1" / "submissions"}


def grade(env, name, **kw):
    return util.grade(util.REPO, RUBRIC, env["work"], env["out"] / name, **kw)


# The benchmarks take minutes; they run only with MLSYS_GRADER_TEST_PERF=1 (CI measures them
# in its own grading step with `./mlsys grade pa1 --solution --expect full`).
WITH_PERF = os.environ.get("MLSYS_GRADER_TEST_PERF") == "1"


@pytest.fixture(scope="module")
def reference(env):
    g = grade(env, "reference", solution=True, timeout=3600, extra=() if WITH_PERF else ("--skip-performance",))
    assert g.rc == 0, g.log
    return g


def task_scores(g):
    """Points per task from the test cases alone (hostile gradings skip the benchmarks)."""
    scores = {t["id"]: 0.0 for t in g.record["tasks"]}
    for c in g.record["cases"]:
        scores[c["task"]] += c["points"]
    return scores


def case_points_total(g):
    return sum(task_scores(g).values())


def test_reference_scores_full_marks(reference):
    g = reference
    assert not util.schema_errors(g.gradescope)
    problems = {**g.failed(), **{p["id"]: p["reason"] for p in g.record["performance"]
                                 if p["status"] == "failed"}}
    assert g.score == pytest.approx(g.record["max_score"]), problems
    perf_points = sum(p["max_points"] for p in g.record["performance"])
    assert g.record["max_score"] + (0 if WITH_PERF else 10) == pytest.approx(100), perf_points


def test_starter_scores_zero(env, reference):
    sub = make_hostile.build("starter", env["subs"] / "starter")
    g = grade(env, "starter", submission=sub, timeout=3600, extra=("--skip-performance",))
    assert g.rc == 0, g.log
    assert g.score == 0
    assert not util.schema_errors(g.gradescope)
    # Every case fails on NotImplemented, none crashes or hangs.
    reasons = set(g.failed().values())
    assert reasons <= {"failed: not implemented yet", "failed"}, reasons


def test_hostile_variants_are_generated_from_the_solutions(tmp_path):
    for name in make_hostile.variants():
        spec = make_hostile.spec(name)
        out = make_hostile.build(name, tmp_path / name)
        if "file" in spec:
            text = (out / spec["file"]).read_text()
            assert (make_hostile.HERE / name / spec["snippet"]).read_text() in text
            assert "mlsys_hostile_case" in text  # the prelude
        for f in make_hostile.student_files():
            if (out / f).exists() and f != spec.get("file") and spec["base"] == "solution" and f not in spec.get("starter", []):
                assert (out / f).read_text() == (util.REPO / "solutions" / f).read_text()


def expected_score(spec, reference):
    ref = task_scores(reference)
    exp = spec["expect"]
    if "score" in exp:
        return exp["score"]
    if "only_tasks" in exp:
        return sum(ref[t] for t in exp["only_tasks"])
    lost = 0.0
    for t in exp.get("lost_tasks", []):
        lost += ref[t]
    for name in exp.get("lost_cases", {}):
        lost += reference.case(name)["max_points"]
    return case_points_total(reference) - lost


@pytest.mark.parametrize("name", [n if n in FAST else pytest.param(n, marks=pytest.mark.slow)
                                  for n in make_hostile.variants() if n not in ("reference", "starter")])
def test_hostile_submission(env, reference, name):
    spec = make_hostile.spec(name)
    exp = spec["expect"]
    sub = make_hostile.build(name, env["subs"] / name)
    # The benchmarks measure tasks 2.2 and 4, which no variant touches: skipped to save minutes.
    g = grade(env, "hostile-" + name, submission=sub, timeout=1800, extra=("--skip-performance",))
    assert g.rc == 0, g.log
    assert g.gradescope and not util.schema_errors(g.gradescope), util.schema_errors(g.gradescope)
    print("{}: {} in {:.1f} s".format(name, g.score, g.seconds))
    assert g.seconds < BOUND_S, "grading took {:.0f} s".format(g.seconds)
    need = exp.get("requires")
    if need == "root" and os.geteuid() != 0:
        pytest.skip("needs a root grader (test users); sandbox here: " + g.record["sandbox"])
    if need == "namespaces" and "no namespaces" in g.record["sandbox"]:
        pytest.skip("needs network namespaces; sandbox here: " + g.record["sandbox"])
    assert g.score == pytest.approx(case_points_total(g), abs=1e-6)  # no performance points counted
    assert g.score == pytest.approx(expected_score(spec, reference), abs=1e-6), (g.failed(), task_scores(g))
    for case, reason in exp.get("lost_cases", {}).items():
        assert case in g.failed(), g.failed()
        assert reason in g.failed()[case], g.failed()[case]
    if "lost_cases" in exp:
        # Everything else in that task still passes: the other cases did not notice.
        assert set(g.failed()) == set(exp["lost_cases"]), g.failed()
    for task in exp.get("lost_tasks", []):
        assert task_scores(g)[task] == 0
    for task in exp.get("build_failed", []):
        t = [x for x in g.record["tasks"] if x["id"] == task][0]
        assert not t["build_ok"] and "error" in t["build_errors"], t
    for rel in exp.get("ignored", []):
        assert rel in g.record["files_ignored"], g.record["files_ignored"]
    text = json.dumps(g.gradescope) + json.dumps(g.record)
    for s in exp.get("not_in_results", []):
        assert s not in text
    if "no_process" in exp:
        left = subprocess.run(["pgrep", "-f", exp["no_process"]], stdout=subprocess.PIPE, universal_newlines=True)
        assert left.stdout.strip() == "", "still running: " + left.stdout
