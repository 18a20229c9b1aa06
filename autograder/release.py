#!/usr/bin/env python3
"""release.py — the student release and the Gradescope packages, from the staff tree.

    python3 autograder/release.py --grader build/grader-tool/mlsys_grade [--out build/release] [--pa pa1 ...]

(`./mlsys release` builds the grader and runs this.) It writes:

  OUT/student/            the repo students get (GitHub Classroom template or a plain clone):
                          everything but solutions/, autograder/hidden/, the grader's own tests
                          and the staff CI; the committed student files (stubs) in place; each
                          rubric reduced to its visible part (hidden groups become a per-task
                          "hidden_points" figure); .github/workflows/classroom.yml, which runs
                          the local grader on every push.
  OUT/gradescope/paN.zip  one Gradescope autograder per PA: setup.sh and run_autograder at the
                          top, the full course tree (hidden tests and solutions included: these
                          zips are for staff only) under course/.

Checks before anything is written: the rubrics are valid and the student files equal what
tools/stubs.py generates from solutions/ (no drift). After: tools/stubs.py's leak check on the
student repo (no solution text, no staff-only folder). Any failure: exit 1.
Python 3.8+, standard library only.
"""

import argparse
import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import List

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tools"))
import stubs  # noqa: E402

# Never in the student repo (paths relative to the repo root; a folder excludes all below it).
STUDENT_EXCLUDE = [
    "solutions",
    "autograder/hidden",
    "autograder/gradescope",
    "autograder/tests",
    "autograder/release.py",
    ".github/workflows/ci.yml",
    ".github/workflows/slow.yml",
    ".github/workflows/classroom.yml.template",
]
# Never in a Gradescope package's course tree (not needed to grade; keeps the zip small).
GRADESCOPE_EXCLUDE = ["autograder/tests", ".github"]
# Top-level entries that are never part of a release, whatever git says.
NEVER = {".git", ".deps", ".whl", ".release", "out", "gpu-results", ".pytest_cache", ".gl"}


def say(msg: str) -> None:
    print("[release] " + msg, flush=True)


