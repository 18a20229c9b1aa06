#!/usr/bin/env python3
"""Grade the reference solutions of one PA several times in a row and check that every
performance item lands in the same tier every time (the rubric's promise, DESIGN §7).

    ./mlsys grade pa1 --solution             # once, to build (later runs reuse the build)
    python3 tools/tier_stability.py pa1 --runs 10

Each run is a full official grading (`mlsys_grade grade --solution`): the test cases and every
performance item, each item `runs` benchmark processes as the rubric says. The report gives, per
item, the median ratio of each grading, its range, the tier thresholds and the points of each
grading, and says whether the score was the same every time. Exit status: 0 stable, 1 not stable
(or a grading failed), 2 usage. Use it after changing a tier, a benchmark or the reference.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def grader() -> Path:
    """The standalone grader, built if needed (as `./mlsys grade` does)."""
    build = REPO / "build" / "grader-tool"
    exe = build / "mlsys_grade"
    subprocess.run(["cmake", "-S", str(REPO / "autograder"), "-B", str(build), "-DCMAKE_BUILD_TYPE=Release"],
                   check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["cmake", "--build", str(build), "--target", "mlsys_grade"], check=True, stdout=subprocess.DEVNULL)
    return exe


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("pa", help="pa1, pa2, ...")
    p.add_argument("--runs", type=int, default=10, help="gradings in a row (default 10)")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="the grader's --jobs")
    p.add_argument("--out", help="also write the per-run records here (JSON)")
    a = p.parse_args()
    rubric = REPO / "autograder" / "rubrics" / (a.pa + ".json")
    if not rubric.is_file():
        print("tier_stability: no rubric {}".format(rubric.relative_to(REPO)), file=sys.stderr)
        return 2
    if a.runs < 2:
        print("tier_stability: --runs must be at least 2, got {}".format(a.runs), file=sys.stderr)
        return 2
    exe = grader()
    work = Path(os.environ.get("MLSYS_BUILD_ROOT", str(REPO / "build"))) / "grader" / a.pa
    records = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(a.runs):
            out = Path(tmp) / "run{}.json".format(i)
            start = time.time()
            cmd = [str(exe), "grade", "--tree", str(REPO), "--rubric", str(rubric), "--work", str(work),
                   "--solution", "--jobs", str(a.jobs), "--format", "json", "--out", str(out), "--quiet"]
            r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)
            if r.returncode != 0 or not out.is_file():
                print(r.stdout[-3000:])
                print("tier_stability: grading {} failed (exit {})".format(i + 1, r.returncode), file=sys.stderr)
                return 1
            rec = json.loads(out.read_text())
            records.append(rec)
            items = " ".join("{}={}".format(p["id"], "–" if p["ratio"] is None else "{:.3f}".format(p["ratio"]))
                             for p in rec["performance"])
            print("[{}/{}] score {:g} / {:g} in {:.0f} s   {}".format(i + 1, a.runs, rec["score"], rec["max_score"],
                                                                  time.time() - start, items), flush=True)
    if a.out:
        Path(a.out).write_text(json.dumps(records, indent=1))

    stable = True
    print("\n{:<28} {:>8} {:>8} {:>8}  {:<24} {}".format("item", "min", "median", "max", "tiers", "points per run"))
    for idx, item in enumerate(records[0]["performance"]):
        runs = [rec["performance"][idx] for rec in records]
        points = [r["points"] for r in runs]
        if all(r["status"] == "not_graded" for r in runs):
            print("{:<28} {:>8} {:>8} {:>8}  {:<24} {}".format(item["id"], "", "", "", item["tiers"], runs[0]["reason"]))
            continue
        ratios = [r["ratio"] for r in runs if r["ratio"] is not None]
        same = len(set(points)) == 1 and len(ratios) == len(runs)
        stable &= same
        print("{:<28} {:>8.3f} {:>8.3f} {:>8.3f}  {:<24} {}{}".format(
            item["id"], min(ratios or [float("nan")]), statistics.median(ratios or [float("nan")]),
            max(ratios or [float("nan")]), item["tiers"], " ".join("{:g}".format(x) for x in points),
            "" if same else "   <-- NOT THE SAME EVERY TIME"))
    scores = [rec["score"] for rec in records]
    stable &= len(set(scores)) == 1
    print("\nscores: {}".format(" ".join("{:g}".format(s) for s in scores)))
    try:
        load = os.getloadavg()[0]
        print("load average at the end: {:.1f} on {} cores".format(load, os.cpu_count()))
    except OSError:
        pass
    print("tier_stability: " + ("the same score every time" if stable else "NOT STABLE: widen the tiers"))
    return 0 if stable else 1


if __name__ == "__main__":
    sys.exit(main())
