#!/usr/bin/env python3
"""release.py — the student release and the Gradescope packages, from the staff tree.

    python3 autograder/release.py --grader build/grader-tool/mlsys_grade [--out build/release]
                                  [--repo-url URL] [--pa pa1 ...]

(`./mlsys release` builds the grader and runs this.) The student repository's clone URL is one
setting: `repo_url` in course.json (or --repo-url). The release writes it wherever the sources
carry the placeholder https://github.com/YOUR-ORG/mlsys-student (the notebooks' clone cell, the
README's Colab links) and refuses to run while it is still the placeholder. It writes:

  OUT/student/            the repo students get (GitHub Classroom template or a plain clone):
                          everything but solutions/, autograder/hidden/, the grader's own tests
                          and the staff CI; the committed student files (stubs) in place; each
                          rubric reduced to its visible part (hidden groups become a per-task
                          "hidden_points" figure); every Markdown file without its staff-only
                          parts (between <!-- staff-only --> and <!-- /staff-only --> lines);
                          .github/workflows/classroom.yml, which runs the local grader on
                          every push.
  OUT/gradescope/paN.zip  one Gradescope autograder per PA: setup.sh and run_autograder at the
                          top, the full course tree (hidden tests and solutions included: these
                          zips are for staff only) under course/.

Checks before anything is written: the rubrics are valid and the student files equal what
tools/stubs.py generates from solutions/ (no drift), the staff-only markers are balanced, the
repository URL is set. After: tools/stubs.py's leak check on the student repo (no solution text,
no staff-only folder), no placeholder URL left, and, for every rubric (every PA, whatever tasks it
has today), its student files are the stubs, its handout is there and no hidden test target is
named by a CMake file. Any failure: exit 1.
Python 3.8+, standard library only.
"""

import argparse
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import List, Optional, Tuple

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tools"))
import stubs  # noqa: E402

# Never in the student repo (paths relative to the repo root; a folder excludes all below it).
STUDENT_EXCLUDE = [
    "solutions",
    "docs/STAFF_LOG.md",
    "autograder/hidden",
    "autograder/gradescope",
    "autograder/tests",
    "autograder/release.py",
    "tools/tests",
    ".github/workflows/ci.yml",
    ".github/workflows/slow.yml",
    ".github/workflows/classroom.yml.template",
    ".github/workflows/classroom-gpu.yml.template",
    "course.json",
]
# Never in a Gradescope package's course tree (not needed to grade; keeps the zip small).
GRADESCOPE_EXCLUDE = ["autograder/tests", ".github"]
# Top-level entries that are never part of a release, whatever git says.
NEVER = {".git", ".deps", ".whl", ".release", "out", "gpu-results", ".pytest_cache", ".gl"}

# The course settings (repo_url, branch) and the placeholder the sources carry until release.
COURSE_CONFIG = "course.json"
PLACEHOLDER_URL = "https://github.com/YOUR-ORG/mlsys-student"
PLACEHOLDER_SLUG = "YOUR-ORG/mlsys-student"
# Staff-only parts of a Markdown file: whole lines from the opening to the closing marker.
STAFF_ONLY_OPEN = "<!-- staff-only -->"
STAFF_ONLY_CLOSE = "<!-- /staff-only -->"


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
# Course settings: the student repository's URL
# ------------------------------------------------------------------------------------------------

def repo_url_problem(url: str) -> Optional[str]:
    """Why ``url`` cannot be the student repository's clone URL, or None."""
    if not url or "YOUR-ORG" in url or PLACEHOLDER_SLUG in url:
        return "it is still the placeholder ({})".format(url or "empty")
    if not re.match(r"^https://[^/\s]+/[^/\s]+/[^/\s]+?(\.git)?/?$", url):
        return "expected https://HOST/OWNER/REPO(.git), got {!r}".format(url)
    return None


