#!/usr/bin/env python3
"""make_hostile.py — the hostile PA1 submissions of autograder/tests/hostile/, built from the
current reference solution.

Each folder here is one submission, described by variant.json:

  base           "solution" (every student file, byte for byte from solutions/) or "starter" (none)
  file, snippet  the hostile change: snippet.cpp is inserted right after the first
                 BEGIN SOLUTION marker of solutions/<file> (the start of the student region),
                 with prelude.h on top (helpers such as mlsys_hostile_case("Suite.Case")) and
                 MLSYS_HOSTILE_COURSE_TREE defined as the course tree's path (the grader's --tree)
  copy_solution  more files taken from solutions/ (with base "starter")
  starter        files replaced by the starter version (with base "solution")
  extra_files    {repo path: file in this folder}: files that are not student files
  include_twins  every student file is one line that includes its reference twin, behind a
                 comment a line-based text check misses (the compiler reads it)
  append_to_all  a file in this folder appended to every student file (with base "starter":
                 one trick in every task)
  expect         what the grader must make of it (checked by test_pa1_grading.py)

Folders with a fake.json instead are attacks on the fake course (fixtures/fakepa), graded by
test_hostile_leaks.py; some folders hold both versions of one attack.

The student files themselves are generated, never committed, so they follow the solutions as
they change and no solution text sits outside solutions/ (the leak check stays clean).

  python3 autograder/tests/hostile/make_hostile.py OUT_DIR [NAME ...]   # one folder per variant
"""

import json
import re
import shutil
import sys
from pathlib import Path
from typing import List

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent.parent
MARKER = re.compile(r"^\s*(//|#)\s*(BEGIN|END) SOLUTION\b")


def variants() -> List[str]:
    return sorted(p.name for p in HERE.iterdir() if (p / "variant.json").is_file())


def spec(name: str) -> dict:
    return json.loads((HERE / name / "variant.json").read_text())


def student_files(root: Path = REPO) -> List[str]:
    return json.loads((root / "autograder" / "rubrics" / "pa1.json").read_text())["student_files"]


def hostile_text(solution: str, snippet: str) -> str:
    """The solution with `snippet` right after its first BEGIN SOLUTION marker (the start of the
    first student region) and prelude.h on top."""
    out, inserted = [], False
    for line in solution.splitlines(keepends=True):
        out.append(line)
        if not inserted and MARKER.match(line) and "BEGIN" in line:
            out.append(snippet if snippet.endswith("\n") else snippet + "\n")
            inserted = True
    if not inserted:
        raise ValueError("no BEGIN SOLUTION marker to insert the hostile change after")
    return (HERE / "prelude.h").read_text() + "".join(out)


def build(name: str, out: Path, root: Path = REPO) -> Path:
    """Writes the submission `name` into out/ (repo layout) and returns out."""
    s = spec(name)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    files = {}
    if s.get("base") == "solution":
        for f in student_files(root):
            files[f] = (root / "solutions" / f).read_text()  # byte for byte: the grader reuses the reference build
    for f in s.get("copy_solution", []):
        files[f] = (root / "solutions" / f).read_text()  # byte for byte: the grader reuses the reference build
    for f in s.get("starter", []):
        files[f] = (root / f).read_text()
    if "file" in s:
        text = hostile_text((root / "solutions" / s["file"]).read_text(), (HERE / name / s["snippet"]).read_text())
        # Where the course tree is (what the grader gets as --tree): a student could guess it.
        files[s["file"]] = '#define MLSYS_HOSTILE_COURSE_TREE "{}"\n'.format(root.resolve()) + text
    if s.get("include_twins"):
        for f in student_files(root):
            up = "../" * (len(Path(f).parts) - 1)
            files[f] = '/**/#include "{}solutions/{}"\n'.format(up, f)
    if "append_to_all" in s:
        for f in student_files(root):
            files[f] = files.get(f, (root / f).read_text()) + "\n" + (HERE / name / s["append_to_all"]).read_text()
    for rel, local in s.get("extra_files", {}).items():
        files[rel] = (HERE / name / local).read_text()
    for rel, text in files.items():
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_text(text)
    return out


def main(argv: List[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    out = Path(argv[0])
    for name in argv[1:] or variants():
        build(name, out / name)
        print("wrote {}".format(out / name))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
