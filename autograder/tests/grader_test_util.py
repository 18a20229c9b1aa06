"""Helpers for the grader's pytest suites: find (or build) mlsys_grade, assemble the fake course,
make submissions, run the grader and check what it wrote.

Environment (set by CTest, see autograder/tests/CMakeLists.txt; all optional by hand):
  MLSYS_GRADE            the mlsys_grade executable (default: build it in build/grader-tool)
  MLSYS_GRADER_TEST_WORK where the tests keep their work folders (default: build/grader-tests)
  MLSYS_GRADER_JOBS      parallel jobs for the grader (default 2)
"""

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional, Tuple

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
SCHEMA = REPO / "autograder" / "schema" / "results.schema.json"


def work_root() -> Path:
    root = Path(os.environ.get("MLSYS_GRADER_TEST_WORK") or REPO / "build" / "grader-tests")
    root.mkdir(parents=True, exist_ok=True)
    return root


def jobs() -> str:
    return os.environ.get("MLSYS_GRADER_JOBS", "2")


def grader() -> Path:
    """The mlsys_grade executable, building the standalone grader when none is given."""
    if os.environ.get("MLSYS_GRADE"):
        return Path(os.environ["MLSYS_GRADE"])
    build = REPO / "build" / "grader-tool"
    subprocess.run(["cmake", "-S", str(REPO / "autograder"), "-B", str(build)], check=True,
                   stdout=subprocess.DEVNULL)
    subprocess.run(["cmake", "--build", str(build), "-j", jobs()], check=True, stdout=subprocess.DEVNULL)
    return build / "mlsys_grade"


def make_fake_course(dst: Path) -> Path:
    """The fake course of autograder/tests/fixtures/fakepa with the real grader sources."""
    if dst.exists():
        shutil.rmtree(dst)
    shutil.copytree(HERE / "fixtures" / "fakepa", dst)
    (dst / "cmake").mkdir(exist_ok=True)
    shutil.copy2(REPO / "cmake" / "MlsysHelpers.cmake", dst / "cmake")
    (dst / "include" / "mlsys").mkdir(parents=True)
    shutil.copy2(REPO / "common" / "include" / "mlsys" / "recording.h", dst / "include" / "mlsys")
    shutil.copy2(REPO / "common" / "src" / "recording.cpp", dst / "recording.cpp")
    shutil.copy2(REPO / "autograder" / "CMakeLists.txt", dst / "autograder")
    shutil.copytree(REPO / "autograder" / "src", dst / "autograder" / "src")
    return dst


def make_submission(dst: Path, course: Path, student_files: List[str], base: str,
                    overlay: Optional[Path] = None) -> Path:
    """A submission folder: `base` is "solution" (the solutions/ twins, flat by basename),
    "starter" (nothing) or "repo" (solutions in the repo layout); then `overlay`'s files."""
    if dst.exists():
        shutil.rmtree(dst)
    dst.mkdir(parents=True)
    for f in student_files:
        if base == "solution":
            shutil.copy2(course / "solutions" / f, dst / Path(f).name)
        elif base == "repo":
            (dst / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(course / "solutions" / f, dst / f)
    if overlay is not None:
        for p in sorted(overlay.rglob("*")):
            if p.is_file() and p.name not in ("variant.json",):
                target = dst / p.relative_to(overlay)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(p, target)
    return dst


class Graded:
    """What one `mlsys_grade grade` call produced."""

    def __init__(self, rc: int, seconds: float, log: str, record: dict, gradescope: dict):
        self.rc, self.seconds, self.log, self.record, self.gradescope = rc, seconds, log, record, gradescope

    @property
    def score(self) -> float:
        return self.record.get("score", -1)

    def case(self, name: str) -> dict:
        for c in self.record["cases"]:
            if c["name"] == name:
                return c
        raise KeyError(name)

    def failed(self) -> Dict[str, str]:
        return {c["name"]: c["reason"] for c in self.record["cases"] if c["status"] == "failed"}


def grade(course: Path, rubric: Path, work: Path, out_dir: Path, submission: Optional[Path] = None,
          solution: bool = False, extra: Tuple[str, ...] = (), timeout: float = 1800,
          command: Optional[List[str]] = None) -> Graded:
    out_dir.mkdir(parents=True, exist_ok=True)
    gs, rec = out_dir / "results.json", out_dir / "grade.json"
    for p in (gs, rec):
        if p.exists():
            p.unlink()
    cmd = list(command or [str(grader())]) + [
        "grade", "--tree", str(course), "--rubric", str(rubric), "--work", str(work),
        "--format", "gradescope", "--out", str(gs), "--json", str(rec), "--jobs", jobs(), "--quiet"]
    if submission is not None:
        cmd += ["--submission", str(submission)]
    if solution:
        cmd += ["--solution"]
    cmd += list(extra)
    start = time.time()
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                          timeout=timeout)
    seconds = time.time() - start
    sys.stdout.write(proc.stdout[-4000:])
    record = json.loads(rec.read_text()) if rec.exists() else {}
    gradescope = json.loads(gs.read_text()) if gs.exists() else {}
    return Graded(proc.returncode, seconds, proc.stdout, record, gradescope)


# ------------------------------------------------------------------------------------------------
# A small JSON Schema check (the subset results.schema.json uses), for machines without jsonschema
# ------------------------------------------------------------------------------------------------

def _check(value, schema: dict, where: str, errors: List[str]) -> None:
    types = schema.get("type")
    if types is not None:
        names = types if isinstance(types, list) else [types]
        ok = any({
            "object": isinstance(value, dict),
            "array": isinstance(value, list),
            "string": isinstance(value, str),
            "number": isinstance(value, (int, float)) and not isinstance(value, bool),
            "integer": isinstance(value, int) and not isinstance(value, bool),
            "boolean": isinstance(value, bool),
            "null": value is None,
        }[n] for n in names)
        if not ok:
            errors.append("{}: expected {}, got {!r}".format(where, types, value))
            return
    if "enum" in schema and value not in schema["enum"]:
        errors.append("{}: {!r} not in {}".format(where, value, schema["enum"]))
    if "minimum" in schema and isinstance(value, (int, float)) and value < schema["minimum"]:
        errors.append("{}: {} < minimum {}".format(where, value, schema["minimum"]))
    if isinstance(value, dict):
        for key in schema.get("required", []):
            if key not in value:
                errors.append("{}: missing '{}'".format(where, key))
        props = schema.get("properties", {})
        for key, v in value.items():
            if key in props:
                _check(v, props[key], where + "." + key, errors)
            elif schema.get("additionalProperties") is False:
                errors.append("{}: unexpected '{}'".format(where, key))
    if isinstance(value, list) and "items" in schema:
        for i, v in enumerate(value):
            _check(v, schema["items"], "{}[{}]".format(where, i), errors)


def schema_errors(doc: dict) -> List[str]:
    schema = json.loads(SCHEMA.read_text())
    try:
        import jsonschema  # type: ignore
        validator = jsonschema.Draft7Validator(schema)
        return [e.message for e in validator.iter_errors(doc)]
    except ImportError:
        errors: List[str] = []
        _check(doc, schema, "results", errors)
        return errors