def course_repo_url(root: Path, override: Optional[str]) -> Tuple[Optional[str], str]:
    """(the URL, '') or (None, why not): --repo-url, else repo_url in course.json."""
    url = override
    source = "--repo-url"
    if url is None:
        source = COURSE_CONFIG + "'s repo_url"
        try:
            url = json.loads((root / COURSE_CONFIG).read_text()).get("repo_url", "")
        except (OSError, ValueError) as e:
            return None, "cannot read {}: {}".format(root / COURSE_CONFIG, e)
    problem = repo_url_problem(url)
    if problem:
        return None, ("{} cannot be used: {}. Set repo_url in {} to the student repository's clone URL "
                      "(the GitHub Classroom template repository, e.g. https://github.com/my-course/"
                      "mlsys-student.git), or pass --repo-url URL.".format(source, problem, COURSE_CONFIG))
    return url, ""


def fill_repo_url(text: str, url: str) -> str:
    """The placeholder URL (clone URL, web links) and the OWNER/REPO slug (Colab links) -> ``url``'s."""
    base = re.sub(r"(\.git)?/?$", "", url)
    slug = "/".join(base.split("/")[-2:])
    return text.replace(PLACEHOLDER_URL, base).replace(PLACEHOLDER_SLUG, slug)


# ------------------------------------------------------------------------------------------------
# The student repo
# ------------------------------------------------------------------------------------------------

def strip_staff_only(text: str, name: str = "") -> str:
    """``text`` without its staff-only parts: every line from a line holding only
    <!-- staff-only --> through the line holding only <!-- /staff-only -->. Raises ValueError
    when the markers are not balanced (nested, unclosed, or a stray closing one)."""
    out: List[str] = []
    inside = 0
    for number, line in enumerate(text.splitlines(True), start=1):
        marker = line.strip()
        if marker == STAFF_ONLY_OPEN:
            if inside:
                raise ValueError("{}:{}: {} inside a staff-only part (line {})".format(name, number, STAFF_ONLY_OPEN, inside))
            inside = number
        elif marker == STAFF_ONLY_CLOSE:
            if not inside:
                raise ValueError("{}:{}: {} without an opening {}".format(name, number, STAFF_ONLY_CLOSE, STAFF_ONLY_OPEN))
            inside = 0
        elif not inside:
            out.append(line)
    if inside:
        raise ValueError("{}:{}: {} is never closed".format(name, inside, STAFF_ONLY_OPEN))
    # Two blank lines where a part was cut out become one.
    return re.sub(r"\n{3,}", "\n\n", "".join(out))


def staff_only_problems(root: Path) -> List[str]:
    problems = []
    for rel in course_files(root):
        if rel.endswith(".md") and not excluded(rel, STUDENT_EXCLUDE):
            try:
                strip_staff_only((root / rel).read_text(), rel)
            except ValueError as e:
                problems.append(str(e))
    return problems


def student_text(rel: str, text: str, url: str) -> str:
    """A text file as the student repo gets it: staff-only parts of Markdown removed, the
    repository URL filled in."""
    if rel.endswith(".md"):
        text = strip_staff_only(text, rel)
    return fill_repo_url(text, url)


def student_repo(root: Path, out: Path, grader: Path, url: str) -> None:
    if out.exists():
        shutil.rmtree(str(out))
    out.mkdir(parents=True)
    n = 0
    for rel in course_files(root):
        if excluded(rel, STUDENT_EXCLUDE) or (rel.startswith("autograder/rubrics/") and rel.endswith(".json")):
            continue
        copy(root, rel, out)
        try:
            text = (root / rel).read_text(encoding="utf-8")
        except (UnicodeDecodeError, ValueError):
            text = None  # binary: copied as is
        if text is not None:
            new = student_text(rel, text, url)
            if new != text:
                (out / rel).write_text(new, encoding="utf-8")
        n += 1
    for rubric in rubrics(root):
        text = subprocess.run([str(grader), "public-rubric", str(rubric)], stdout=subprocess.PIPE,
                              universal_newlines=True, check=True).stdout
        dst = out / "autograder" / "rubrics" / rubric.name
        dst.parent.mkdir(parents=True, exist_ok=True)
        dst.write_text(text)
    # The Classroom workflows: the templates without their staff-only lines (# staff: ...).
    workflows = ["classroom.yml", "classroom-gpu.yml"]
    (out / ".github" / "workflows").mkdir(parents=True, exist_ok=True)
    for name in workflows:
        lines = (root / ".github" / "workflows" / (name + ".template")).read_text().splitlines(True)
        (out / ".github" / "workflows" / name).write_text(
            "".join(l for l in lines if not l.lstrip().startswith("# staff:")))
    say("student repo: {} files in {}".format(n + len(rubrics(root)) + len(workflows), out))


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
    for path in sorted(student.rglob("*")):
        if path.is_file():
            try:
                text = path.read_text(encoding="utf-8")
            except (UnicodeDecodeError, ValueError):
                continue
            rel = path.relative_to(student).as_posix()
            if "YOUR-ORG" in text:
                problems.append("{}: still holds the placeholder URL (YOUR-ORG)".format(rel))
            if rel.endswith(".md") and any(l.strip() in (STAFF_ONLY_OPEN, STAFF_ONLY_CLOSE) for l in text.splitlines()):
                problems.append("{}: still holds a staff-only marker line".format(rel))
    return problems


