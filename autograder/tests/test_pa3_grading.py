"""The grader on PA3: the reference solution scores full marks and the untouched starter scores
0, both with a valid results file and without a crash, for whatever rubric is committed
(autograder/rubrics/pa3.json: every task, public and hidden groups, each case run in the
sandbox with its ranks as threads, and compared with the same case run on the reference build).

Performance items are skipped (--skip-performance): they time pa3_bench for minutes; CI grades
them in its own step (`./mlsys grade pa3 --solution --expect full`). So the full-marks check is
on the test points, and the rubric's performance points are what the skipped items carry.
CTest: grader.pa3 (labels grader;pa3).
"""

import json

import pytest

import grader_test_util as util

RUBRIC = util.REPO / "autograder" / "rubrics" / "pa3.json"


@pytest.fixture(scope="module")
def env():
    root = util.work_root()
    # The work folder is where `./mlsys grade pa3` puts it with MLSYS_BUILD_ROOT=<work root>, so
    # a later grading reuses this build.
    return {"work": root / "grader" / "pa3", "out": root / "pa3" / "out", "subs": root / "pa3" / "submissions"}


def grade(env, name, **kw):
    return util.grade(util.REPO, RUBRIC, env["work"], env["out"] / name, timeout=3600,
                      extra=("--skip-performance",), **kw)


def rubric_points():
    """(test points, performance points) of the committed rubric."""
    rubric = json.loads(RUBRIC.read_text())
    tests = sum(g["points"] for t in rubric["tasks"] for g in t["tests"])
    perf = sum(p.get("points", 0) for p in rubric.get("performance", []))
    return tests, perf


@pytest.fixture(scope="module")
def reference(env):
    g = grade(env, "reference", solution=True)
    assert g.rc == 0, g.log
    return g


def test_reference_scores_full_marks(reference):
    g = reference
    assert not util.schema_errors(g.gradescope)
    assert g.failed() == {}, g.failed()
    tests, _ = rubric_points()
    # Every task of the rubric was graded, and all its test points were earned.
    graded = {t["id"] for t in g.record["tasks"]}
    assert graded == {t["id"] for t in json.loads(RUBRIC.read_text())["tasks"]}
    assert g.record["max_score"] == pytest.approx(tests), g.record["max_score"]
    assert g.score == pytest.approx(tests)
    # Every case ran: a group that matched no case would give its points away unearned.
    assert len(g.record["cases"]) >= sum(len(t["tests"]) for t in json.loads(RUBRIC.read_text())["tasks"])


def test_starter_scores_zero(env, reference):
    sub = env["subs"] / "starter"
    if sub.exists():
        for p in sorted(sub.rglob("*"), reverse=True):
            p.unlink() if p.is_file() else p.rmdir()
    sub.mkdir(parents=True, exist_ok=True)  # an empty submission: every student file stays the starter's
    g = grade(env, "starter", submission=sub)
    assert g.rc == 0, g.log
    assert not util.schema_errors(g.gradescope)
    assert g.score == 0, {c["name"]: c["points"] for c in g.record["cases"] if c["points"]}
    # Every case fails on NotImplemented, none crashes, hangs or fails for another reason.
    reasons = set(g.failed().values())
    assert reasons <= {"failed: not implemented yet", "failed"}, reasons
    assert len(g.failed()) == len(reference.record["cases"])
