"""PA2's library policy, enforced on the compiled object (handouts/pa2.md §2, "What your code may
call"; rubric field forbidden_symbols): a Task 1.4 submission whose matmul_simd wraps Eigen —
correct, and as fast as what it is measured against — must not build, with a message that names
Eigen, while the reference solution of the same task still builds and scores full marks.

To keep the run short, the grader gets a copy of the PA2 rubric restricted to Task 1.4 (its
student file, its tests, no performance items) with the rubric's forbidden_symbols unchanged.
The submission is autograder/tests/fixtures/pa2-hostile/eigen_wrap/matmul_simd.cpp; it includes
<eigen3/Eigen/Dense>, which compiles without Eigen's include path, so the object check (not a
missing header) is what rejects it. CTest: grader.pa2_policy (labels grader;pa2).
"""

import json
import shutil
from pathlib import Path

import pytest

import grader_test_util as util

RUBRIC = util.REPO / "autograder" / "rubrics" / "pa2.json"
TASK = "1.4"
FIXTURE = util.HERE / "fixtures" / "pa2-hostile" / "eigen_wrap"


@pytest.fixture(scope="module")
def env():
    root = util.work_root()
    env = {"work": root / "grader" / "pa2-policy", "out": root / "pa2-policy" / "out",
           "subs": root / "pa2-policy" / "submissions"}
    full = json.loads(RUBRIC.read_text())
    task = [t for t in full["tasks"] if t["id"] == TASK][0]
    rubric = {k: v for k, v in full.items() if k not in ("tasks", "performance")}
    rubric["student_files"] = task["files"]
    rubric["tasks"] = [task]
    rubric["performance"] = []
    env["rubric"] = root / "pa2-policy" / "pa2_task1_4.json"
    env["rubric"].parent.mkdir(parents=True, exist_ok=True)
    env["rubric"].write_text(json.dumps(rubric, indent=2))
    assert rubric["forbidden_symbols"], "pa2.json lost its forbidden_symbols"
    return env


def grade(env, name, **kw):
    return util.grade(util.REPO, env["rubric"], env["work"], env["out"] / name,
                      extra=("--skip-performance",), timeout=3600, **kw)


def task_record(g):
    return [t for t in g.record["tasks"] if t["id"] == TASK][0]


def test_reference_builds_and_scores_full_marks(env):
    g = grade(env, "reference", solution=True)
    assert g.rc == 0, g.log
    assert task_record(g)["build_ok"], task_record(g)
    assert g.score == pytest.approx(g.record["max_score"]), g.failed()
    assert g.score > 0


def test_eigen_wrapper_is_rejected_naming_eigen(env):
    sub = env["subs"] / "eigen_wrap"
    if sub.exists():
        shutil.rmtree(sub)
    sub.mkdir(parents=True)
    shutil.copy2(FIXTURE / "matmul_simd.cpp", sub / "matmul_simd.cpp")
    g = grade(env, "eigen_wrap", submission=sub)
    assert g.rc == 0, g.log
    t = task_record(g)
    assert not t["build_ok"], t
    errors = t["build_errors"]
    assert "matmul_simd.cpp" in errors and "Eigen::" in errors, errors
    assert "may not use Eigen" in errors, errors
    assert g.score == 0, g.failed()
    # The message reaches the student (Gradescope output), not only the grader's own record.
    assert "may not use Eigen" in json.dumps(g.gradescope)
