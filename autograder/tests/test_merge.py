"""`mlsys_grade merge` and `--only gpu|cpu` (docs/GRADING.md §4, "GPU items").

The merge joins a batch graded `--only cpu` with the same batch graded `--only gpu`. The fixtures
in fixtures/merge/ are hand-made grade.json files of the rubric fixtures/merge/rubric.json
(21 points: task 1 on the CPU, 4 visible + 2 hidden + 2 performance; task 2 on the GPU, 6 visible
+ 3 hidden + 4 performance):

  cpu/alice  task 1: visible 4/4, hidden failed, cpu_mm 0.7x (tier 0.5x: 1)      -> 5 of the CPU 8
  cpu/bob    task 1: everything, cpu_mm 1.2x (tier 1x: 2)                          -> 8
  gpu/alice  graded without --only: task 1 all passed (must be ignored), task 2 visible 2 of 3
             cases (4 of 6), hidden passed (3), gpu_mm 0.9x (tier 0.8x: 4)        -> 11 of the GPU 13
  gpu/carol  task 2: everything (9), gpu_mm 0.5x (tier 0.4x: 2)                    -> 11

Bob has no GPU grading and Carol no CPU grading: the missing side's items are failed at full value.
"""

import csv
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from grader_test_util import HERE, grader, make_fake_course, schema_errors, work_root

FIX = HERE / "fixtures" / "merge"


def run_merge(out: Path, cpu: Path = FIX / "cpu", gpu: Path = FIX / "gpu"):
    if out.exists():
        shutil.rmtree(out)
    proc = subprocess.run([str(grader()), "merge", "--cpu", str(cpu), "--gpu", str(gpu), "--out", str(out),
                           "--rubric", str(FIX / "rubric.json")],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, timeout=120)
    return proc


@pytest.fixture(scope="module")
def merged() -> Path:
    out = work_root() / "merge" / "graded"
    proc = run_merge(out)
    print(proc.stdout)
    assert proc.returncode == 0, proc.stdout
    assert "bob: gpu missing" in proc.stdout and "carol: cpu missing" in proc.stdout
    return out


def record(out: Path, name: str) -> dict:
    return json.loads((out / name / "grade.json").read_text())


def test_totals(merged):
    # Hand sums (see the module docstring): CPU side + GPU side, out of the rubric's 21.
    expected = {"alice": (5 + 11, {"1": 5, "2": 11}), "bob": (8 + 0, {"1": 8, "2": 0}),
                "carol": (0 + 11, {"1": 0, "2": 11})}
    for name, (score, tasks) in expected.items():
        r = record(merged, name)
        assert r["score"] == pytest.approx(score), name
        assert r["max_score"] == pytest.approx(21), name
        assert {t["id"]: t["score"] for t in r["tasks"]} == pytest.approx(tasks), name
        gs = json.loads((merged / name / "results.json").read_text())
        assert gs["score"] == pytest.approx(score)
        assert sum(t["score"] for t in gs["tests"]) == pytest.approx(score)
        assert sum(t["max_score"] for t in gs["tests"]) == pytest.approx(21)


def test_each_side_owns_its_items(merged):
    alice = record(merged, "alice")
    # Task 1 comes from the CPU grading only: its hidden case failed there (passed on the GPU side).
    hidden1 = [c for c in alice["cases"] if c["task"] == "1" and c["hidden"]]
    assert [c["status"] for c in hidden1] == ["failed"]
    assert sorted(c["name"] for c in alice["cases"] if c["task"] == "2") == [
        "Task2.Ragged", "Task2.Square", "Task2.Tall", "Task2_Hidden.Big"]
    assert all(c["status"] != "not_graded" for c in alice["cases"])
    assert {p["id"]: p["ratio"] for p in alice["performance"]} == {"cpu_mm": 0.7, "gpu_mm": 0.9}
    assert all(c["requires_gpu"] == (c["task"] == "2") for c in alice["cases"])


def test_missing_side_fails_with_reason(merged):
    bob = record(merged, "bob")
    gpu_cases = [c for c in bob["cases"] if c["task"] == "2"]
    assert {(c["target"], c["max_points"], c["status"]) for c in gpu_cases} == {
        ("m_task2_tests", 6, "failed"), ("m_hidden_tests", 3, "failed")}
    for c in gpu_cases:
        assert "no GPU grading of this submission" in c["reason"] and "missing from gpu/" in c["reason"]
    gpu_mm = [p for p in bob["performance"] if p["id"] == "gpu_mm"][0]
    assert (gpu_mm["status"], gpu_mm["points"], gpu_mm["max_points"]) == ("failed", 0, 4)
    assert any("missing from gpu/" in n for n in bob["notes"])
    carol = record(merged, "carol")
    assert {(c["target"], c["max_points"], c["status"]) for c in carol["cases"] if c["task"] == "1"} == {
        ("m_task1_tests", 4, "failed"), ("m_hidden_tests", 2, "failed")}
    gs = json.loads((merged / "carol" / "results.json").read_text())
    assert any("missing from cpu/" in t.get("output", "") for t in gs["tests"] if t["max_score"] > 0 and t["score"] == 0)


def test_scores_csv(merged):
    rows = list(csv.DictReader((merged / "scores.csv").open()))
    assert [r["submission"] for r in rows] == ["alice", "bob", "carol"]
    assert list(rows[0].keys()) == ["submission", "score", "max_score", "task 1", "task 2", "status", "seconds", "error"]
    got = {r["submission"]: (float(r["score"]), float(r["max_score"]), float(r["task 1"]), float(r["task 2"]), r["status"])
           for r in rows}
    assert got == {"alice": (16, 21, 5, 11, "ok"), "bob": (8, 21, 8, 0, "gpu missing"),
                   "carol": (11, 21, 0, 11, "cpu missing")}