def rubric_problems(student: Path, root: Path) -> List[str]:
    """Checks of the student repo driven by the rubrics, so that a PA or a task added later is
    covered without a list of its files here. For every rubric: each student file is in the
    repo and is the committed stub; the PA's handout (handouts/<pa>.md) is there; the public
    rubric has no hidden group; no CMake file of the repo names a hidden test target."""
    problems = []
    cmake_text = "\n".join(p.read_text(errors="replace") for p in sorted(student.rglob("*"))
                           if p.is_file() and (p.name == "CMakeLists.txt" or p.suffix == ".cmake"))
    for rubric in rubrics(root):
        full = json.loads(rubric.read_text())
        pa = full.get("pa", rubric.stem)
        for f in full["student_files"]:
            if not (student / f).is_file():
                problems.append("{}: student file {} is missing from the student repo".format(pa, f))
            elif (student / f).read_bytes() != (root / f).read_bytes():
                problems.append("{}: {} in the student repo is not the committed student file".format(pa, f))
        if not (student / "handouts" / (pa + ".md")).is_file():
            problems.append("{}: its handout handouts/{}.md is missing from the student repo".format(pa, pa))
        public = json.loads((student / "autograder" / "rubrics" / rubric.name).read_text())
        if any(g.get("visibility") != "visible" for t in public["tasks"] for g in t["tests"]):
            problems.append("{}: the student repo's rubric still has hidden test groups".format(pa))
        for task in full["tasks"]:
            for g in task["tests"]:
                if g["visibility"] == "hidden" and re.search(r"\b{}\b".format(re.escape(g["target"])), cmake_text):
                    problems.append("{}: a CMake file of the student repo names the hidden test target {}".format(pa, g["target"]))
    return problems


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Write the student release and the Gradescope zips.")
    ap.add_argument("--grader", required=True, type=Path, help="the mlsys_grade executable")
    ap.add_argument("--out", type=Path, default=REPO / "build" / "release")
    ap.add_argument("--pa", action="append", help="only these PAs' Gradescope zips (default: every rubric)")
    ap.add_argument("--repo-url", help="the student repository's clone URL (default: repo_url in course.json)")
    ap.add_argument("--root", type=Path, default=REPO, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    root = args.root.resolve()
    if not (root / "solutions").is_dir():
        say("error: {} is not the staff tree (no solutions/)".format(root))
        return 1
    url, why = course_repo_url(root, args.repo_url)
    if url is None:
        say("error: the student repository's URL is not set: " + why)
        return 1
    say("student repository: " + url)
    problems = check_sources(root, args.grader) + staff_only_problems(root)
    if problems:
        for p in problems:
            say("error: " + p)
        return 1
    out = args.out.resolve()
    student_repo(root, out / "student", args.grader, url)
    pas = args.pa or [r.stem for r in rubrics(root)]
    for pa in pas:
        if not (root / "autograder" / "rubrics" / (pa + ".json")).is_file():
            say("error: no rubric for " + pa)
            return 1
        gradescope_zip(root, pa, out / "gradescope")
    problems = leak_check(out / "student", root) + rubric_problems(out / "student", root)
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
