#!/usr/bin/env python3
"""Checks that untouched starter code fails its PA tests only with mlsys::NotImplemented.

Usage: python3 tools/check_student_stubs.py BUILD_DIR [--label pa1] [--timeout 300]

Runs every GoogleTest executable whose CTest tests carry a paN label (python and notebook
tests excluded) in a *student* build, with --gtest_output=json, and requires:
  * each executable exits normally (no crash, no hang) and writes its JSON report;
  * every failing test case failed with a message containing "NotImplemented" (the stubs'
    exception, which names the task), i.e. the starter never fails for any other reason;
  * at least one test case failed per executable that covers a task, unless all its cases
    skipped (a stub that silently "passes" its task's tests would be a broken stub).
Exits 1 listing each violation. Used by the staff gate (./mlsys test) and by CI.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from collections import defaultdict


def ctest_tests(build_dir):
    out = subprocess.run(["ctest", "--test-dir", build_dir, "--show-only=json-v1"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, check=True).stdout
    data = json.loads(out)
    for t in data.get("tests", []):
        labels = []
        for p in t.get("properties", []):
            if p.get("name") == "LABELS":
                labels = p.get("value", [])
        yield t.get("name"), t.get("command", []), labels


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("build_dir")
    ap.add_argument("--label", default=r"^pa\d+$", help="regex a test's labels must match (default: any paN)")
    ap.add_argument("--timeout", type=int, default=600)
    args = ap.parse_args()

    executables = {}  # exe -> set of task labels
    for name, cmd, labels in ctest_tests(args.build_dir):
        if not cmd or not any(re.search(args.label, l) for l in labels):
            continue
        # Python and notebook tests are not GoogleTest executables; "mpi" tests run an
        # executable under mpirun (PA3's runtime, staff code), and "example" tests run an
        # example program through a shell script: none is one this script can run.
        if any(l in ("python", "notebook", "mpi", "example") for l in labels):
            continue
        exe = cmd[0]
        if not os.path.basename(exe).startswith(("python", "pytest")):
            executables.setdefault(exe, set()).update(l for l in labels if re.match(r"^task\d", l))
    if not executables:
        print("check_student_stubs: no PA test executables found in", args.build_dir)
        return 0

    problems = []
    totals = defaultdict(int)
    with tempfile.TemporaryDirectory() as tmp:
        for exe, tasks in sorted(executables.items()):
            if exe.endswith("_NOT_BUILT"):  # CTest's placeholder for an executable not built yet
                problems.append("{}: not built (build every target of {} first)".format(
                    exe[:-len("_NOT_BUILT")], args.build_dir))
                continue
            report = os.path.join(tmp, os.path.basename(exe) + ".json")
            try:
                proc = subprocess.run([exe, "--gtest_output=json:" + report], stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT, timeout=args.timeout)
            except subprocess.TimeoutExpired:
                problems.append("{}: timed out after {} s".format(exe, args.timeout))
                continue
            if proc.returncode < 0 or not os.path.exists(report):
                problems.append("{}: exited with {} without a report (crash?)".format(exe, proc.returncode))
                continue
            with open(report) as f:
                data = json.load(f)
            failed_here = passed_here = 0
            for suite in data.get("testsuites", []):
                for case in suite.get("testsuite", []):
                    full = "{}.{}".format(suite.get("name"), case.get("name"))
                    failures = case.get("failures", [])
                    if case.get("result") == "SKIPPED" or case.get("status") == "NOTRUN":
                        totals["skipped"] += 1
                    elif failures:
                        failed_here += 1
                        totals["failed (NotImplemented)"] += 1
                        bad = [f.get("failure", "") for f in failures if "NotImplemented" not in f.get("failure", "")]
                        if bad:
                            problems.append("{} [{}]: failed for another reason than NotImplemented:\n    {}".format(
                                full, os.path.basename(exe), bad[0].strip().replace("\n", "\n    ")[:600]))
                    else:
                        totals["passed"] += 1
                        passed_here += 1
            # An executable whose cases all skip (GPU tests without a GPU) proves nothing either way.
            if tasks and failed_here == 0 and passed_here > 0:
                problems.append("{} ({}): no test failed, so its stubs do not fail loudly".format(
                    os.path.basename(exe), ", ".join(sorted(tasks))))
    summary = ", ".join("{} {}".format(v, k) for k, v in sorted(totals.items()))
    print("check_student_stubs: {} executables; {}".format(len(executables), summary))
    for p in problems:
        print("  PROBLEM: " + p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
