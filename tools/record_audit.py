#!/usr/bin/env python3
"""Finds graded test cases whose verdict the official grader cannot check.

The grader passes a case only if the outputs it *recorded* (mlsys/recording.h) match the same
case run on the reference solution. A case that records nothing has nothing to compare, so a
forged "passed" from student code in the test process would count. This tool runs every test
executable of the given rubrics on a build of the reference solutions with MLSYS_RECORD_AUDIT=1
(each executable once, all its graded cases in one process); the test framework then prints
`mlsys-record-audit: Suite.Name <count>` for every case that passed. It reports

  - graded cases that passed with 0 records,
  - graded cases that failed (their records could not be counted),
  - executables that printed no audit line at all (not linked with mlsys_testing, or crashed),
  - targets the build folder lacks,

and exits 1 if there is any. Skipped cases are listed but are not errors.

    cmake -S . -B build/sol -DMLSYS_SOLUTIONS=ON && cmake --build build/sol
    python3 tools/record_audit.py build/sol autograder/rubrics/pa1.json autograder/rubrics/pa2.json

Groups marked "requires_gpu" run only when a GPU is found (nvidia-smi -L lists one) or with
--gpu yes. CTest runs this as grader.records_audit in solution builds.
"""

import argparse
import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

AUDIT_LINE = re.compile(r"^mlsys-record-audit: (\S+) (\d+)\s*$")
FAILED_LINE = re.compile(r"^\[  FAILED  \] (\S+)")
SKIPPED_LINE = re.compile(r"^\[  SKIPPED \] (\S+)")


