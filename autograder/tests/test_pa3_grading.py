"""The grader on PA3: the reference solution scores full marks and the untouched starter scores
0, both with a valid results file and without a crash, for whatever rubric is committed
(autograder/rubrics/pa3.json: every task, public and hidden groups, each case run in the
sandbox with its ranks as threads, and compared with the same case run on the reference build).

Performance items are skipped (--skip-performance): they time pa3_bench for minutes; CI grades
them in its own step (`./mlsys grade pa3 --solution --expect full`). So the full-marks check is
on the test points, and the rubric's performance points are what the skipped items carry.

Then PA3's policy (the rubric's forbidden_symbols, handouts/pa3.md "Task 1 rules"), on the same
work folder, each with a rubric of one task (after the reference grading, whose build they
reuse; run alone, they build the reference of their own targets): a collectives.cpp
with legal calls only builds and scores full marks; the hostile submissions of
autograder/tests/hostile/pa3_*/ (make_pa3_hostile.py) marked "fast" are rejected before
linking, naming the call. The others (slow, grader.pa3_hostile_full) are graded on all of
Task 1 against the score in their pa3.json (with the performance items their pa3.json names);
those marked "open" are attacks the grader cannot see yet, skipped with the reason.
CTest: grader.pa3 (labels grader;pa3; -m "not slow").
"""

import json
import shutil
import sys

import pytest

import grader_test_util as util

sys.path.insert(0, str(util.HERE / "hostile"))
import make_pa3_hostile  # noqa: E402

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


# ---- the policy ------------------------------------------------------------------------------

def task_rubric(env, task_ids, visible_only=False, performance=False):
    """The PA3 rubric cut to `task_ids` (their performance items only if `performance`), its
    forbidden_symbols kept for the files those tasks grade."""
    full = json.loads(RUBRIC.read_text())
    tasks = [json.loads(json.dumps(t)) for t in full["tasks"] if t["id"] in task_ids]
    if visible_only:
        for t in tasks:
            t["tests"] = [g for g in t["tests"] if g["visibility"] == "visible"]
    files = sorted({f for t in tasks for f in t["files"]})
    rubric = {k: v for k, v in full.items() if k not in ("tasks", "performance", "student_files")}
    items = [p for p in full.get("performance", []) if performance and p["task"] in task_ids]
    rubric.update(student_files=files, tasks=tasks, performance=items)
    rubric["forbidden_symbols"] = [f for f in full["forbidden_symbols"] if set(f.get("files", files)) & set(files)]
    path = env["out"] / "rubrics" / ("pa3_" + "_".join(task_ids) + ("_visible" if visible_only else "") +
                                     ("_perf" if performance else "") + ".json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(rubric, indent=1))
    return path


def hostile_attacks(fast):
    return [n for n in make_pa3_hostile.attacks() if bool(make_pa3_hostile.spec(n).get("fast")) == fast]


def test_rubric_restricts_collectives_only():
    """collectives.cpp may not call native_*; the files that must call them (Tasks 3-5) may."""
    rules = json.loads(RUBRIC.read_text())["forbidden_symbols"]
    native = [r for r in rules if "native_" in r["why"] and "pa3::Communicator" in r["pattern"]]
    assert native and all(r.get("files") == ["pa3_parallelism/src/collectives.cpp"] for r in native), native


def test_legal_collectives_build_and_score_full_marks(env):
    """Not byte-identical to the solution, so compiled and checked: the calls the handout allows
    (sendrecv, send, recv, rank, size) pass the object check."""
    sub = env["subs"] / "legal"
    shutil.rmtree(str(sub), ignore_errors=True)
    sub.mkdir(parents=True)
    f = "pa3_parallelism/src/collectives.cpp"
    (sub / "collectives.cpp").write_text((util.REPO / "solutions" / f).read_text() + "\n// my own rings\n")
    g = util.grade(util.REPO, task_rubric(env, ["1.1"], visible_only=True), env["work"], env["out"] / "legal",
                   submission=sub, extra=("--skip-performance",), timeout=600)
    assert g.rc == 0, g.log
    assert g.record["tasks"][0]["build_ok"], g.record["tasks"][0]
    assert g.failed() == {}, g.failed()
    assert g.score == pytest.approx(g.record["max_score"]) and g.score > 0


def grade_attack(env, name, task_ids, performance=False):
    sub = make_pa3_hostile.build(name, env["subs"] / name)
    rubric = task_rubric(env, task_ids, visible_only=len(task_ids) == 1, performance=performance)
    return util.grade(util.REPO, rubric, env["work"], env["out"] / name, submission=sub,
                      extra=() if performance else ("--skip-performance",), timeout=900)


@pytest.mark.parametrize("name", hostile_attacks(fast=True))
def test_hostile_submission_is_rejected_naming_the_call(env, name):
    s = make_pa3_hostile.spec(name)
    g = grade_attack(env, name, [s["task"]])
    assert g.rc == 0, g.log
    assert not util.schema_errors(g.gradescope)
    t = g.record["tasks"][0]
    assert not t["build_ok"], t
    for text in s.get("errors", []):
        assert text in t["build_errors"], (text, t["build_errors"])
    if s.get("errors_any"):
        assert any(text in t["build_errors"] for text in s["errors_any"]), t["build_errors"]
    assert g.score == s["score"], g.failed()
    # The student sees why (Gradescope output), not only the grader's record.
    assert t["build_errors"].splitlines()[0] in json.dumps(g.gradescope)


@pytest.mark.slow
@pytest.mark.parametrize("name", hostile_attacks(fast=False))
def test_hostile_submission_scores_as_stated(env, name):
    s = make_pa3_hostile.spec(name)
    if s.get("open"):
        pytest.skip("open: " + s["open"])
    task_ids = ["1.1", "1.2", "1.3", "1.4"] if s["task"].startswith("1.") else [s["task"]]
    g = grade_attack(env, name, task_ids, performance="performance" in s)
    assert g.rc == 0, g.log
    # A score of split case points (e.g. 1/6 of a group) is stated to 2 decimals in pa3.json.
    assert g.score == pytest.approx(s["score"], abs=0.005), \
        (g.score, g.failed(), [(p["id"], p["points"], p["reason"]) for p in g.record["performance"]])
    for item, reason in s.get("performance", {}).items():
        p = [p for p in g.record["performance"] if p["id"] == item][0]
        assert p["points"] == 0 and reason in p["reason"] + p.get("output", ""), p
    errors = "\n".join(t.get("build_errors", "") for t in g.record["tasks"])
    for text in s.get("errors", []):
        assert text in errors, (text, errors)
