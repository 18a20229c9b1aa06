#!/usr/bin/env python3
"""How much time the grader adds to running a PA's tests: the same test cases of the reference
build, three ways, one at a time (one OpenMP thread), best of --repeat:

  direct      every test executable of the rubric run once, all its cases in one process
  per-case    every case in its own process (`--gtest_filter=Suite.Case`), no sandbox
  grader      the grader's test phase (`mlsys_grade grade --solution --jobs 1
              --skip-performance`): sandbox, result channel, clean-up after every case

    ./mlsys grade pa1 --solution        # once: builds the reference (reused below)
    python3 tools/grader_overhead.py pa1

The executables come from the grader's cached reference build (build/grader/<pa>/cache/*/ref and
.../hidden/ref). Run it as the user who made that build (hidden executables are root-only).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tools"))
from tier_stability import grader as build_grader  # noqa: E402  (one way to build the grader)


def case_names(exe: Path, env) -> list:
    out = subprocess.run([str(exe), "--gtest_list_tests"], stdout=subprocess.PIPE, universal_newlines=True,
                         env=env, check=True).stdout
    names, suite = [], ""
    for line in out.splitlines():
        if not line.strip():
            continue
        if not line.startswith(" "):
            suite = line.split()[0]
        else:
            case = line.split()[0]
            if not case.startswith("DISABLED_") and not suite.startswith("DISABLED_"):
                names.append(suite + case)
    return names


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("pa")
    p.add_argument("--repeat", type=int, default=3)
    a = p.parse_args()
    rubric_path = REPO / "autograder" / "rubrics" / (a.pa + ".json")
    rubric = json.loads(rubric_path.read_text())
    work = REPO / "build" / "grader" / a.pa
    refs = sorted(work.glob("cache/*/ref"))
    if not refs:
        print("grader_overhead: no cached reference build under {}; run `./mlsys grade {} --solution` first"
              .format(work, a.pa), file=sys.stderr)
        return 2
    ref = refs[-1]
    targets = sorted({g["target"] for t in rubric["tasks"] for g in t["tests"] if not g.get("requires_gpu")})
    exes = []
    for t in targets:
        # Hidden executables sit apart, in <cache>/hidden/ref (only hidden runs may enter it).
        hits = [q for q in [ref / "bin" / t, ref.parent / "hidden" / "ref" / t] if q.is_file()]
        if hits:
            exes.append(hits[0])
    env = dict(os.environ, OMP_NUM_THREADS="1")
    cases = {exe: case_names(exe, env) for exe in exes}
    n = sum(len(c) for c in cases.values())

    def run_direct():
        for exe in exes:
            subprocess.run([str(exe)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)

    def run_per_case():
        for exe, names in cases.items():
            for c in names:
                subprocess.run([str(exe), "--gtest_filter=" + c], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, env=env)

    grader = build_grader()

    def run_grader():
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "g.json"
            subprocess.run([str(grader), "grade", "--tree", str(REPO), "--rubric", str(rubric_path), "--work",
                            str(work), "--solution", "--jobs", "1", "--skip-performance", "--format", "json",
                            "--out", str(out), "--quiet"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           env=dict(os.environ, MLSYS_GRADER_OMP_THREADS="1"), check=True)
            return json.loads(out.read_text())["timings"]["tests"]

    def best(fn):
        times = []
        for _ in range(a.repeat):
            start = time.time()
            r = fn()
            times.append(r if isinstance(r, float) else time.time() - start)
        return min(times), max(times)

    rows = [("direct (one process per executable)", best(run_direct)),
            ("per-case processes, no sandbox", best(run_per_case)),
            ("the grader's test phase, --jobs 1", best(run_grader))]
    print("{} test cases in {} executables (reference build, OMP_NUM_THREADS=1), best and worst of {}:".format(
        n, len(exes), a.repeat))
    for name, (lo, hi) in rows:
        print("  {:<40} {:6.2f} s .. {:6.2f} s".format(name, lo, hi))
    extra = (rows[2][1][0] - rows[0][1][0]) / max(n, 1) * 1000
    print("grader overhead: {:.1f} ms per case over the direct run (best times)".format(extra))
    try:
        print("load average: {:.1f} on {} cores".format(os.getloadavg()[0], os.cpu_count()))
    except OSError:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
