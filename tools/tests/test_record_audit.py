"""Tests of tools/record_audit.py on fake test executables (small Python scripts that answer
--gtest_list_tests and print what a GoogleTest executable under MLSYS_RECORD_AUDIT=1 prints)."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

TOOLS = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(TOOLS))
import record_audit  # noqa: E402

# A fake test executable. CASES maps "Suite.Name" to the number of records it makes, "fail",
# "skip", or "crash" (the process exits before printing that case's result).
FAKE = textwrap.dedent("""\
    #!{python}
    import os, sys
    CASES = {cases!r}
    args = sys.argv[1:]
    if "--gtest_list_tests" in args:
        suites = {{}}
        for name in CASES:
            suite, case = name.split(".")
            suites.setdefault(suite, []).append(case)
        for suite, cases in suites.items():
            print(suite + ".")
            for c in cases:
                print("  " + c)
        sys.exit(0)
    selected = list(CASES)
    for a in args:
        if a.startswith("--gtest_filter="):
            selected = [n for n in CASES if n in a[len("--gtest_filter="):].split(":")]
    audit = os.environ.get("MLSYS_RECORD_AUDIT") == "1" and {audit!r}
    failed = False
    for name in selected:
        what = CASES[name]
        print("[ RUN      ] " + name)
        if what == "crash":
            sys.exit(139)
        if what == "fail":
            print("[  FAILED  ] " + name + " (0 ms)")
            failed = True
        elif what == "skip":
            print("[  SKIPPED ] " + name + " (0 ms)")
        else:
            if audit:
                sys.stderr.write("mlsys-record-audit: %s %d\\n" % (name, what))
            print("[       OK ] " + name + " (0 ms)")
    sys.exit(1 if failed else 0)
""")


def make_exe(folder: Path, target: str, cases: dict, audit: bool = True) -> None:
    path = folder / target
    path.write_text(FAKE.format(python=sys.executable, cases=cases, audit=audit))
    path.chmod(0o755)


def make_rubric(path: Path, groups: list) -> Path:
    tests = [dict({"points": 1, "visibility": "visible", "requires_gpu": False, "filter": "*"}, **g) for g in groups]
    path.write_text(json.dumps({"pa": "pa9", "tasks": [{"id": "1.1", "tests": tests}]}))
    return path


def audit(build: Path, rubric: Path, *extra: str):
    r = subprocess.run([sys.executable, str(TOOLS / "record_audit.py"), str(build), str(rubric), "--gpu", "no", *extra],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                       env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"))
    return r.returncode, r.stdout


def test_gtest_filter_rule():
    m = record_audit.gtest_filter_matches
    assert m("*", "A.b")
    assert m("Task1_3*", "Task1_3_Hidden.Stress") and not m("Task1_3*", "Task1_4_Hidden.Stress")
    assert m("A.*:B.*", "B.x") and not m("A.*:B.*", "C.x")
    assert not m("*-*Slow*", "A.Slow") and m("*-*Slow*", "A.Fast")
    assert m("-B.*", "A.x") and not m("-B.*", "B.x")
    assert m("Inst/Suite.Case/*", "Inst/Suite.Case/0")


def test_every_case_records(tmp_path):
    make_exe(tmp_path, "t1", {"S.a": 1, "S.b": 3})
    rc, out = audit(tmp_path, make_rubric(tmp_path / "r.json", [{"target": "t1"}]))
    assert rc == 0, out
    assert "pa9: 2 graded cases passed, 0 with 0 records" in out


def test_case_without_records_is_reported(tmp_path):
    make_exe(tmp_path, "t1", {"S.a": 1, "S.b": 0})
    rc, out = audit(tmp_path, make_rubric(tmp_path / "r.json", [{"target": "t1"}]))
    assert rc == 1
    assert "t1: S.b passed with 0 records" in out and "S.a passed" not in out


def test_filters_select_the_graded_cases(tmp_path):
    # One executable, two groups: cases no group selects are neither run nor reported.
    make_exe(tmp_path, "hidden", {"Task1_1_H.a": 2, "Task1_2_H.b": 1, "Other.c": 0})
    rubric = make_rubric(tmp_path / "r.json", [{"target": "hidden", "filter": "Task1_1*"},
                                               {"target": "hidden", "filter": "Task1_2*"}])
    rc, out = audit(tmp_path, rubric)
    assert rc == 0, out
    assert "2 graded cases passed" in out


def test_no_audit_line_failed_crashed_and_missing(tmp_path):
    make_exe(tmp_path, "quiet", {"S.a": 1}, audit=False)   # not linked with mlsys_testing
    make_exe(tmp_path, "failing", {"F.a": 1, "F.b": "fail"})
    make_exe(tmp_path, "crashing", {"C.a": 1, "C.b": "crash"})
    rubric = make_rubric(tmp_path / "r.json", [{"target": "quiet"}, {"target": "failing"},
                                               {"target": "crashing"}, {"target": "absent"}])
    rc, out = audit(tmp_path, rubric)
    assert rc == 1
    assert "quiet: printed no audit line" in out
    assert "failing: F.b FAILED" in out
    assert "crashing: C.b has no result" in out
    assert "absent: not built" in out


def test_skipped_cases_and_gpu_groups(tmp_path):
    make_exe(tmp_path, "cpu", {"S.a": 1, "S.skipped": "skip"})
    make_exe(tmp_path, "gpu", {"G.a": 0})  # would be reported if it ran
    rubric = make_rubric(tmp_path / "r.json", [{"target": "cpu"}, {"target": "gpu", "requires_gpu": True}])
    rc, out = audit(tmp_path, rubric)
    assert rc == 0, out
    assert "S.skipped skipped" in out and "requires_gpu targets not run (gpu)" in out
    rc, out = audit(tmp_path, rubric, "--gpu", "yes")
    assert rc == 1 and "gpu: G.a passed with 0 records" in out
