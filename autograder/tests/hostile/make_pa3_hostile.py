#!/usr/bin/env python3
"""make_pa3_hostile.py — the hostile PA3 submissions of autograder/tests/hostile/pa3_*/, built
from the current reference solution of one PA3 student file (pa3.json "file"; default
pa3_parallelism/src/collectives.cpp).

Each pa3_<name>/ folder holds pa3.json (what the attack does and what the grader must make of
it, checked by test_pa3_policy.py) and regions.cpp: the student regions it replaces, as

  //@@ prelude            text inserted after the file's last #include line
  //@@ PA3 Task 1.1       the new body of the region "BEGIN SOLUTION PA3 Task 1.1" .. "END SOLUTION"
  //@@ PA3 Task 6.2 #2    the same for the second region of that name

Regions not named keep the solution's code. The student files themselves are generated, never
committed, so no solution text sits outside solutions/.

  python3 autograder/tests/hostile/make_pa3_hostile.py OUT_DIR [NAME ...]   # one folder per attack
"""

import json
import re
import sys
from pathlib import Path
from typing import Dict, List

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent.parent
FILE = "pa3_parallelism/src/collectives.cpp"


def attacks() -> List[str]:
    return sorted(p.name for p in HERE.iterdir() if (p / "pa3.json").is_file())


def spec(name: str) -> dict:
    return json.loads((HERE / name / "pa3.json").read_text())


def student_file(name: str) -> str:
    return spec(name).get("file", FILE)


def regions(name: str) -> Dict[str, str]:
    out, key = {}, None
    for line in (HERE / name / "regions.cpp").read_text().splitlines(keepends=True):
        m = re.match(r"^//@@ (.+?)\s*$", line)
        if m:
            key = m.group(1)
            out[key] = ""
        elif key is not None:
            out[key] += line
    return out


def hostile_text(solution: str, parts: Dict[str, str]) -> str:
    lines = solution.splitlines(keepends=True)
    last_include = max(i for i, l in enumerate(lines) if l.startswith("#include"))
    out, skipping, used, seen = [], False, set(), {}
    for i, line in enumerate(lines):
        m = re.match(r"^\s*// BEGIN SOLUTION (PA3 Task \S+)", line)
        key = None
        if m and not skipping:
            seen[m.group(1)] = seen.get(m.group(1), 0) + 1
            key = m.group(1) if seen[m.group(1)] == 1 else "{} #{}".format(m.group(1), seen[m.group(1)])
        if skipping:
            if re.match(r"^\s*// END SOLUTION", line):
                out.append(line)
                skipping = False
            continue
        out.append(line)
        if key in parts:
            out.append(parts[key])
            used.add(key)
            skipping = True
        if i == last_include and "prelude" in parts:
            out.append("\n" + parts["prelude"])
    missing = set(parts) - used - {"prelude"}
    if missing:
        raise ValueError("no solution region named {}".format(sorted(missing)))
    return "".join(out)


def build(name: str, out: Path, root: Path = REPO) -> Path:
    """Writes the submission `name` into out/ (flat layout: the one file) and returns out."""
    out.mkdir(parents=True, exist_ok=True)
    for p in out.iterdir():
        p.unlink()
    f = student_file(name)
    text = hostile_text((root / "solutions" / f).read_text(), regions(name))
    (out / Path(f).name).write_text(text)
    return out


if __name__ == "__main__":
    dst = Path(sys.argv[1])
    for n in sys.argv[2:] or attacks():
        build(n, dst / n)
        print(dst / n)
