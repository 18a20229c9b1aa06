#!/usr/bin/env python3
"""sgemm_step_submissions.py — submissions that hand in the previous SGEMM step as the next one.

    python3 tools/gpu/sgemm_step_submissions.py OUT_DIR

For each SGEMM step k = 3.2 ... 3.6 it writes OUT_DIR/step<k>/: every PA2 student file from its
solutions/ twin (flat, as a student would upload them), except the file of Task k, which is the
reference code of Task k-1 with its kernel and launcher renamed to Task k's (the 3.2 code
submitted as 3.3, ...). Next to each it writes OUT_DIR/rubric-<k>.json: the PA2 rubric reduced
to Task k (its tests, hidden ones included, and its performance item; the task's files are all
the student files), so a grading of that submission runs only what the step changes.

What a GPU grading should show: Task k's tests pass (the previous step computes the same
product), and its performance item, which times Task k against the staff Task k-1 (cuBLAS for
3.6), lands in a low tier or none: the tiers tell the steps apart. tools/gpu/check.sh grades them.
"""

import json
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# Task id -> the name in its file, its kernel and its launcher (pa2_kernels/src/cuda/launchers.h).
STEPS = [("3.1", "naive"), ("3.2", "coalesced"), ("3.3", "shared"), ("3.4", "regtile_1d"),
         ("3.5", "regtile_2d"), ("3.6", "vectorized")]


def file_of(name: str) -> str:
    return "pa2_kernels/src/cuda/sgemm_{}.cu".format(name)


def renamed(text: str, old: str, new: str, old_id: str, new_id: str) -> str:
    """Task old_id's reference file made into Task new_id's: its kernel and launcher take the
    new names (so it links in place of Task new_id's file), nothing else changes."""
    text = re.sub(r"\bsgemm_{}_kernel\b".format(old), "sgemm_{}_kernel".format(new), text)
    text = re.sub(r"\blaunch_sgemm_{}\b".format(old), "launch_sgemm_{}".format(new), text)
    header = "// Check submission: the reference code of Task {} handed in as Task {}.\n".format(old_id, new_id)
    return header + text


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    rubric = json.loads((REPO / "autograder" / "rubrics" / "pa2.json").read_text())
    for (prev_id, prev), (cur_id, cur) in zip(STEPS, STEPS[1:]):
        sub = out / "step{}".format(cur_id)
        sub.mkdir(parents=True, exist_ok=True)
        for f in rubric["student_files"]:
            text = (REPO / "solutions" / f).read_text()
            if f == file_of(cur):
                text = renamed((REPO / "solutions" / file_of(prev)).read_text(), prev, cur, prev_id, cur_id)
                # The previous step's own launcher must be gone, or two files would define it.
                assert "launch_sgemm_{}(".format(prev) not in text, f
            (sub / Path(f).name).write_text(text)
        # One task, Task k, whose files are all the student files: the grader builds the
        # submission as it is (the solutions plus the swapped file), so Task k-1's code, which
        # the performance item times Task k against, is the reference one.
        reduced = dict(rubric)
        reduced["tasks"] = [dict(t, files=rubric["student_files"]) for t in rubric["tasks"] if t["id"] == cur_id]
        reduced["performance"] = [p for p in rubric["performance"] if p["task"] == cur_id]
        assert reduced["tasks"] and reduced["performance"], cur_id
        (out / "rubric-{}.json".format(cur_id)).write_text(json.dumps(reduced, indent=2) + "\n")
        print("{}: Task {}'s reference code as Task {} ({} + rubric-{}.json)".format(sub, prev_id, cur_id,
                                                                                  Path(file_of(cur)).name, cur_id))
    return 0


if __name__ == "__main__":
    sys.exit(main())