def gpu_present() -> bool:
    if not shutil.which("nvidia-smi"):
        return False
    try:
        r = subprocess.run(["nvidia-smi", "-L"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                           universal_newlines=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return False
    return r.returncode == 0 and "GPU" in r.stdout


def gtest_filter_matches(filt: str, name: str) -> bool:
    """GoogleTest's --gtest_filter rule: positive patterns, then '-' and negative ones."""
    positive, _, negative = filt.partition("-")

    def any_match(patterns: str) -> bool:
        return any(fnmatch.fnmatchcase(name, p) for p in patterns.split(":") if p)

    return (any_match(positive) if positive else True) and not any_match(negative)


def find_executables(build: Path, targets: set) -> dict:
    """target -> path: from the grader's target map when the build has one, else a walk."""
    found = {}
    target_map = build / "mlsys_grader_targets.txt"
    if target_map.exists():
        for line in target_map.read_text().splitlines():
            name, _, path = line.partition("\t")
            if name in targets and Path(path).is_file():
                found[name] = Path(path)
    for root, dirs, files in os.walk(build):
        dirs[:] = [d for d in dirs if d != "CMakeFiles" and not d.startswith("grader")]
        for f in files:
            if f in targets and f not in found:
                p = Path(root) / f
                if os.access(p, os.X_OK):
                    found[f] = p
    return found


def list_cases(exe: Path, env: dict) -> list:
    out = subprocess.run([str(exe), "--gtest_list_tests"], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, universal_newlines=True, env=env, check=True).stdout
    cases, suite = [], ""
    for line in out.splitlines():
        if not line.strip():
            continue
        if not line.startswith(" "):
            suite = line.split()[0]
        else:
            cases.append(suite + line.split()[0])
    return cases


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("build", type=Path, help="a build folder configured with MLSYS_SOLUTIONS=ON")
    ap.add_argument("rubrics", type=Path, nargs="+", help="rubric files (autograder/rubrics/paN.json)")
    ap.add_argument("--gpu", choices=["auto", "yes", "no"], default="auto",
                    help="run requires_gpu groups: auto = when nvidia-smi finds a GPU")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds per executable")
    ap.add_argument("--verbose", "-v", action="store_true", help="print every case's count")
    args = ap.parse_args()

    gpu = gpu_present() if args.gpu == "auto" else args.gpu == "yes"

    # target -> [(rubric, task, filter)]; one run per target covers all its groups.
    groups = {}
    skipped_gpu = []
    for rubric_path in args.rubrics:
        rubric = json.loads(rubric_path.read_text())
        for task in rubric["tasks"]:
            for g in task["tests"]:
                if g.get("requires_gpu") and not gpu:
                    skipped_gpu.append(g["target"])
                    continue
                groups.setdefault(g["target"], []).append((rubric["pa"], task["id"], g.get("filter", "*")))

    executables = find_executables(args.build, set(groups))
    env = dict(os.environ, MLSYS_RECORD_AUDIT="1")
    env.pop("MLSYS_GRADER_CHANNEL", None)
    env.setdefault("OMP_NUM_THREADS", "2")

    problems = []
    per_pa = {}  # pa -> [graded passing cases, cases with 0 records]
    for target, target_groups in groups.items():
        exe = executables.get(target)
        if exe is None:
            problems.append(f"{target}: not built in {args.build}")
            continue
        filters = [f for _, _, f in target_groups]
        try:
            graded = [c for c in list_cases(exe, env) if any(gtest_filter_matches(f, c) for f in filters)]
        except (OSError, subprocess.SubprocessError) as e:
            problems.append(f"{target}: --gtest_list_tests failed ({e})")
            continue
        if not graded:
            problems.append(f"{target}: no test case matches its rubric filters {filters}")
            continue
        cmd = [str(exe)] if "*" in filters else [str(exe), "--gtest_filter=" + ":".join(graded)]
        # Audit lines go to stderr, GoogleTest's verdicts to stdout: read apart, so that a line of
        # one never lands inside a line of the other.
        try:
            r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                               errors="replace", env=env, timeout=args.timeout)
            output, errors, rc = r.stdout, r.stderr, r.returncode
        except subprocess.TimeoutExpired as e:
            output, errors = [(x or b"").decode(errors="replace") if isinstance(x, bytes) else (x or "")
                              for x in (e.stdout, e.stderr)]
            rc = "timeout"
        counts, failed, skipped = {}, set(), set()
        for line in errors.splitlines():
            m = AUDIT_LINE.match(line)
            if m:
                counts[m.group(1)] = int(m.group(2))
        for line in output.splitlines():
            m = FAILED_LINE.match(line)
            if m:
                failed.add(m.group(1))
            m = SKIPPED_LINE.match(line)
            if m:
                skipped.add(m.group(1))
        if not counts and not set(graded) <= (skipped | failed):
            problems.append(f"{target}: printed no audit line (exit {rc}); is it linked with mlsys_testing, "
                            "and did it start?")
            continue
        for case in graded:
            pa = next(p for p, _, f in target_groups if gtest_filter_matches(f, case))
            stats = per_pa.setdefault(pa, [0, 0])
            if case in counts:
                stats[0] += 1
                if counts[case] == 0:
                    stats[1] += 1
                    problems.append(f"{target}: {case} passed with 0 records")
                if args.verbose:
                    print(f"  {target}: {case} {counts[case]}")
            elif case in skipped:
                print(f"  {target}: {case} skipped (not audited)")
            elif case in failed:
                problems.append(f"{target}: {case} FAILED on this build (records not counted)")
            else:
                problems.append(f"{target}: {case} has no result (exit {rc}: crash or timeout?)")

    for pa, (passed, zero) in sorted(per_pa.items()):
        print(f"{pa}: {passed} graded cases passed, {zero} with 0 records")
    if skipped_gpu:
        print(f"no GPU: {len(set(skipped_gpu))} requires_gpu targets not run "
              f"({', '.join(sorted(set(skipped_gpu)))})")
    if problems:
        print(f"\n{len(problems)} problem(s):")
        for p in problems:
            print("  " + p)
        print("\nEvery graded case must record an output that depends on the student's work "
              "(common/include/mlsys/recording.h).")
        return 1
    print("every graded case records at least one output")
    return 0


if __name__ == "__main__":
    sys.exit(main())
