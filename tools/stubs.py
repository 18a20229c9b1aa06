#!/usr/bin/env python3
"""stubs.py — the stub/solution mechanism of the mlsys course repo.

The source of truth for every student file is its twin under ``solutions/`` at the same
relative path (``solutions/pa1_autodiff/src/ops.cpp`` is the twin of
``pa1_autodiff/src/ops.cpp``). In the twin, each student region is fenced by markers on their
own lines, carrying the task id and, optionally, a kind::

    // BEGIN SOLUTION PA1 Task 2.3            (C++/CUDA: .h .hpp .cpp .cc .cu .cuh)
    ...reference code...
    // END SOLUTION

    // BEGIN SOLUTION PA2 Task 3.1 device     (a CUDA kernel body: its stub is empty)
    # BEGIN SOLUTION PA1 Task 4               (Python: .py)

``generate`` writes each student file: the twin with every region (markers included) replaced
by a stub that fails loudly, at the BEGIN marker's indentation::

    // TODO(student): PA1 Task 2.3 — see handouts/pa1.md#task-23
    throw mlsys::NotImplemented("PA1 Task 2.3", "pa1_autodiff/src/ops.cpp", "handouts/pa1.md#task-23");

Commands (run from anywhere; the repo root is the parent of tools/ unless --root is given):

    generate [--check]   write the student files (--check: write nothing, exit 1 on drift)
    check-markers        exit 1 on malformed markers, with file:line
    leak-check DIR       exit 1 if solution text, solutions/ or autograder/hidden/ is in DIR
    list [--json]        every region: file, lines, task id, kind

The functions below (find_regions, generate_text, plan, generate, check_markers, leak_check,
...) are the API the grader and the release tool reuse. Python 3.8+, standard library only.
"""

import argparse
import difflib
import json
import os
import re
import sys
from pathlib import Path
from typing import Dict, Iterator, List, NamedTuple, Optional, Tuple

# ----------------------------------------------------------------------------------------------
# Conventions: file kinds, markers, task ids
# ----------------------------------------------------------------------------------------------

REPO_ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS_DIR = "solutions"
HIDDEN_DIR = "autograder/hidden"

CPP_SUFFIXES = {".h", ".hpp", ".cpp", ".cc", ".cu", ".cuh"}
CUDA_SUFFIXES = {".cu", ".cuh"}
PY_SUFFIXES = {".py"}
KINDS = {"device"}  # region kinds allowed after the task id

# Lines shorter than this (whitespace stripped) are too common to count as a leak.
MIN_LEAK_CHARS = 25
# Loop and branch headers with no statement of their own (`for (int64_t r = 0; r < rows; ++r) {`,
# `for i in range(n):`) are structure, not solution: they never count as a leak.
STRUCTURAL_RE = re.compile(r"^(\}\s*)?(for|while|if|else if|elif|else|switch)\b.*([{)]|:)$")

# Directories never walked: VCS data, caches, build trees (build/, build-asan/, ...).
SKIP_DIR_NAMES = {".git", "__pycache__", ".ipynb_checkpoints", ".pytest_cache"}

# Any line mentioning a marker is a marker candidate; it must then match MARKER_RE exactly.
# The loose pattern also catches near-misses such as "BEGIN_SOLUTION" or "begin solution".
MARKER_HINT_RE = re.compile(r"\b(BEGIN|END)[ _-]?SOLUTION\b", re.IGNORECASE)
MARKER_RE = re.compile(r"^(?P<indent>[ \t]*)(?P<leader>//|#)[ \t]*(?P<which>BEGIN|END) SOLUTION"
                       r"(?P<rest>.*?)[ \t]*$")
TASK_RE = re.compile(r"^PA(?P<pa>[1-9][0-9]*) Task (?P<major>[0-9]+)(?:\.(?P<minor>[0-9]+))?$")
PA_DIR_RE = re.compile(r"^pa([0-9]+)_")