def test_results_are_valid_gradescope(merged):
    for name in ("alice", "bob", "carol"):
        gs = json.loads((merged / name / "results.json").read_text())
        assert schema_errors(gs) == [], name
        for t in gs["tests"]:
            if "hidden" in t.get("tags", []):
                assert t["output"] in ("passed (hidden test)", "failed (hidden test)") or "grading of this submission" in t["output"]


def test_failed_side_grading(tmp_path):
    # A GPU grading that failed inside the grader (internal_error) counts as missing, with its error.
    gpu = tmp_path / "gpu"
    shutil.copytree(FIX / "gpu", gpu)
    doc = json.loads((gpu / "alice" / "grade.json").read_text())
    doc["internal_error"] = "CMake configure failed: nvcc not found"
    (gpu / "alice" / "grade.json").write_text(json.dumps(doc))
    (gpu / "dave").mkdir()  # a folder without grade.json (the grader died)
    out = tmp_path / "graded"
    proc = run_merge(out, gpu=gpu)
    assert proc.returncode == 0, proc.stdout
    alice = record(out, "alice")
    assert alice["score"] == pytest.approx(5)
    assert all("nvcc not found" in c["reason"] for c in alice["cases"] if c["task"] == "2")
    rows = {r["submission"]: r for r in csv.DictReader((out / "scores.csv").open())}
    assert rows["alice"]["status"] == "gpu grader error"
    assert rows["dave"]["status"] == "cpu missing; gpu grader error" and float(rows["dave"]["score"]) == 0
    assert rows["dave"]["error"].startswith("no usable grading")
    assert schema_errors(json.loads((out / "dave" / "results.json").read_text())) == []


def test_only_gpu_without_gpu_grades_nothing(tmp_path):
    # The fake course on a machine without a GPU (forced): --only gpu builds nothing, says so, and
    # writes a valid file where every item is "not graded".
    course = make_fake_course(work_root() / "merge" / "course")
    out = tmp_path / "out"
    out.mkdir()
    env = dict(os.environ, MLSYS_GRADER_GPU="0")
    proc = subprocess.run([str(grader()), "grade", "--tree", str(course), "--rubric",
                           str(course / "autograder" / "rubrics" / "fake.json"), "--solution", "--only", "gpu",
                           "--work", str(work_root() / "merge" / "work"), "--format", "gradescope",
                           "--out", str(out / "results.json"), "--json", str(out / "grade.json")],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stdout
    assert "nothing is graded here" in proc.stdout
    rec = json.loads((out / "grade.json").read_text())
    assert rec["score"] == 0 and rec["max_score"] == 0 and rec["internal_error"] == ""
    assert rec["cases"] and all(c["status"] == "not_graded" for c in rec["cases"])
    assert all(p["status"] == "not_graded" for p in rec["performance"])
    assert {c["reason"] for c in rec["cases"]} == {"not graded in this run (--only gpu)"}
    assert [p["reason"] for p in rec["performance"]] == ["not graded in this run (--only gpu)", "not graded here: no GPU"]
    assert schema_errors(json.loads((out / "results.json").read_text())) == []


def test_only_rejects_other_values():
    proc = subprocess.run([str(grader()), "grade", "--rubric", str(FIX / "rubric.json"), "--only", "tpu"],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, timeout=60)
    assert proc.returncode == 2 and "--only must be gpu or cpu" in proc.stdout


def test_only_cpu_grades_the_rest(tmp_path):
    # The fake course's reference solutions with --only cpu: every test (none needs a GPU) at full
    # marks, the CPU performance item measured, the GPU item "not graded in this run".
    course = make_fake_course(work_root() / "merge" / "course")
    rubric = json.loads((course / "autograder" / "rubrics" / "fake.json").read_text())
    test_points = sum(g["points"] for t in rubric["tasks"] for g in t["tests"])
    cpu_items = [p for p in rubric["performance"] if not p.get("requires_gpu")]
    out = tmp_path / "out"
    out.mkdir()
    proc = subprocess.run([str(grader()), "grade", "--tree", str(course), "--rubric",
                           str(course / "autograder" / "rubrics" / "fake.json"), "--solution", "--only", "cpu",
                           "--work", str(work_root() / "merge" / "work"), "--jobs", "2", "--format", "gradescope",
                           "--out", str(out / "results.json"), "--json", str(out / "grade.json"), "--quiet"],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, timeout=900)
    assert proc.returncode == 0, proc.stdout
    rec = json.loads((out / "grade.json").read_text())
    assert rec["internal_error"] == ""
    assert all(c["status"] == "passed" for c in rec["cases"])
    assert sum(c["max_points"] for c in rec["cases"]) == pytest.approx(test_points)
    perf = {p["id"]: p for p in rec["performance"]}
    assert perf["gpu_item"]["status"] == "not_graded"
    assert perf["gpu_item"]["reason"] == "not graded in this run (--only cpu)"
    assert [perf[p["id"]]["status"] for p in cpu_items] == ["passed"] * len(cpu_items)
    assert rec["max_score"] == pytest.approx(test_points + sum(max(t["points"] for t in p["tiers"]) for p in cpu_items))
    assert schema_errors(json.loads((out / "results.json").read_text())) == []
