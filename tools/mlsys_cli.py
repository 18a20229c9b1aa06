#!/usr/bin/env python3
"""mlsys_cli.py — the `./mlsys` command: a thin, documented wrapper over cmake and ctest.

    ./mlsys setup                      install what is missing (apt + pip), idempotently
    ./mlsys build [--solution]         configure + build one preset (build/<preset>)
    ./mlsys test [pa1] [--task 2.3]    build, then run CTest and pytest, filtered by labels
    ./mlsys demo                       build, then run the tensor-library demo
    ./mlsys grade | release            placeholders until the autograder lands

Every external command is echoed as `$ ...` before it runs, so each step can be repeated by
hand. Environment: MLSYS_BUILD_ROOT (default <repo>/build), MLSYS_JOBS (default: all cores),
MLSYS_CUDA_ARCHITECTURES (passed as CMAKE_CUDA_ARCHITECTURES). See docs/TOOLS.md.
Python 3.8+, standard library only.
"""

import argparse
import importlib
import importlib.util
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

REPO = Path(__file__).resolve().parent.parent
STAFF_TREE = (REPO / "solutions").is_dir()

APT_PACKAGES = ["build-essential", "cmake", "libeigen3-dev", "nlohmann-json3-dev", "libgtest-dev",
                "pybind11-dev", "libopenmpi-dev", "openmpi-bin", "python3-dev"]
PIP_REQUIRED = ["numpy", "pytest"]                              # build (numpy) and test (pytest)
PIP_NOTEBOOKS = ["nbclient", "nbformat", "ipykernel", "matplotlib"]  # only the notebooks need these
MIN_CMAKE = (3, 22)

# Sanitizer settings for the asan preset (the same as its test preset in CMakePresets.json).
ASAN_ENV = {"ASAN_OPTIONS": "detect_leaks=1:abort_on_error=1:strict_string_checks=1",
            "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1"}


class Failed(Exception):
    """A step failed; the message says what and how to fix it."""


# ----------------------------------------------------------------------------------------------
# Running commands
# ----------------------------------------------------------------------------------------------

def show_path(p: Path) -> str:
    """A path as commands see it: relative to the repo (the working directory) when inside it."""
    try:
        return str(Path(p).resolve().relative_to(REPO))
    except ValueError:
        return str(p)


def run(cmd: Sequence[str], env: Optional[Dict[str, str]] = None, keep_output: bool = False,
        quiet: bool = False) -> Tuple[int, str]:
    """Echo and run ``cmd`` in the repo root. ``env`` adds variables (echoed too). With
    keep_output the output is returned as well as shown; quiet captures without showing."""
    prefix = " ".join("{}={}".format(k, shlex.quote(v)) for k, v in (env or {}).items())
    print("$ " + (prefix + " " if prefix else "") + " ".join(shlex.quote(c) for c in cmd), flush=True)
    full_env = dict(os.environ, **(env or {}))
    if not (keep_output or quiet):
        return subprocess.call(list(cmd), cwd=str(REPO), env=full_env), ""
    proc = subprocess.Popen(list(cmd), cwd=str(REPO), env=full_env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, universal_newlines=True)
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if not quiet:
            print(line, end="", flush=True)
    return proc.wait(), "".join(lines)


def say(msg: str) -> None:
    print("[mlsys] " + msg, flush=True)


def jobs(args) -> int:
    return int(getattr(args, "jobs", None) or os.environ.get("MLSYS_JOBS") or os.cpu_count() or 2)


# ----------------------------------------------------------------------------------------------
# setup: apt and pip packages
# ----------------------------------------------------------------------------------------------

def apt_installed(pkg: str) -> bool:
    out = subprocess.run(["dpkg", "-s", pkg], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         universal_newlines=True).stdout
    return "Status: install ok installed" in out


def cmake_version() -> Optional[Tuple[int, int]]:
    try:
        out = subprocess.run(["cmake", "--version"], stdout=subprocess.PIPE, universal_newlines=True).stdout
    except OSError:
        return None
    m = re.search(r"version (\d+)\.(\d+)", out)
    return (int(m.group(1)), int(m.group(2))) if m else None


def missing_apt() -> List[str]:
    """The apt packages not installed. A cmake >= 3.22 on PATH (pip's, on Colab) counts as cmake."""
    missing = [p for p in APT_PACKAGES if not apt_installed(p)]
    if "cmake" in missing and (cmake_version() or (0, 0)) >= MIN_CMAKE:
        missing.remove("cmake")
    if importlib.util.find_spec("pip") is None:
        missing += [p for p in ("python3-pip", "python3-venv") if not apt_installed(p)]
    return missing