class MarkerError(Exception):
    """A malformed marker. ``problems`` lists every one found, each as 'file:line: message'."""

    def __init__(self, problems: List[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


class TaskId(NamedTuple):
    pa: int
    major: int
    minor: Optional[int]

    def __str__(self) -> str:  # "PA1 Task 2.3"
        minor = "" if self.minor is None else ".{}".format(self.minor)
        return "PA{} Task {}{}".format(self.pa, self.major, minor)

    @property
    def label(self) -> str:  # the CTest label: "task2.3"
        return "task{}{}".format(self.major, "" if self.minor is None else ".{}".format(self.minor))

    @property
    def handout(self) -> str:  # "handouts/pa1.md#task-23"
        minor = "" if self.minor is None else str(self.minor)
        return "handouts/pa{}.md#task-{}{}".format(self.pa, self.major, minor)


def parse_task_id(text: str) -> Optional[TaskId]:
    """'PA1 Task 2.3' -> TaskId(1, 2, 3); None when malformed."""
    m = TASK_RE.match(text.strip())
    if not m:
        return None
    minor = m.group("minor")
    return TaskId(int(m.group("pa")), int(m.group("major")), None if minor is None else int(minor))


class Region(NamedTuple):
    """One student region of a solution file. Lines are 1-based and include the markers."""
    path: str            # the file as given to find_regions / parse_regions
    task: TaskId
    kind: Optional[str]  # None (host code) or "device"
    begin: int           # line of the BEGIN marker
    end: int             # line of the END marker
    indent: str          # whitespace before the BEGIN marker
    body: List[str]      # the lines between the markers, newlines stripped


def file_syntax(path: str) -> Optional[str]:
    """'cpp', 'py', or None for files that cannot hold regions."""
    suffix = Path(path).suffix
    if suffix in CPP_SUFFIXES:
        return "cpp"
    if suffix in PY_SUFFIXES:
        return "py"
    return None


# ----------------------------------------------------------------------------------------------
# Parsing regions
# ----------------------------------------------------------------------------------------------

def _split_lines(text: str) -> List[str]:
    """Lines with their endings kept, so that generate copies text byte for byte."""
    return text.splitlines(keepends=True)


def _strip_eol(line: str) -> str:
    return line.rstrip("\r\n")


def parse_regions(text: str, name: str) -> Tuple[List[Region], List[str]]:
    """Every region of ``text`` and every marker problem, as 'name:line: message'.

    ``name`` is used in messages and decides the comment syntax by its suffix.
    """
    syntax = file_syntax(name)
    leader = {"cpp": "//", "py": "#"}.get(syntax or "")
    regions: List[Region] = []
    problems: List[str] = []
    open_: Optional[Tuple[int, str, Optional[TaskId], Optional[str]]] = None  # line, indent, task, kind
    body: List[str] = []

    def problem(lineno: int, msg: str) -> None:
        problems.append("{}:{}: {}".format(name, lineno, msg))

    for lineno, raw in enumerate(_split_lines(text), start=1):
        line = _strip_eol(raw)
        if not MARKER_HINT_RE.search(line):
            if open_ is not None:
                body.append(line)
            continue
        m = MARKER_RE.match(line)
        if not m:
            problem(lineno, "malformed marker {!r}: a marker is a whole line, '// BEGIN SOLUTION "
                            "PA<n> Task <major>[.<minor>] [device]' or '// END SOLUTION' "
                            "('#' in Python)".format(line.strip()))
            if open_ is not None:
                body.append(line)
            continue
        if leader is None:
            problem(lineno, "marker in a file type that cannot hold regions (only {} and .py)"
                    .format(" ".join(sorted(CPP_SUFFIXES))))
            continue
        if m.group("leader") != leader:
            problem(lineno, "marker must start with '{}' in this file type".format(leader))
        rest = m.group("rest").strip()
        if m.group("which") == "BEGIN":
            if open_ is not None:
                problem(lineno, "nested BEGIN SOLUTION (the region opened at line {} has no "
                                "END SOLUTION before this line)".format(open_[0]))
                continue
            words = rest.split()
            kind = None
            if words and words[-1] in KINDS:
                kind = words.pop()
            task = parse_task_id(" ".join(words))
            if task is None:
                problem(lineno, "bad task id {!r}: expected 'PA<n> Task <major>[.<minor>]' "
                                "optionally followed by one of: {}".format(rest, ", ".join(sorted(KINDS))))
            elif kind == "device" and Path(name).suffix not in CUDA_SUFFIXES:
                problem(lineno, "'device' regions (CUDA kernel bodies) belong in .cu/.cuh files")
            else:
                pa_dir = PA_DIR_RE.match(_relative_to_solutions(name))
                if pa_dir and int(pa_dir.group(1)) != task.pa:
                    problem(lineno, "task {} in a file of pa{}".format(task, pa_dir.group(1)))
            open_ = (lineno, m.group("indent"), task, kind)
            body = []
        else:
            if open_ is None:
                problem(lineno, "END SOLUTION without a BEGIN SOLUTION")
                continue
            begin, indent, task, kind = open_
            if rest and (task is None or parse_task_id(rest) != task):
                problem(lineno, "END SOLUTION may only repeat its region's task id, got {!r}".format(rest))
            if task is not None:
                regions.append(Region(name, task, kind, begin, lineno, indent, body))
            open_ = None
    if open_ is not None:
        problem(open_[0], "BEGIN SOLUTION without an END SOLUTION")
    return regions, problems


def _relative_to_solutions(name: str) -> str:
    """'x/solutions/pa1_autodiff/src/a.cpp' -> 'pa1_autodiff/src/a.cpp' (for the PA-dir check)."""
    parts = Path(name).parts
    if SOLUTIONS_DIR in parts:
        parts = parts[len(parts) - parts[::-1].index(SOLUTIONS_DIR):]
    return "/".join(parts)


def find_regions(path) -> List[Region]:
    """The regions of one solution file; raises MarkerError on any malformed marker."""
    regions, problems = parse_regions(_read_text(Path(path)), str(path))
    if problems:
        raise MarkerError(problems)
    return regions


# ----------------------------------------------------------------------------------------------
# Generating student files
# ----------------------------------------------------------------------------------------------

def stub_lines(region: Region, relpath: str) -> List[str]:
    """The stub that replaces ``region`` in the student file ``relpath`` (no line endings)."""
    task, ind = region.task, region.indent
    if file_syntax(relpath) == "py":
        return ['{}raise NotImplementedError("{} is not implemented yet ({}; see {})")'
                .format(ind, task, relpath, task.handout)]
    todo = "{}// TODO(student): {} \u2014 see {}".format(ind, task, task.handout)
    if region.kind == "device":
        return [todo]
    return [todo, '{}throw mlsys::NotImplemented("{}", "{}", "{}");'
            .format(ind, task, relpath, task.handout)]


def generate_text(text: str, relpath: str) -> str:
    """The student file for solution text ``text``; ``relpath`` is the student file's path
    relative to the repo root (it picks the syntax and is named in the stub)."""
    regions, problems = parse_regions(text, relpath)
    if problems:
        raise MarkerError(problems)
    lines = _split_lines(text)
    out: List[str] = []
    pos = 0  # 0-based index of the next line to copy
    for region in regions:
        out.extend(lines[pos:region.begin - 1])
        begin_line = lines[region.begin - 1]
        eol = begin_line[len(_strip_eol(begin_line)):] or "\n"
        out.extend(s + eol for s in stub_lines(region, relpath))
        pos = region.end
    out.extend(lines[pos:])
    result = "".join(out)
    # A region that ends the file without a newline: keep the file's own ending.
    if regions and lines and not lines[-1].endswith("\n") and regions[-1].end == len(lines):
        result = result.rstrip("\r\n")
    return result


def _read_text(path: Path) -> str:
    with open(str(path), "r", encoding="utf-8", newline="") as f:
        return f.read()


def _write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(str(path), "w", encoding="utf-8", newline="") as f:
        f.write(text)


def _walk_files(top: Path) -> Iterator[Path]:
    """Every regular file under ``top``, sorted, skipping SKIP_DIR_NAMES."""
    for dirpath, dirnames, filenames in os.walk(str(top)):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIR_NAMES)
        for fn in sorted(filenames):
            if fn.endswith((".pyc", ".pyo")):
                continue
            p = Path(dirpath) / fn
            if p.is_file():
                yield p


def solution_files(root: Path = REPO_ROOT) -> List[str]:
    """Paths of every solution file relative to solutions/ (= its student twin's repo path)."""
    sol = Path(root) / SOLUTIONS_DIR
    if not sol.is_dir():
        return []
    return [p.relative_to(sol).as_posix() for p in _walk_files(sol)]


class Planned(NamedTuple):
    relpath: str            # the student file, relative to the repo root
    text: Optional[str]     # what generate writes (None when the solution file is unusable)
    regions: List[Region]
    problems: List[str]     # errors (no twin directory, markers, encoding)


def plan(root: Path = REPO_ROOT) -> List[Planned]:
    """What generate would write for every solution file, with the problems found."""
    root = Path(root)
    result = []
    for rel in solution_files(root):
        sol_path = root / SOLUTIONS_DIR / rel
        shown = "{}/{}".format(SOLUTIONS_DIR, rel)
        problems: List[str] = []
        if not (root / rel).parent.is_dir():
            problems.append("{}: its twin {} would be in a directory that does not exist "
                            "(every file under solutions/ mirrors a path of the repo)".format(shown, rel))
        try:
            text = _read_text(sol_path)
        except UnicodeDecodeError:
            result.append(Planned(rel, None, [], problems + ["{}: not UTF-8 text".format(shown)]))
            continue
        regions, marker_problems = parse_regions(text, shown)
        problems += marker_problems
        out = None
        if not marker_problems:
            out = generate_text(text, rel)
        result.append(Planned(rel, out, regions, problems))
    return result


def generate(root: Path = REPO_ROOT, check: bool = False, out=None) -> int:
    """Write (or, with check, compare) every student file. Returns the exit code."""
    root = Path(root)
    out = out or sys.stdout
    planned = plan(root)
    errors = [p for item in planned for p in item.problems]
    if errors:
        for e in errors:
            print("error: " + e, file=out)
        print("generate: fix the errors above (python3 tools/stubs.py check-markers)", file=out)
        return 1
    drifted = 0
    for item in planned:
        if not item.regions:
            print("warning: {}/{} has no BEGIN SOLUTION region; its student file is a plain copy"
                  .format(SOLUTIONS_DIR, item.relpath), file=out)
        target = root / item.relpath
        current = _read_text(target) if target.is_file() else None
        if current == item.text:
            continue
        if check:
            drifted += 1
            if current is None:
                print("drift: {} is missing (solution twin: {}/{})"
                      .format(item.relpath, SOLUTIONS_DIR, item.relpath), file=out)
            else:
                print("drift: {} differs from what generate writes".format(item.relpath), file=out)
                diff = list(difflib.unified_diff(
                    current.splitlines(), item.text.splitlines(),
                    "{} (committed)".format(item.relpath), "{} (generated)".format(item.relpath),
                    lineterm=""))
                for line in diff[:20]:
                    print("    " + line, file=out)
                if len(diff) > 20:
                    print("    ... ({} more diff lines)".format(len(diff) - 20), file=out)
        else:
            _write_text(target, item.text)
            if current is None:  # a new student file gets its solution's mode (e.g. +x)
                os.chmod(str(target), (root / SOLUTIONS_DIR / item.relpath).stat().st_mode & 0o777)
            print("wrote {}".format(item.relpath), file=out)
    if check:
        if drifted:
            print("generate --check: {} student file(s) out of date. Fix: run "
                  "python3 tools/stubs.py generate (edit solutions/, never the student file)"
                  .format(drifted), file=out)
            return 1
        print("generate --check: {} student file(s) up to date".format(len(planned)), file=out)
    return 0


# ----------------------------------------------------------------------------------------------
# Checking markers
# ----------------------------------------------------------------------------------------------

def check_markers(root: Path = REPO_ROOT) -> List[str]:
    """Every marker problem of the repo, as 'file:line: message'.

    Solution files must have well-formed regions. No student file (the twin of a solution file)
    and no source file of the student-facing folders (common/, pa*_*/) may carry a marker at
    all; tools/, docs/ and autograder/ may, since they describe or test the markers.
    """
    root = Path(root)
    problems: List[str] = []
    planned = plan(root)
    for item in planned:
        problems += item.problems
    scanned = {root / item.relpath for item in planned if (root / item.relpath).is_file()}
    for top in [root / "common"] + sorted(root.glob("pa[0-9]*_*")):
        if top.is_dir():
            scanned.update(p for p in _walk_files(top) if file_syntax(p.name))
    for p in sorted(scanned):
        try:
            text = _read_text(p)
        except (UnicodeDecodeError, OSError):
            continue
        for lineno, line in enumerate(text.splitlines(), start=1):
            if MARKER_HINT_RE.search(line):
                problems.append("{}:{}: solution marker in a student file (markers belong only in "
                                "the solutions/ twin)".format(p.relative_to(root).as_posix(), lineno))
    return problems


# ----------------------------------------------------------------------------------------------
# Leak check
# ----------------------------------------------------------------------------------------------

class Leak(NamedTuple):
    file: str           # the leaking file, relative to the scanned tree
    line: int
    source: str         # solutions/<rel>:<line> of the solution line
    task: str
    text: str


class Secret(NamedTuple):
    source: str         # solutions/<rel>:<line>
    task: str           # "PA1 Task 2.3"
    region: str         # solutions/<rel>:<begin>, the region it belongs to


def secret_lines(root: Path = REPO_ROOT) -> Dict[str, Secret]:
    """Stripped solution line -> Secret, for every line worth guarding. A line is guarded when it
    is inside a region, at least MIN_LEAK_CHARS long, not a bare loop or branch header
    (STRUCTURAL_RE), found neither outside the regions of its solution file nor in the generated
    student file, and occurs only once in all of solutions/ (a line repeated across solutions is
    an idiom, such as `return cudaGetLastError();`)."""
    root = Path(root)
    counts: Dict[str, int] = {}
    candidates: List[Tuple[str, Secret]] = []
    for item in plan(root):
        if item.text is None:
            continue
        lines = [l.strip() for l in _read_text(root / SOLUTIONS_DIR / item.relpath).splitlines()]
        for l in lines:
            counts[l] = counts.get(l, 0) + 1
        inside = set()
        for r in item.regions:
            inside.update(range(r.begin - 1, r.end))
        public = {l for i, l in enumerate(lines) if i not in inside}
        public |= {l.strip() for l in item.text.splitlines()}
        for r in item.regions:
            region = "{}/{}:{}".format(SOLUTIONS_DIR, item.relpath, r.begin)
            for i in range(r.begin, r.end - 1):  # body lines only (0-based index of line i+1)
                if (len(lines[i]) >= MIN_LEAK_CHARS and lines[i] not in public
                        and not STRUCTURAL_RE.match(lines[i])):
                    source = "{}/{}:{}".format(SOLUTIONS_DIR, item.relpath, i + 1)
                    candidates.append((lines[i], Secret(source, str(r.task), region)))
    return {line: secret for line, secret in candidates if counts[line] == 1}


def _is_build_dir(name: str) -> bool:
    return name == "build" or name.startswith("build-") or name.startswith("build_")


def _scan_dirs(tree: Path, staff_tree: bool) -> Tuple[List[str], List[Path]]:
    """(staff-only directories found, files to scan) under ``tree``."""
    forbidden: List[str] = []
    files: List[Path] = []
    for dirpath, dirnames, filenames in os.walk(str(tree)):
        rel_dir = Path(dirpath).relative_to(tree)
        keep = []
        for d in sorted(dirnames):
            rel = (rel_dir / d).as_posix()
            if d == ".git":
                continue
            if d == SOLUTIONS_DIR or rel == HIDDEN_DIR or rel.endswith("/" + HIDDEN_DIR):
                if not staff_tree:
                    forbidden.append(rel + "/")
                continue
            # The staff repo's untracked top-level folders: build trees, .deps/, .venv/, ...
            if staff_tree and rel_dir == Path(".") and (_is_build_dir(d) or d.startswith(".")):
                continue
            keep.append(d)
        dirnames[:] = keep
        files += [Path(dirpath) / fn for fn in sorted(filenames)]
    return sorted(forbidden), files


def _text_lines(path: Path, data: bytes) -> List[str]:
    """The lines of a text file; for a notebook, the lines of its cells' sources, top to bottom
    (where the JSON string escapes would hide code from a plain line match)."""
    text = data.decode("utf-8", errors="replace")
    if path.suffix == ".ipynb":
        try:
            cells = json.loads(text).get("cells", [])
            return [l for c in cells for l in "".join(c.get("source", [])).splitlines()]
        except (ValueError, AttributeError, TypeError):
            pass
    return text.splitlines()


def leak_check(tree: Path, root: Path = REPO_ROOT, staff_tree: bool = False) -> Tuple[List[str], List[Leak]]:
    """Scan ``tree`` for solution text: every guarded line (secret_lines) found in any file.
    Returns (forbidden directories, leaks). ``staff_tree`` allows (and skips) solutions/ and
    autograder/hidden/, and skips top-level build and dot folders, so that the check can run on
    the staff repo itself.
    """
    tree = Path(tree)
    secrets = secret_lines(root)
    forbidden, files = _scan_dirs(tree, staff_tree)
    leaks: List[Leak] = []
    for p in files:
        try:
            data = p.read_bytes()
        except OSError:
            continue
        if b"\0" in data:
            continue  # binary
        for lineno, line in enumerate(_text_lines(p, data), start=1):
            secret = secrets.get(line.strip())
            if secret:
                leaks.append(Leak(p.relative_to(tree).as_posix(), lineno, secret.source, secret.task,
                                  line.strip()))
    return forbidden, leaks


# ----------------------------------------------------------------------------------------------
# Listing regions
# ----------------------------------------------------------------------------------------------

def all_regions(root: Path = REPO_ROOT) -> List[Region]:
    """Every region of every solution file (paths 'solutions/<rel>'); raises MarkerError."""
    regions: List[Region] = []
    problems: List[str] = []
    for item in plan(Path(root)):
        regions += item.regions
        problems += item.problems
    if problems:
        raise MarkerError(problems)
    return regions


# ----------------------------------------------------------------------------------------------
# Command line
# ----------------------------------------------------------------------------------------------

def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(
        prog="stubs.py", description="Generate student files from solutions/ and guard them.",
        epilog="See docs/TOOLS.md. The repo root is the parent of tools/ unless --root is given.")
    ap.add_argument("--root", type=Path, default=REPO_ROOT, help="the repo root (default: %(default)s)")
    sub = ap.add_subparsers(dest="cmd", metavar="COMMAND")
    sub.required = True
    g = sub.add_parser("generate", help="write every student file from its solutions/ twin")
    g.add_argument("--check", action="store_true", help="write nothing; exit 1 if any student file differs")
    sub.add_parser("check-markers", help="exit 1 on malformed or misplaced markers")
    lk = sub.add_parser("leak-check", help="exit 1 if DIR holds solution text, solutions/ or autograder/hidden/")
    lk.add_argument("dir", type=Path, help="the tree to scan, e.g. a built student release")
    lk.add_argument("--staff-tree", action="store_true",
                    help="DIR is the staff repo: skip (do not flag) solutions/, autograder/hidden/, build*/")
    ls = sub.add_parser("list", help="print every region: file, line range, task id, kind")
    ls.add_argument("--json", action="store_true", help="machine-readable output")
    args = ap.parse_args(argv)
    root = args.root.resolve()

    if args.cmd == "generate":
        return generate(root, check=args.check)

    if args.cmd == "check-markers":
        problems = check_markers(root)
        for p in problems:
            print(p)
        if problems:
            print("check-markers: {} problem(s)".format(len(problems)))
            return 1
        print("check-markers: OK ({} solution file(s))".format(len(solution_files(root))))
        return 0

    if args.cmd == "leak-check":
        if not args.dir.is_dir():
            print("leak-check: {} is not a directory".format(args.dir))
            return 2
        try:
            forbidden, leaks = leak_check(args.dir, root, staff_tree=args.staff_tree)
        except MarkerError as e:
            print(e)
            return 1
        for d in forbidden:
            print("{}: staff-only directory in the tree".format(args.dir / d))
        for lk_ in leaks:
            print("{}:{}: leaks {} ({}): {}".format(
                args.dir / lk_.file, lk_.line, lk_.source, lk_.task, lk_.text[:100]))
        if forbidden or leaks:
            print("leak-check: {} leaking line(s), {} staff-only director(ies)".format(len(leaks), len(forbidden)))
            return 1
        print("leak-check: OK ({} guarded solution line(s))".format(len(secret_lines(root))))
        return 0

    if args.cmd == "list":
        try:
            regions = all_regions(root)
        except MarkerError as e:
            print(e)
            return 1
        if args.json:
            print(json.dumps([{"file": r.path, "student_file": r.path[len(SOLUTIONS_DIR) + 1:],
                               "begin": r.begin, "end": r.end, "task": str(r.task),
                               "label": r.task.label, "kind": r.kind or "host",
                               "handout": r.task.handout} for r in regions], indent=2))
        else:
            for r in regions:
                print("{}:{}-{}  {}{}".format(r.path, r.begin, r.end, r.task,
                                              " (device)" if r.kind else ""))
        return 0
    return 2


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:  # e.g. `stubs.py list | head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(0)