def course_files(root: Path) -> List[str]:
    """The files of the course: git's tracked and untracked-but-not-ignored files when this is a
    git checkout, else every file outside build folders and caches."""
    files: List[str] = []
    try:
        out = subprocess.run(["git", "-C", str(root), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=True).stdout
        files = [f for f in out.decode().split("\0") if f]
    except (OSError, subprocess.CalledProcessError):
        for dirpath, dirnames, filenames in os.walk(str(root)):
            rel_dir = Path(dirpath).relative_to(root)
            dirnames[:] = [d for d in dirnames if d not in ("__pycache__", ".pytest_cache", ".ipynb_checkpoints")
                           and not (rel_dir == Path(".") and (d in NEVER or d == "build" or d.startswith("build-")))]
            files += [(rel_dir / f).as_posix() for f in filenames if not f.endswith((".pyc", ".pyo"))]
    keep = []
    for f in sorted(set(files)):
        top = f.split("/", 1)[0]
        if top in NEVER or top == "build" or top.startswith("build-") or top.startswith("build_"):
            continue
        if "/__pycache__/" in "/" + f or not (root / f).is_file():
            continue
        keep.append(f)
    return keep


def excluded(rel: str, patterns: List[str]) -> bool:
    return any(rel == p or rel.startswith(p + "/") for p in patterns)


def copy(root: Path, rel: str, dst_root: Path) -> None:
    dst = dst_root / rel
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(str(root / rel), str(dst))


def rubrics(root: Path) -> List[Path]:
    return sorted((root / "autograder" / "rubrics").glob("pa*.json"))


# ------------------------------------------------------------------------------------------------
# The student repo
# ------------------------------------------------------------------------------------------------

def student_readme(text: str) -> str:
    """The README without its staff section (solutions, hidden tests, release: not in this repo),
    and with the main job grading the student's own files (--solution needs the staff tree)."""
    text = text.replace(
        "./mlsys grade pa1 --solution   # the main job: build PA1 with the reference solutions, grade them, print the score table",
        "./mlsys grade pa1              # the main job: build PA1 with your files, grade them, print the score table")
    text = text.replace("`./mlsys grade pa1 --solution` prints one row per task", "`./mlsys grade pa1` prints one row per task")
    text = text.replace("and the total, e.g.\n`total 100 / 100`;", "and the total\n(the starter code scores 0);")
    start = text.find("\n## For course staff")
    if start < 0:
        return text
    end = text.find("\n## ", start + 1)
    note = ("\n## For course staff\n\nThis is the student release. The staff tree (reference solutions, "
            "hidden tests, full rubrics, the release and Gradescope packaging) is kept by the course staff.\n")
    return text[:start] + note + (text[end:] if end >= 0 else "")


def student_repo(root: Path, out: Path, grader: Path) -> None:
    if out.exists():
        shutil.rmtree(str(out))
    out.mkdir(parents=True)
    n = 0
    for rel in course_files(root):
        if excluded(rel, STUDENT_EXCLUDE) or (rel.startswith("autograder/rubrics/") and rel.endswith(".json")):
            continue
        copy(root, rel, out)
        n += 1
    for rubric in rubrics(root):
        text = subprocess.run([str(grader), "public-rubric", str(rubric)], stdout=subprocess.PIPE,
                              universal_newlines=True, check=True).stdout
        dst = out / "autograder" / "rubrics" / rubric.name
        dst.parent.mkdir(parents=True, exist_ok=True)
        dst.write_text(text)
    readme = out / "README.md"
    if readme.is_file():
        readme.write_text(student_readme(readme.read_text()))
    template = root / ".github" / "workflows" / "classroom.yml.template"
    (out / ".github" / "workflows").mkdir(parents=True, exist_ok=True)
    shutil.copy2(str(template), str(out / ".github" / "workflows" / "classroom.yml"))
    say("student repo: {} files in {}".format(n + len(rubrics(root)) + 1, out))


# ------------------------------------------------------------------------------------------------
# Gradescope packages
# ------------------------------------------------------------------------------------------------

def add_file(z: zipfile.ZipFile, src: Path, arcname: str, executable: bool = False) -> None:
    info = zipfile.ZipInfo(arcname, date_time=(2020, 1, 1, 0, 0, 0))
    mode = 0o755 if executable or os.access(str(src), os.X_OK) else 0o644
    info.external_attr = (stat.S_IFREG | mode) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    z.writestr(info, src.read_bytes())


def gradescope_zip(root: Path, pa: str, out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    path = out / (pa + ".zip")
    templates = root / "autograder" / "gradescope"
    with zipfile.ZipFile(str(path), "w") as z:
        for name in ("setup.sh", "run_autograder"):
            text = (templates / name).read_text().replace("@PA@", pa)
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.external_attr = (stat.S_IFREG | 0o755) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, text)
        add_file(z, templates / "README.md", "README.md")
        for rel in course_files(root):
            if not excluded(rel, GRADESCOPE_EXCLUDE):
                add_file(z, root / rel, "course/" + rel)
    say("gradescope: {} ({:.1f} MB)".format(path, path.stat().st_size / 1e6))
    return path


# ------------------------------------------------------------------------------------------------
# Checks
# ------------------------------------------------------------------------------------------------

def check_sources(root: Path, grader: Path) -> List[str]:
    problems = []
    for rubric in rubrics(root):
        r = subprocess.run([str(grader), "check", str(rubric)], stdout=subprocess.PIPE, universal_newlines=True)
        if r.returncode != 0:
            problems.append(r.stdout.strip())
    if stubs.generate(root, check=True) != 0:
        problems.append("student files differ from what tools/stubs.py generate writes (see above)")
    return problems


def leak_check(student: Path, root: Path) -> List[str]:
    forbidden, leaks = stubs.leak_check(student, root)
    problems = ["staff-only folder in the student repo: " + d for d in forbidden]
    problems += ["{}:{}: leaks {} ({}): {}".format(l.file, l.line, l.source, l.task, l.text[:80]) for l in leaks]
    return problems


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Write the student release and the Gradescope zips.")
    ap.add_argument("--grader", required=True, type=Path, help="the mlsys_grade executable")
    ap.add_argument("--out", type=Path, default=REPO / "build" / "release")
    ap.add_argument("--pa", action="append", help="only these PAs' Gradescope zips (default: every rubric)")
    ap.add_argument("--root", type=Path, default=REPO, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    root = args.root.resolve()
    if not (root / "solutions").is_dir():
        say("error: {} is not the staff tree (no solutions/)".format(root))
        return 1
    problems = check_sources(root, args.grader)
    if problems:
        for p in problems:
            say("error: " + p)
        return 1
    out = args.out.resolve()
    student_repo(root, out / "student", args.grader)
    pas = args.pa or [r.stem for r in rubrics(root)]
    for pa in pas:
        if not (root / "autograder" / "rubrics" / (pa + ".json")).is_file():
            say("error: no rubric for " + pa)
            return 1
        gradescope_zip(root, pa, out / "gradescope")
    problems = leak_check(out / "student", root)
    for p in problems:
        say("LEAK: " + p)
    if problems:
        say("the student repo leaks staff material: do not publish it")
        return 1
    say("leak check: OK ({} guarded solution lines)".format(len(stubs.secret_lines(root))))
    say("done: {}".format(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