def missing_pip(modules: Sequence[str]) -> List[str]:
    importlib.invalidate_caches()
    return [m for m in modules if importlib.util.find_spec(m) is None]


def sudo_prefix() -> Optional[List[str]]:
    """[] as root, ['sudo', ...] when sudo can be used, None otherwise."""
    if os.geteuid() == 0:
        return []
    if shutil.which("sudo"):
        if subprocess.call(["sudo", "-n", "true"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) == 0:
            return ["sudo", "-n"]
        if sys.stdin.isatty():
            return ["sudo"]  # asks for the password
    return None


def install_apt(packages: List[str]) -> None:
    prefix = sudo_prefix()
    install = ["apt-get", "install", "-y", "--no-install-recommends"] + packages
    if prefix is None:
        raise Failed("apt packages missing: {}. This user cannot install them (not root, no usable "
                     "sudo); ask an administrator to run:\n    sudo apt-get update && sudo {}"
                     .format(" ".join(packages), " ".join(install)))
    say("installing apt packages: " + " ".join(packages))
    env_cmd = ["env", "DEBIAN_FRONTEND=noninteractive"]
    if run(prefix + ["apt-get", "update"])[0] != 0 or run(prefix + env_cmd + install)[0] != 0:
        raise Failed("apt-get failed (see above). Run by hand: sudo apt-get update && sudo "
                     + " ".join(install))


def install_pip(modules: List[str]) -> None:
    """pip-install into the Python running this CLI; retries with --break-system-packages only
    when pip refuses because of PEP 668 (an externally managed environment)."""
    say("installing pip packages for {}: {}".format(sys.executable, " ".join(modules)))
    cmd = [sys.executable, "-m", "pip", "install"] + modules
    rc, out = run(cmd, keep_output=True)
    if rc != 0 and "externally-managed-environment" in out:
        say("pip refused (PEP 668: externally managed environment); retrying with --break-system-packages")
        run(cmd[:4] + ["--break-system-packages"] + modules)


def ensure_deps(pip_modules: Sequence[str], optional: Sequence[str] = (), verbose: bool = False) -> List[str]:
    """Install whatever is missing; returns what was installed. Fails if a required item could not
    be installed. Fast when everything is present (dpkg -s and import checks only)."""
    installed: List[str] = []
    if shutil.which("dpkg"):
        if verbose:
            say("checking apt packages (dpkg -s): " + " ".join(APT_PACKAGES))
        apt_missing = missing_apt()
        if apt_missing:
            install_apt(apt_missing)
            installed += ["apt:" + p for p in apt_missing]
        elif verbose:
            say("apt: all {} packages installed".format(len(APT_PACKAGES)))
    else:
        say("no dpkg: not Debian/Ubuntu, so apt packages are not checked; install the equivalents of: "
            + " ".join(APT_PACKAGES))
    if verbose:
        say("checking Python modules for {}: {}".format(sys.executable, " ".join(pip_modules)))
    pip_missing = missing_pip(pip_modules)
    if pip_missing:
        install_pip(pip_missing)
        still = missing_pip(pip_missing)
        installed += ["pip:" + m for m in pip_missing if m not in still]
        required_still = [m for m in still if m not in optional]
        if required_still:
            raise Failed("pip could not install {} (see above). Try: {} -m pip install {}".format(
                " ".join(required_still), sys.executable, " ".join(required_still)))
        if still:
            say("warning: could not install {} (only the notebooks need them)".format(" ".join(still)))
    elif verbose:
        say("pip: all {} modules importable".format(len(pip_modules)))
    return installed


def cmd_setup(args) -> int:
    installed = ensure_deps(PIP_REQUIRED + PIP_NOTEBOOKS, optional=PIP_NOTEBOOKS, verbose=True)
    if installed:
        say("setup: installed " + " ".join(installed))
    else:
        say("setup: everything already installed")
    return 0


# ----------------------------------------------------------------------------------------------
# build: configure + compile one preset
# ----------------------------------------------------------------------------------------------

def build_root() -> Path:
    return Path(os.environ.get("MLSYS_BUILD_ROOT") or REPO / "build")


def choose_preset(args, solution: bool) -> str:
    if getattr(args, "preset", None):
        return args.preset
    cuda = "cuda-" if getattr(args, "cuda", None) == "on" else ""
    return cuda + ("solution" if solution else "student")


def cuda_architectures() -> Optional[str]:
    """MLSYS_CUDA_ARCHITECTURES if set; else the visible GPUs' ('native'), else None (CMake's list)."""
    if os.environ.get("MLSYS_CUDA_ARCHITECTURES"):
        return os.environ["MLSYS_CUDA_ARCHITECTURES"]
    has_nvcc = shutil.which("nvcc") or os.environ.get("CUDACXX") or Path("/usr/local/cuda/bin/nvcc").exists()
    if not shutil.which("nvidia-smi") or not has_nvcc:
        return None
    if subprocess.call(["nvidia-smi", "-L"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) != 0:
        return None
    if (cmake_version() or (0, 0)) >= (3, 24):
        return "native"
    # CMake 3.22/3.23 (Ubuntu 22.04) has no 'native': ask the driver for the compute capability.
    out = subprocess.run(["nvidia-smi", "--query-gpu=compute_cap", "--format=csv,noheader"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, universal_newlines=True).stdout
    caps = sorted({c.strip().replace(".", "") for c in out.split() if re.match(r"^\d+\.\d+$", c.strip())})
    return ";".join(caps) or None


def build(args, solution: bool = False, pip_modules: Sequence[str] = ("numpy",)) -> Tuple[str, Path]:
    """Quick dependency check, configure, build. Returns (preset, build dir); raises Failed."""
    ensure_deps(pip_modules)
    preset = choose_preset(args, solution)
    bdir = build_root() / preset
    cfg = ["cmake", "--preset", preset, "-B", show_path(bdir), "-DPython_EXECUTABLE=" + sys.executable]
    cuda = getattr(args, "cuda", None)
    if cuda and (getattr(args, "preset", None) or cuda == "off"):
        cfg.append("-DMLSYS_CUDA=" + cuda.upper())
    if preset != "asan" and cuda != "off":
        archs = cuda_architectures()
        if archs:
            cfg.append("-DCMAKE_CUDA_ARCHITECTURES=" + archs)
    if run(cfg)[0] != 0:
        raise Failed("configure failed for preset '{}' (see the CMake message above)".format(preset))
    if run(["cmake", "--build", show_path(bdir), "-j", str(jobs(args))])[0] != 0:
        raise Failed("build failed for preset '{}' (the first compiler error above is the one to fix)".format(preset))
    return preset, bdir


def cmd_build(args) -> int:
    preset, bdir = build(args, solution=args.solution)
    say("built preset '{}' in {}".format(preset, show_path(bdir)))
    return 0


# ----------------------------------------------------------------------------------------------
# test: CTest by labels, then pytest
# ----------------------------------------------------------------------------------------------

def task_label(task: str) -> str:
    """'2.3', 'task2.3', 'Task 2.3' or 'PA1 Task 2.3' -> '2.3'."""
    m = re.search(r"(\d+(?:\.\d+)?)\s*$", task)
    if not m:
        raise Failed("--task expects a task id such as 2.3, got {!r}".format(task))
    return m.group(1)


def python_test_dirs(scope: Optional[str]) -> List[Path]:
    """common/tests/python and paN_*/tests/python that exist, restricted to ``scope``."""
    dirs = [REPO / "common/tests/python"] + sorted(REPO.glob("pa[0-9]*_*/tests/python"))
    if scope:
        dirs = [d for d in dirs if d.parent.parent.name.split("_")[0] == scope]
    return [d for d in dirs if d.is_dir()]


def ctest_filters(scope: Optional[str], task: Optional[str], label: Optional[str],
                  regex: Optional[str]) -> List[str]:
    """CTest arguments. Several -L must all match (AND); labels are anchored so pa1 != pa10."""
    out: List[str] = []
    if scope:
        out += ["-L", "^{}$".format(scope)]
    if task:
        out += ["-L", "^task{}$".format(re.escape(task))]
    if label:
        out += ["-L", label]
    if regex:
        out += ["-R", regex]
    return out


def run_ctest(bdir: Path, filters: List[str], preset: str, args) -> Tuple[str, int]:
    """('passed'|'FAILED'|'none', number of tests)."""
    _, listing = run(["ctest", "--test-dir", show_path(bdir), "-N"] + filters, quiet=True)
    m = re.search(r"Total Tests:\s*(\d+)", listing)
    count = int(m.group(1)) if m else 0
    if count == 0:
        say("ctest: no test matches these filters")
        return "none", 0
    env = ASAN_ENV if preset == "asan" else None
    rc, _ = run(["ctest", "--test-dir", show_path(bdir), "--output-on-failure", "-j", str(jobs(args))]
                + filters, env=env)
    return ("passed" if rc == 0 else "FAILED"), count


def run_pytest(bdir: Path, dirs: List[Path], task: Optional[str], regex: Optional[str]) -> str:
    """'passed' | 'FAILED' | 'none'. Python tests of task 2.3 carry 'task2_3' in their names."""
    if not dirs:
        say("pytest: no Python test folder for this selection")
        return "none"
    keys = []
    if task:
        keys.append("task" + task.replace(".", "_"))
    if regex:
        keys.append("({})".format(regex))
    cmd = [sys.executable, "-m", "pytest", "-ra"] + [show_path(d) for d in dirs]
    if keys:
        cmd += ["-k", " and ".join(keys)]
    pythonpath = os.pathsep.join(p for p in [show_path(bdir / "python"), os.environ.get("PYTHONPATH")] if p)
    rc, _ = run(cmd, env={"PYTHONPATH": pythonpath, "MLSYS_BUILD_DIR": show_path(bdir)})
    if rc == 5:  # pytest: nothing collected
        say("pytest: no test matches these filters")
        return "none"
    return "passed" if rc == 0 else "FAILED"


def test_one_build(args, solution: bool, scope: Optional[str] = None, task: Optional[str] = None,
                   label: Optional[str] = None, python: bool = True, ctest: bool = True) -> bool:
    """Build one preset and run its selected tests. Prints the one-line summary; returns success."""
    start = time.time()
    parts: List[str] = []
    ok = True
    preset = choose_preset(args, solution)
    try:
        preset, bdir = build(args, solution, pip_modules=PIP_REQUIRED if python else ("numpy",))
        filters = ctest_filters(scope, task, label, args.k)
        ran_any = False
        if ctest:
            result, count = run_ctest(bdir, filters, preset, args)
            parts.append("ctest {} ({} tests)".format(result, count) if count else "ctest: no test matched")
            ok &= result != "FAILED"
            ran_any |= result != "none"
        if python and preset == "asan":
            parts.append("pytest skipped (ASan builds cannot be imported by a plain python)")
        elif python and label:
            parts.append("pytest skipped (--label filters CTest only)")
        elif python:
            result = run_pytest(bdir, python_test_dirs(scope), task, args.k)
            parts.append("pytest " + result if result != "none" else "pytest: no test matched")
            ok &= result != "FAILED"
            ran_any |= result != "none"
        if not ran_any and (scope or task or label or args.k):
            parts.append("nothing ran (check the PA, task, label or -k)")
            ok = False
    except Failed as e:
        say("error: " + str(e))
        parts.append("build FAILED")
        ok = False
    selection = " ".join(x for x in [scope, "task" + task if task else None,
                                      "label " + label if label else None,
                                      "-k " + args.k if args.k else None] if x) or "all tests"
    print("== mlsys test [{}] {}: {} — {} in {:.1f} s".format(
        preset, selection, ", ".join(parts), "OK" if ok else "FAILED", time.time() - start), flush=True)
    return ok


def check_student_stubs(args) -> bool:
    """Hook for the staff gate: that the untouched student files fail each PA's tests with
    mlsys::NotImplemented (and nothing worse). A later PA issue implements it; for now it only
    says what it will check."""
    say("check_student_stubs: not implemented yet. It will run each PA's tests against the student "
        "build and require every failure to be mlsys::NotImplemented naming the test's task "
        "(no crash, no hang, no pass).")
    return True


def staff_gate(args) -> int:
    """The full staff check: stubs, solution build + all tests, student build + common tests,
    ASan build + common tests. Every step runs; the table at the end says which failed."""
    python = not args.no_python
    ctest = not args.python_only
    stubs = [sys.executable, str(Path("tools") / "stubs.py")]

    def step_stubs() -> bool:
        return run(stubs + ["check-markers"])[0] == 0 and run(stubs + ["generate", "--check"])[0] == 0

    def step_student() -> bool:
        ok = test_one_build(args, False, scope="common", python=python, ctest=ctest)
        return check_student_stubs(args) and ok

    def step_asan() -> bool:
        asan = argparse.Namespace(**dict(vars(args), preset="asan", cuda=None))
        return test_one_build(asan, False, scope="common", python=False, ctest=True)

    steps = [
        ("stubs: check-markers, generate --check", step_stubs),
        ("solution build, every test", lambda: test_one_build(args, True, python=python, ctest=ctest)),
        ("student build, common tests", step_student),
        ("asan build, common tests", step_asan),
    ]
    results = []
    for i, (name, fn) in enumerate(steps, start=1):
        print("\n" + "=" * 100 + "\n== [{}/{}] {}\n".format(i, len(steps), name) + "=" * 100, flush=True)
        start = time.time()
        ok = fn()
        seconds = time.time() - start
        print("== [{}/{}] {}: {} ({:.1f} s)".format(i, len(steps), name, "passed" if ok else "FAILED", seconds))
        results.append((name, ok, seconds))
    width = max(len(n) for n, _, _ in results)
    print("\n{:<{w}}  {:<6}  {:>8}".format("step", "result", "seconds", w=width))
    for name, ok, seconds in results:
        print("{:<{w}}  {:<6}  {:>8.1f}".format(name, "passed" if ok else "FAILED", seconds, w=width))
    failed = [n for n, ok, _ in results if not ok]
    print("staff gate: " + ("all {} steps passed".format(len(results)) if not failed
                            else "FAILED: " + "; ".join(failed)))
    return 1 if failed else 0


def cmd_test(args) -> int:
    task = task_label(args.task) if args.task else None
    filtered = bool(args.scope or task or args.label or args.k)
    if STAFF_TREE and not (args.solution or args.student or args.preset or filtered):
        return staff_gate(args)
    if STAFF_TREE and not (args.solution or args.student or args.preset):
        say("testing the student files (staff tree: add --solution to test the reference solutions)")
    ok = test_one_build(args, args.solution, args.scope, task, args.label,
                        python=not args.no_python, ctest=not args.python_only)
    return 0 if ok else 1


# ----------------------------------------------------------------------------------------------
# demo, grade, release
# ----------------------------------------------------------------------------------------------

def cmd_demo(args) -> int:
    preset, bdir = build(args, solution=args.solution)
    demo = bdir / "common" / "mlsys_demo"
    if not demo.is_file():
        say("error: {} was not built. The demo comes from common/bench (target mlsys_demo); "
            "check that common/bench/CMakeLists.txt defines it.".format(show_path(demo)))
        return 1
    return run([show_path(demo)] + args.demo_args)[0]


def cmd_placeholder(args) -> int:
    print("mlsys {}: not available yet: the autograder lands with its own issue".format(args.cmd))
    return 2


# ----------------------------------------------------------------------------------------------
# Command line
# ----------------------------------------------------------------------------------------------

def add_build_options(p: argparse.ArgumentParser, solution_help: str) -> None:
    p.add_argument("--solution", action="store_true", help=solution_help)
    p.add_argument("--preset", choices=["student", "solution", "asan", "cuda-student", "cuda-solution"],
                   help="a CMake preset from CMakePresets.json (overrides --solution)")
    p.add_argument("--cuda", choices=["on", "off", "auto"],
                   help="on: the cuda-* preset (fails without nvcc); off: no CUDA; auto (default): "
                        "CUDA whenever nvcc is found")
    p.add_argument("--jobs", "-j", type=int, help="parallel jobs (default: $MLSYS_JOBS or all cores)")


def parser() -> argparse.ArgumentParser:
    fmt = argparse.RawDescriptionHelpFormatter
    ap = argparse.ArgumentParser(
        prog="mlsys", formatter_class=fmt,
        description="The mlsys course repo's command: a thin wrapper over cmake/ctest/pytest.\n"
                    "Each command echoes the cmake, ctest and pytest calls it makes ($ ...).",
        epilog="examples:\n"
               "  ./mlsys setup                  install compilers, libraries and Python packages\n"
               "  ./mlsys test pa1 --task 2.3    build, then run the tests of PA1 Task 2.3\n"
               "  ./mlsys test                   staff tree: the full staff gate; student release: all public tests\n"
               "  ./mlsys test --solution pa2    staff: the reference solutions' PA2 tests\n"
               "  ./mlsys demo                   build and run the tensor-library demo\n\n"
               "environment: MLSYS_BUILD_ROOT (default <repo>/build; each preset builds in a\n"
               "subfolder), MLSYS_JOBS (parallel jobs), MLSYS_CUDA_ARCHITECTURES (e.g. 75 for a T4;\n"
               "default: the visible GPU, else 75 through 90). Details: docs/TOOLS.md.")
    sub = ap.add_subparsers(dest="cmd", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("setup", formatter_class=fmt, help="install what is missing (apt, pip)",
                       description="Install what is missing, idempotently:\n  apt: " + " ".join(APT_PACKAGES) +
                       "\n  (plus python3-pip python3-venv when pip is missing; apt-get update only when\n"
                       "  something is installed; as root, else with sudo, else prints the command)\n"
                       "  pip, for " + sys.executable + ": " + " ".join(PIP_REQUIRED + PIP_NOTEBOOKS) +
                       "\n  (--break-system-packages only when pip refuses because of PEP 668)")
    p.set_defaults(fn=cmd_setup)

    p = sub.add_parser("build", help="configure and build one preset",
                       description="Check dependencies (installing what is missing), configure with "
                                   "`cmake --preset P -B $MLSYS_BUILD_ROOT/P`, build with all cores.")
    add_build_options(p, "build the reference solutions (preset 'solution'; staff tree only)")
    p.set_defaults(fn=cmd_build)

    p = sub.add_parser("test", formatter_class=fmt, help="build, then run CTest and pytest",
                       description="Build, then run CTest (by labels) and pytest (common/tests/python,\n"
                                   "paN_*/tests/python) with PYTHONPATH=<build>/python.\n\n"
                                   "Without a PA, task, label or -k: in the staff tree (solutions/ exists) the\n"
                                   "full staff gate runs: (1) stubs.py check-markers + generate --check,\n"
                                   "(2) solution build + every test, (3) student build + the 'common' tests,\n"
                                   "(4) asan build + the 'common' tests; in a student release, the student\n"
                                   "build and every public test. Otherwise the student build (or --solution)\n"
                                   "runs the selected tests.")
    p.add_argument("scope", nargs="?", choices=["pa1", "pa2", "pa3", "common"],
                   help="only this PA's tests (CTest label paN / common)")
    p.add_argument("--task", help="only this task's tests, e.g. 2.3 (CTest label task2.3; pytest names "
                                  "containing task2_3)")
    who = p.add_mutually_exclusive_group()
    who.add_argument("--solution", action="store_true", help="test the reference solutions (staff tree)")
    who.add_argument("--student", action="store_true", help="test the student files")
    p.add_argument("--label", "-L", help="an extra CTest label regex, e.g. gpu or mpi (CTest only)")
    p.add_argument("-k", metavar="REGEX", help="test names: ctest -R REGEX and pytest -k REGEX "
                                                "(use a plain substring so both agree)")
    py = p.add_mutually_exclusive_group()
    py.add_argument("--python-only", action="store_true", help="run pytest only")
    py.add_argument("--no-python", action="store_true", help="run CTest only")
    p.add_argument("--preset", choices=["student", "solution", "asan", "cuda-student", "cuda-solution"],
                   help="test this preset's build instead")
    p.add_argument("--cuda", choices=["on", "off", "auto"], help="as for build")
    p.add_argument("--jobs", "-j", type=int, help="parallel build and test jobs")
    p.set_defaults(fn=cmd_test)

    p = sub.add_parser("demo", help="build, then run the tensor-library demo",
                       description="Build (student preset unless --solution/--preset), then run "
                                   "<build>/<preset>/common/mlsys_demo. Arguments after -- go to the demo.")
    add_build_options(p, "use the solution build")
    p.add_argument("demo_args", nargs="*", help="arguments for mlsys_demo (after --)")
    p.set_defaults(fn=cmd_demo)

    for name in ("grade", "release"):
        what = "grade a submission locally" if name == "grade" else "write the student release and Gradescope zips"
        p = sub.add_parser(name, help="placeholder: " + what + " (lands with the autograder)",
                           description="Placeholder: prints 'not available yet' and exits 2. The "
                                       "autograder issue replaces it ({}).".format(what))
        p.set_defaults(fn=cmd_placeholder)
    return ap


def main(argv: Optional[List[str]] = None) -> int:
    ap = parser()
    args, unknown = ap.parse_known_args(argv)
    if unknown and args.fn is not cmd_placeholder:  # placeholders accept anything for now
        ap.error("unrecognized arguments: " + " ".join(unknown))
    try:
        return args.fn(args)
    except Failed as e:
        say("error: " + str(e))
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
