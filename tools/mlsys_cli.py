#!/usr/bin/env python3
"""mlsys_cli.py — the `./mlsys` command: a thin, documented wrapper over cmake and ctest.

    ./mlsys setup                      install what is missing (apt + pip), idempotently
    ./mlsys build [pa1] [--solution]   configure + build one configuration (build/<config>)
    ./mlsys test [pa1] [--task 2.2]    build what the selected tests need, then run CTest and pytest
    ./mlsys demo                       build, then run the tensor-library demo
    ./mlsys grade pa1 [--solution]     grade like the official grader (autograder/, docs/GRADING.md)
    ./mlsys release                    staff: the student repo and the Gradescope zips

Every external command is echoed as `$ ...` before it runs, so each step can be repeated by
hand. Each configuration builds in its own folder (build/student, build/student-nocuda,
build/solution, ...), so switching between them rebuilds nothing. Environment: MLSYS_BUILD_ROOT
(default <repo>/build), MLSYS_JOBS (default: all cores), MLSYS_CUDA_ARCHITECTURES (passed as
CMAKE_CUDA_ARCHITECTURES). See docs/TOOLS.md.
Python 3.8+, standard library only.
"""

import argparse
import importlib
import importlib.util
import json
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

# What `./mlsys setup` installs (README.md, "Requirements", lists the same). python3-venv: the
# staff gate runs its Python side in a virtualenv it creates (build/venv-gate).
APT_PACKAGES = ["build-essential", "cmake", "libeigen3-dev", "nlohmann-json3-dev", "libgtest-dev",
                "pybind11-dev", "libopenmpi-dev", "openmpi-bin", "python3-dev", "python3-venv"]
PIP_REQUIRED = ["numpy", "pytest"]                              # build (numpy) and test (pytest)
PIP_NOTEBOOKS = ["nbclient", "nbformat", "ipykernel", "matplotlib"]  # the notebooks and their tests
# pip names differ from module names for none of these; the gate's venv gets exactly this list.
PIP_ALL = PIP_REQUIRED + PIP_NOTEBOOKS
MIN_CMAKE = (3, 22)
# Set (to the venv's folder) while the staff gate runs inside the virtualenv it made: then
# nothing is pip-installed on the fly, so a package missing from PIP_ALL fails the gate.
GATE_VENV_VAR = "MLSYS_GATE_VENV"

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
    if verbose and pip_modules:
        say("checking Python modules for {}: {}".format(sys.executable, " ".join(pip_modules)))
    pip_missing = missing_pip(pip_modules)
    if pip_missing and os.environ.get(GATE_VENV_VAR):
        raise Failed("the staff gate's virtualenv ({}) lacks {}: add it to PIP_REQUIRED or "
                     "PIP_NOTEBOOKS in tools/mlsys_cli.py (the list `./mlsys setup` installs)"
                     .format(os.environ[GATE_VENV_VAR], " ".join(pip_missing)))
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
    elif verbose and pip_modules:
        say("pip: all {} modules importable".format(len(pip_modules)))
    return installed


def cmd_setup(args) -> int:
    installed = ensure_deps(PIP_ALL, verbose=True)
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


def config_name(args, preset: str) -> str:
    """The build folder's name under MLSYS_BUILD_ROOT: one per configuration, so that switching
    (terminal with CUDA, notebook without; student and solution) never reconfigures a folder."""
    if getattr(args, "student_in_solution_dir", False):
        return "solution"
    if getattr(args, "asan_solutions", False):
        return "asan-solution"
    if getattr(args, "cuda", None) == "off" and preset in ("student", "solution"):
        return preset + "-nocuda"
    return preset


def configure(args, solution: bool = False, pip_modules: Sequence[str] = ("numpy",)) -> Tuple[str, Path]:
    """Quick dependency check, then configure. Returns (preset, build dir); raises Failed."""
    try:
        ensure_deps(pip_modules)
    except Failed as e:  # e.g. offline, or the libraries come from elsewhere (conda, pip)
        if os.environ.get(GATE_VENV_VAR):
            raise
        say("warning: " + str(e))
        say("continuing: if something is really missing, CMake's configure step names it")
    preset = choose_preset(args, solution)
    bdir = build_root() / config_name(args, preset)
    # The Python that runs this CLI is the one the modules are built for and pytest runs with
    # (Python3_EXECUTABLE too: the grader's tests look for that package name).
    py = ["-DPython_EXECUTABLE=" + sys.executable, "-DPython3_EXECUTABLE=" + sys.executable]
    # --no-warn-unused-cli: a student repository has no grader tests, which alone read
    # Python3_EXECUTABLE; CMake would warn about it on every first configure.
    cfg = ["cmake", "--no-warn-unused-cli", "--preset", preset, "-B", show_path(bdir)] + py
    if getattr(args, "student_in_solution_dir", False):
        # Staff gate: build the student files in the solution build folder, so that only the
        # student files and what links them are rebuilt (a second full build would double CI).
        cfg = ["cmake", "--no-warn-unused-cli", "--preset", "solution", "-B", show_path(bdir),
               "-DMLSYS_SOLUTIONS=OFF"] + py
    if getattr(args, "asan_solutions", False):
        cfg.append("-DMLSYS_SOLUTIONS=ON")
    cuda = getattr(args, "cuda", None)
    if cuda and (getattr(args, "preset", None) or cuda == "off"):
        cfg.append("-DMLSYS_CUDA=" + cuda.upper())
    if preset != "asan" and cuda != "off":
        archs = cuda_architectures()
        if archs:
            cfg.append("-DCMAKE_CUDA_ARCHITECTURES=" + archs)
    if run(cfg)[0] != 0:
        raise Failed("configure failed for preset '{}' (see the CMake message above)".format(preset))
    return preset, bdir


def makefile_rules(bdir: Path, targets: Sequence[str]) -> Optional[List[str]]:
    """The rules of CMake's Makefile2 that build ``targets`` (`<dir>/CMakeFiles/<t>.dir/all`),
    or None when this is not a Makefiles build or a target has no such rule. Why: with Unix
    Makefiles, `cmake --build --target a b c` builds a, b and c one after the other (the top
    Makefile is .NOTPARALLEL), so test executables of one source file each compile on one core;
    one make over Makefile2's rules builds them all in parallel, shared libraries once."""
    makefile2 = bdir / "CMakeFiles" / "Makefile2"
    if not makefile2.is_file():
        return None
    text = makefile2.read_text(errors="replace")
    rules = []
    for t in targets:
        m = re.search(r"^((?:\S+/)?CMakeFiles/{}\.dir/all):".format(re.escape(t)), text, re.M)
        if not m:
            return None
        rules.append(m.group(1))
    return rules


def compile_targets(args, preset: str, bdir: Path, targets: Optional[List[str]] = None) -> None:
    """Build ``targets`` (and what they link), or everything when None."""
    cmd = ["cmake", "--build", show_path(bdir), "-j", str(jobs(args))]
    if targets is not None:
        if not targets:
            return
        rules = makefile_rules(bdir, sorted(targets))
        if rules is not None:
            cmd = ["make", "-C", show_path(bdir), "-f", "CMakeFiles/Makefile2", "-j", str(jobs(args)),
                   "--no-print-directory"] + rules
        else:
            cmd += ["--target"] + sorted(targets)
    if run(cmd)[0] != 0:
        raise Failed("build failed for preset '{}' (the first compiler error above is the one to fix)".format(preset))


def build(args, solution: bool = False, pip_modules: Sequence[str] = ("numpy",),
          targets: Optional[List[str]] = None) -> Tuple[str, Path]:
    """Configure, then build ``targets`` (None: everything). Returns (preset, build dir)."""
    preset, bdir = configure(args, solution, pip_modules)
    compile_targets(args, preset, bdir, targets)
    return preset, bdir


# ----------------------------------------------------------------------------------------------
# Which targets a command needs
# ----------------------------------------------------------------------------------------------

def cmake_targets(bdir: Path) -> List[str]:
    """Every target of a configured build folder (`cmake --build DIR --target help`: Makefiles
    list '... name', Ninja 'name: phony')."""
    _, out = run(["cmake", "--build", show_path(bdir), "--target", "help"], quiet=True)
    names = re.findall(r"^\.\.\. (\S+)", out, re.M) + re.findall(r"^([^\s:]+): \w+$", out, re.M)
    return sorted(set(names) - {"all", "clean", "depend", "edit_cache", "rebuild_cache", "test",
                                "install", "list_install_components"})


def python_targets(all_targets: Sequence[str], scopes: Optional[Sequence[str]]) -> List[str]:
    """The extension modules (mlsys_python, paN_python) the Python tests of ``scopes`` import
    (None: every PA). mlsys.paN imports mlsys._C, so mlsys_python is always in."""
    mods = [t for t in all_targets if re.match(r"^(mlsys|pa\d+)_python$", t)]
    if scopes is not None:
        mods = [t for t in mods if t == "mlsys_python" or t.split("_")[0] in scopes]
    return mods


def scope_of_test_folder(folder: Path) -> str:
    """common/tests/python -> 'common', pa1_autodiff/tests/python -> 'pa1'."""
    return folder.parent.parent.name.split("_")[0]


def targets_for_tests(tests: List[dict], all_targets: Sequence[str]) -> Tuple[Optional[List[str]], str]:
    """(targets, why): the targets that the CTest tests ``tests`` (`--show-only=json-v1`
    entries) run, or (None, why) when one of them needs something this cannot tell (then
    everything is built). A GoogleTest executable's tests are listed as '<target>_NOT_BUILT'
    until it is built (cmake/MlsysHelpers.cmake labels those placeholders too); afterwards
    their command is the executable, named like its target. A pytest wrapper needs the
    extension modules of its folder's PA."""
    folders = {str(d.resolve()): scope_of_test_folder(d) for d in python_test_dirs(None)}
    known = set(all_targets)
    targets = set()
    for t in tests:
        name, cmd = t.get("name", ""), t.get("command") or []
        if name.endswith("_NOT_BUILT") and name[:-len("_NOT_BUILT")] in known:
            targets.add(name[:-len("_NOT_BUILT")])
            continue
        if cmd and Path(cmd[0]).name in known:
            targets.add(Path(cmd[0]).name)
            continue
        scopes = [folders[str(Path(c).resolve())] for c in cmd if c.startswith("/") and str(Path(c).resolve()) in folders]
        if "pytest" in cmd and scopes:
            targets.update(python_targets(all_targets, scopes))
            continue
        # A launcher (`mpiexec -n 2 /build/.../pa3_task1_mpi_tests`) runs the build's executable
        # named in its arguments.
        launched = [Path(c).name for c in cmd[1:] if c.startswith("/") and Path(c).name in known]
        if launched:
            targets.update(launched)
            continue
        return None, "the test {} needs more than one executable".format(name)
    return sorted(targets), ""


def ctest_tests(bdir: Path, filters: List[str]) -> List[dict]:
    """The CTest tests ``filters`` select (`ctest --show-only=json-v1`)."""
    _, out = run(["ctest", "--test-dir", show_path(bdir), "--show-only=json-v1"] + filters, quiet=True)
    try:
        return json.loads(out[out.index("{"):]).get("tests", [])
    except ValueError:
        return []


def needed_targets(bdir: Path, label_filters: List[str], pytest_scopes: Optional[List[str]],
                   run_python: bool) -> Optional[List[str]]:
    """What a test command must build: the executables of the CTest tests that its label
    filters select, plus the extension modules when pytest runs. None (everything) when no
    label narrows the selection."""
    if not label_filters:
        return None
    all_targets = cmake_targets(bdir)
    targets, why = targets_for_tests(ctest_tests(bdir, label_filters), all_targets)
    if targets is None:
        say("building everything: " + why)
        return None
    if run_python:
        targets = sorted(set(targets) | set(python_targets(all_targets, pytest_scopes)))
    say("building only what the selected tests need: " + (" ".join(targets) or "nothing"))
    return targets


def scope_targets(bdir: Path, scope: str) -> List[str]:
    """`./mlsys build pa1`: every target of that PA (pa1, pa1_*_tests, pa1_python,
    pa1_train_mlp, ...) and the mlsys Python module; `common`: the tensor library's targets."""
    all_targets = cmake_targets(bdir)
    if scope == "common":
        return [t for t in all_targets if t.startswith(("common_", "mlsys"))]
    return [t for t in all_targets if t == scope or t.startswith(scope + "_")] + python_targets(all_targets, [scope])


def cmd_build(args) -> int:
    preset, bdir = configure(args, solution=args.solution)
    compile_targets(args, preset, bdir, scope_targets(bdir, args.scope) if args.scope else None)
    say("built {} of preset '{}' in {}".format(args.scope or "everything", preset, show_path(bdir)))
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
                  regex: Optional[str], exclude_label: Optional[str] = None) -> List[str]:
    """CTest arguments. Several -L must all match (AND); labels are anchored so pa1 != pa10."""
    out: List[str] = []
    if scope:
        out += ["-L", "^{}$".format(scope)]
    if task:
        out += ["-L", "^task{}$".format(re.escape(task))]
    if label:
        out += ["-L", label]
    if exclude_label:
        out += ["-LE", exclude_label]
    if regex:
        out += ["-R", regex]
    return out


def ctest_selection(bdir: Path, filters: List[str]) -> Tuple[List[str], List[str]]:
    """(the CTest tests these filters select, those of them that only run pytest). The latter
    come from mlsys_add_python_test; the CLI runs pytest itself, so it leaves them out."""
    tests = ctest_tests(bdir, filters)
    names = [t["name"] for t in tests]
    # Only wrappers of the folders run_pytest runs (common/tests/python, paN_*/tests/python);
    # other pytest-driven CTest tests (the grader's end-to-end tests) run through CTest.
    folders = {str(d.resolve()) for d in python_test_dirs(None)}
    wrappers = [t["name"] for t in tests
                if "pytest" in [Path(c).name for c in t.get("command", [])]
                and any(str(Path(c).resolve()) in folders for c in t.get("command", []) if c.startswith("/"))]
    return names, wrappers


def run_ctest(bdir: Path, filters: List[str], preset: str, args, skip_pytest: bool) -> Tuple[str, int]:
    """('passed'|'FAILED'|'none', number of tests). skip_pytest leaves out the CTest tests that
    only wrap pytest (so they do not run twice)."""
    names, wrappers = ctest_selection(bdir, filters)
    if skip_pytest and wrappers:
        say("ctest: leaving out {} (the Python tests run with pytest below)".format(", ".join(wrappers)))
        names = [n for n in names if n not in wrappers]
        filters = filters + ["-E", "^({})$".format("|".join(re.escape(w) for w in wrappers))]
    if not names:
        say("ctest: no test matches these filters")
        return "none", 0
    env = ASAN_ENV if preset == "asan" else None
    rc, _ = run(["ctest", "--test-dir", show_path(bdir), "--output-on-failure", "-j", str(jobs(args))]
                + filters, env=env)
    return ("passed" if rc == 0 else "FAILED"), len(names)


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
    cmd = [sys.executable, "-m", "pytest", "-ra", "-p", "no:cacheprovider"] + [show_path(d) for d in dirs]
    if keys:
        cmd += ["-k", " and ".join(keys)]
    pythonpath = os.pathsep.join(p for p in [show_path(bdir / "python"), os.environ.get("PYTHONPATH")] if p)
    rc, _ = run(cmd, env={"PYTHONPATH": pythonpath, "PYTHONDONTWRITEBYTECODE": "1",
                          "MLSYS_BUILD_DIR": show_path(bdir)})
    if rc == 5:  # pytest: nothing collected
        say("pytest: no test matches these filters")
        return "none"
    return "passed" if rc == 0 else "FAILED"


def build_and_test(args, solution: bool, scope: Optional[str] = None, task: Optional[str] = None,
                   label: Optional[str] = None, python: bool = True, ctest: bool = True) -> bool:
    """Build one preset and run its selected tests. Prints the one-line summary; returns success."""
    start = time.time()
    parts: List[str] = []
    ok = True
    preset = choose_preset(args, solution)
    exclude = getattr(args, "exclude_label", None)
    try:
        preset, bdir = configure(args, solution, pip_modules=PIP_REQUIRED if python else ("numpy",))
        filters = ctest_filters(scope, task, label, args.k, exclude)
        ran_any = False
        # pytest runs directly (its own output, -k for tasks) except under ASan, whose module
        # only loads with the runtime preloaded: there CTest's pytest wrappers (which preload
        # it) run instead. With --label, CTest's selection decides too (e.g. --label python).
        direct_pytest = python and preset != "asan" and not label
        # Build only what the selected tests run (a PA1 task: PA1's library and that task's
        # test executables, not PA2's CUDA kernels); -k alone narrows nothing before the build.
        targets = None
        if not getattr(args, "build_all", False):
            targets = needed_targets(bdir, ctest_filters(scope, task, label, None, exclude),
                                     [scope] if scope else None, run_python=direct_pytest)
        compile_targets(args, preset, bdir, targets)
        if ctest:
            result, count = run_ctest(bdir, filters, preset, args, skip_pytest=direct_pytest or not python)
            parts.append("ctest {} ({} tests)".format(result, count) if count else "ctest: no test matched")
            ok &= result != "FAILED"
            ran_any |= result != "none"
        if python and preset == "asan":
            parts.append("pytest only through CTest (an ASan module needs the runtime preloaded)")
        elif python and label:
            parts.append("pytest only through CTest (--label filters CTest)")
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
    """Staff gate: the untouched student files must fail each PA's C++ tests only with
    mlsys::NotImplemented (no crash, no hang, no other failure, no silently passing task)."""
    bdir = build_root() / ("solution" if getattr(args, "student_in_solution_dir", False) else "student")
    return run([sys.executable, str(Path("tools") / "check_student_stubs.py"), show_path(bdir)])[0] == 0


# Under ASan + UBSan the gate runs the tensor library's tests and PA1's public and hidden tests
# with the reference solutions (the node pool, the executor's slot reuse, node destruction),
# C++ and Python. Left out: GPU tests (no CUDA under ASan), the notebook and the grader's tests
# (they build their own trees).
ASAN_GATE_LABELS = "^(common|pa1)$"
ASAN_GATE_EXCLUDE = "^(gpu|notebook|grader)$"


def gate_venv_env(venv: Path) -> Dict[str, str]:
    """The environment of a process that runs inside ``venv`` as if it were activated, with
    nothing from the outside Python setup (PYTHONPATH, PYTHONHOME, user site) leaking in."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONUSERBASE", "PYTHONSTARTUP", "CONDA_PREFIX")}
    env.update({"VIRTUAL_ENV": str(venv), "PATH": str(venv / "bin") + os.pathsep + env.get("PATH", ""),
                "PYTHONNOUSERSITE": "1", GATE_VENV_VAR: str(venv)})
    return env


def run_gate_in_venv(args) -> int:
    """The staff gate's Python side runs in a virtualenv it makes itself (build/venv-gate), with
    exactly the packages of PIP_REQUIRED + PIP_NOTEBOOKS pip-installed into it: a package the
    setup forgets fails the gate here, whatever was installed by hand on the machine. First the
    apt packages (python3-venv among them) as `./mlsys setup` installs them; then this CLI runs
    again with the venv's Python, which CMake is configured with (-DPython_EXECUTABLE)."""
    ensure_deps((), verbose=True)
    venv = build_root() / "venv-gate"
    py = venv / "bin" / "python"
    if args.keep_venv and py.exists() and subprocess.call(
            [str(py), "-c", "import " + ", ".join(PIP_ALL)], stderr=subprocess.DEVNULL) == 0:
        say("staff gate: reusing the virtualenv {} (--keep-venv)".format(show_path(venv)))
    else:
        if venv.exists():
            shutil.rmtree(str(venv))
        say("staff gate: a fresh virtualenv {} with exactly: {}".format(show_path(venv), " ".join(PIP_ALL)))
        if run([sys.executable, "-m", "venv", show_path(venv)])[0] != 0:
            raise Failed("could not create the virtualenv {} (Debian/Ubuntu: apt-get install python3-venv; "
                         "`./mlsys setup` installs it)".format(show_path(venv)))
        pip = [show_path(py), "-m", "pip", "install", "--disable-pip-version-check", "--no-input"]
        if run(pip + PIP_ALL, env={"PIP_USER": "0", "PYTHONNOUSERSITE": "1"})[0] != 0:
            raise Failed("pip could not install {} into {} (see above)".format(" ".join(PIP_ALL), show_path(venv)))
    cmd = [show_path(py), str(Path("tools") / "mlsys_cli.py")] + list(args.argv)
    print("$ " + GATE_VENV_VAR + "=" + show_path(venv) + " PATH=" + show_path(venv / "bin") + ":$PATH "
          + " ".join(shlex.quote(c) for c in cmd), flush=True)
    return subprocess.call(cmd, cwd=str(REPO), env=gate_venv_env(venv))


def staff_gate(args) -> int:
    """The full staff check: stubs (markers, drift, leaks) and the tools' own tests, solution
    build + all tests, student build + common tests, ASan build + the common and PA1 tests.
    Every step runs; the closing table says which failed. Outside the gate's virtualenv it
    makes that first and runs itself again inside it."""
    if not os.environ.get(GATE_VENV_VAR) and not args.no_venv:
        return run_gate_in_venv(args)
    say("staff gate: Python {} ({})".format(sys.executable, sys.version.split()[0]))
    python = not args.no_python
    ctest = not args.python_only
    stubs = [sys.executable, str(Path("tools") / "stubs.py")]

    def step_stubs() -> bool:
        results = [run(stubs + ["check-markers"])[0], run(stubs + ["generate", "--check"])[0],
                   run(stubs + ["leak-check", "--staff-tree", "."])[0],
                   run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tools/tests"],
                       env={"PYTHONDONTWRITEBYTECODE": "1"})[0]]
        return results == [0, 0, 0, 0]

    def step_solution() -> bool:
        solution = argparse.Namespace(**dict(vars(args), build_all=True))
        return build_and_test(solution, True, python=python, ctest=ctest)

    def step_student() -> bool:
        # Everything is built: check_student_stubs runs every PA's test executables.
        student = argparse.Namespace(**dict(vars(args), student_in_solution_dir=True, build_all=True))
        ok = build_and_test(student, False, scope="common", python=python, ctest=ctest)
        return check_student_stubs(student) and ok

    def step_asan() -> bool:
        asan = argparse.Namespace(**dict(vars(args), preset="asan", cuda=None, asan_solutions=True,
                                         exclude_label=ASAN_GATE_EXCLUDE))
        return build_and_test(asan, False, label=ASAN_GATE_LABELS, python=python, ctest=True)

    steps = [
        ("stubs: check-markers, generate --check, leak-check; tools/tests", step_stubs),
        ("solution build, every test", step_solution),
        ("student build, common tests, stubs fail only with NotImplemented", step_student),
        ("asan build (solutions), common and PA1 tests", step_asan),
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
    ok = build_and_test(args, args.solution, args.scope, task, args.label,
                        python=not args.no_python, ctest=not args.python_only)
    return 0 if ok else 1


# ----------------------------------------------------------------------------------------------
# demo, grade, release
# ----------------------------------------------------------------------------------------------

def cmd_demo(args) -> int:
    preset, bdir = build(args, solution=args.solution, targets=["mlsys_demo"])
    demo = bdir / "common" / "mlsys_demo"
    if not demo.is_file():
        say("error: {} was not built. The demo comes from common/bench (target mlsys_demo); "
            "check that common/bench/CMakeLists.txt defines it.".format(show_path(demo)))
        return 1
    return run([show_path(demo)] + args.demo_args)[0]


def grader_binary(args) -> Path:
    """Builds the grader on its own (`cmake -S autograder`): quick, and independent of the PA
    code it grades. Returns the mlsys_grade executable."""
    bdir = build_root() / "grader-tool"
    steps = [["cmake", "-S", "autograder", "-B", show_path(bdir), "-DCMAKE_BUILD_TYPE=Release"],
             ["cmake", "--build", show_path(bdir), "-j", str(jobs(args)), "--target", "mlsys_grade"]]
    for cmd in steps:
        rc, out = run(cmd, quiet=True)
        if rc != 0:
            print(out)
            raise Failed("could not build the grader (see above)")
    return bdir / "mlsys_grade"


def user_path(p: str) -> str:
    """A path the user typed, made absolute (commands run in the repo root)."""
    return str(Path(p).expanduser().resolve())


def cmd_grade(args) -> int:
    ensure_deps(())
    rubric = REPO / "autograder" / "rubrics" / (args.pa + ".json")
    if not rubric.is_file():
        raise Failed("{} has no rubric yet ({} is missing)".format(args.pa, show_path(rubric)))
    grader = show_path(grader_binary(args))
    if args.batch:
        if not args.out:
            raise Failed("--batch DIR needs --out OUTDIR (one results folder per submission and scores.csv)")
        cmd = [grader, "batch", "--tree", ".", "--rubric", show_path(rubric), "--submissions", user_path(args.batch),
               "--out", user_path(args.out), "--parallel", str(args.parallel or 1)]
        if args.jobs:
            cmd += ["--jobs", str(args.jobs)]
        if args.only:
            cmd += ["--only", args.only]
        return run(cmd)[0]
    if args.parallel:
        raise Failed("--parallel is for --batch")
    cmd = [grader, "grade", "--tree", ".", "--rubric", show_path(rubric), "--jobs", str(jobs(args))]
    if args.submission:
        cmd += ["--submission", user_path(args.submission)]
    if args.solution:
        cmd += ["--solution"]
    if args.local:
        cmd += ["--local"]
    if args.format:
        cmd += ["--format", args.format]
    if args.out:
        cmd += ["--out", user_path(args.out)]
    if args.summary:
        cmd += ["--markdown", user_path(args.summary)]
    if args.expect:
        cmd += ["--expect", args.expect]
    if args.skip_performance:
        cmd += ["--skip-performance"]
    if args.only:
        cmd += ["--only", args.only]
    return run(cmd)[0]


def cmd_release(args) -> int:
    if not STAFF_TREE:
        raise Failed("release needs the staff tree (this checkout has no solutions/)")
    ensure_deps(())
    grader = grader_binary(args)
    out = user_path(args.out) if args.out else show_path(build_root() / "release")
    cmd = [sys.executable, "autograder/release.py", "--grader", show_path(grader), "--out", out]
    if args.repo_url:
        cmd += ["--repo-url", args.repo_url]
    for pa in args.pa or []:
        cmd += ["--pa", pa]
    return run(cmd)[0]


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
               "  ./mlsys test pa1 --task 2.2    build PA1, then run the tests of PA1 Task 2.2\n"
               "  ./mlsys test                   staff tree: the full staff gate; student release: all public tests\n"
               "  ./mlsys test --solution pa2    staff: the reference solutions' PA2 tests\n"
               "  ./mlsys test pa1 --cuda off    no CUDA (its own folder, build/student-nocuda)\n"
               "  ./mlsys demo                   build and run the tensor-library demo\n"
               "  ./mlsys grade pa1              the score the grader gives your files\n"
               "  ./mlsys release                staff: the student repo and the Gradescope zips\n\n"
               "environment: MLSYS_BUILD_ROOT (default <repo>/build; each configuration builds in its\n"
               "own subfolder: student, student-nocuda, solution, ...), MLSYS_JOBS (parallel jobs),\n"
               "MLSYS_CUDA_ARCHITECTURES (e.g. 75 for a T4; default: the visible GPU, else 75 through 90).\n"
               "Details: docs/TOOLS.md.")
    sub = ap.add_subparsers(dest="cmd", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("setup", formatter_class=fmt, help="install what is missing (apt, pip)",
                       description="Install what is missing, idempotently:\n  apt: " + " ".join(APT_PACKAGES) +
                       "\n  (plus python3-pip when pip is missing; apt-get update only when\n"
                       "  something is installed; as root, else with sudo, else prints the command)\n"
                       "  pip, for " + sys.executable + ": " + " ".join(PIP_ALL) +
                       "\n  (--break-system-packages only when pip refuses because of PEP 668)")
    p.set_defaults(fn=cmd_setup)

    p = sub.add_parser("build", help="configure and build one preset",
                       description="Check dependencies (installing what is missing), configure with "
                                   "`cmake --preset P -B $MLSYS_BUILD_ROOT/<config>` (<config>: P, or "
                                   "P-nocuda with --cuda off), build with all cores: one PA's targets "
                                   "(paN_* and the Python modules) or everything.")
    p.add_argument("scope", nargs="?", choices=["pa1", "pa2", "pa3", "common"],
                   help="only this PA's targets (default: everything)")
    add_build_options(p, "build the reference solutions (preset 'solution'; staff tree only)")
    p.set_defaults(fn=cmd_build)

    p = sub.add_parser("test", formatter_class=fmt, help="build, then run CTest and pytest",
                       description="Build what the selected tests need (their test executables and, for\n"
                                   "pytest, the Python modules), then run CTest (by labels) and pytest\n"
                                   "(common/tests/python, paN_*/tests/python) with PYTHONPATH=<build>/python.\n\n"
                                   "Without a PA, task, label or -k: in the staff tree (solutions/ exists) the\n"
                                   "full staff gate runs, in a virtualenv it makes (build/venv-gate, exactly the\n"
                                   "pip packages setup installs): (1) stubs.py check-markers, generate --check,\n"
                                   "leak-check, tools/tests, (2) solution build + every test, (3) student build +\n"
                                   "the 'common' tests, (4) asan build of the solutions + the common and PA1 tests;\n"
                                   "in a student release, the student build and every public test. Otherwise the\n"
                                   "student build (or --solution) runs the selected tests.")
    p.add_argument("scope", nargs="?", choices=["pa1", "pa2", "pa3", "common"],
                   help="only this PA's tests (CTest label paN / common)")
    p.add_argument("--task", help="only this task's tests, e.g. 2.2 (CTest label task2.2; pytest names "
                                  "containing task2_2)")
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
    venv = p.add_mutually_exclusive_group()
    venv.add_argument("--keep-venv", action="store_true",
                      help="staff gate: reuse build/venv-gate if it has every package (default: make it afresh)")
    venv.add_argument("--no-venv", action="store_true",
                      help="staff gate: use the Python running this command, no virtualenv")
    p.set_defaults(fn=cmd_test)

    p = sub.add_parser("demo", help="build, then run the tensor-library demo",
                       description="Build (student preset unless --solution/--preset), then run "
                                   "<build>/<preset>/common/mlsys_demo. Arguments after -- go to the demo.")
    add_build_options(p, "use the solution build")
    p.add_argument("demo_args", nargs="*", help="arguments for mlsys_demo (after --)")
    p.set_defaults(fn=cmd_demo)

    p = sub.add_parser("grade", formatter_class=fmt, help="grade a submission like the official grader",
                       description="Build the grader (autograder/, on its own), then grade one PA: stage a pristine\n"
                                   "copy of the tree with the submission's student files, build, run every test case\n"
                                   "in its own sandboxed process, run the benchmarks, print the score table.\n\n"
                                   "Without --submission the tree's own student files are graded. In the staff tree\n"
                                   "tasks are isolated (task k: your files for k, the solutions for the rest) and\n"
                                   "hidden tests run; in a student release grading is local: one build of your files,\n"
                                   "visible tests and performance items only. Work folder: $MLSYS_BUILD_ROOT/grader/<pa>\n"
                                   "(kept: later gradings rebuild only what changed). docs/GRADING.md has the details.",
                       epilog="examples:\n"
                              "  ./mlsys grade pa1                         your files, the score table\n"
                              "  ./mlsys grade pa1 --submission ~/hw.zip   a zip or folder (repo layout or just the files)\n"
                              "  ./mlsys grade pa1 --solution --expect full   staff: the reference solutions\n"
                              "  ./mlsys grade pa1 --batch subs/ --out graded/ --parallel 2   staff: a folder of submissions")
    p.add_argument("pa", choices=["pa1", "pa2", "pa3"], help="the assignment (autograder/rubrics/<pa>.json)")
    what = p.add_mutually_exclusive_group()
    what.add_argument("--submission", metavar="DIR|ZIP", help="grade this folder or zip instead of the tree's files")
    what.add_argument("--solution", action="store_true", help="staff: grade the reference solutions (solutions/)")
    what.add_argument("--batch", metavar="DIR", help="staff: grade every folder and zip in DIR (needs --out OUTDIR)")
    p.add_argument("--format", choices=["table", "gradescope", "classroom", "markdown", "json"],
                   help="what --out gets (default table); the table is printed either way")
    p.add_argument("--out", metavar="FILE", help="write the --format output here (with --batch: a folder)")
    p.add_argument("--summary", metavar="FILE", help="also write the Markdown summary here")
    p.add_argument("--expect", metavar="SCORE|full", help="exit 3 unless the score is this (CI)")
    p.add_argument("--local", action="store_true", help="grade like a student release even in the staff tree")
    p.add_argument("--skip-performance", action="store_true",
                   help="do not run the benchmarks (their items are reported as not measured)")
    p.add_argument("--only", choices=["gpu", "cpu"],
                   help="grade only the GPU items (requires_gpu) or only the others; staff join the two with "
                        "mlsys_grade merge (docs/GRADING.md)")
    p.add_argument("--jobs", "-j", type=int, help="parallel builds and test runs (default: $MLSYS_JOBS or all cores)")
    p.add_argument("--parallel", type=int, help="with --batch: submissions graded at once (default 1)")
    p.set_defaults(fn=cmd_grade)

    p = sub.add_parser("release", help="staff: write the student repo and the Gradescope zips",
                       description="Staff tree only. Checks the rubrics and that the student files match their "
                                   "solutions/ twins, then writes OUT/student (the repo students get: no solutions/, "
                                   "no hidden tests, public rubrics, a GitHub Classroom workflow) and "
                                   "OUT/gradescope/<pa>.zip (setup.sh, run_autograder, the full course tree), and "
                                   "leak-checks the student repo. Default OUT: $MLSYS_BUILD_ROOT/release. "
                                   "See docs/GRADING.md.")
    p.add_argument("--out", metavar="DIR", help="where to write (default build/release)")
    p.add_argument("--repo-url", metavar="URL",
                   help="the student repository's clone URL (default: repo_url in course.json); written "
                        "into the notebooks and the README")
    p.add_argument("--pa", action="append", choices=["pa1", "pa2", "pa3"],
                   help="only this PA's Gradescope zip (repeatable; default: every rubric)")
    p.add_argument("--jobs", "-j", type=int, help="parallel jobs for building the grader")
    p.set_defaults(fn=cmd_release)
    return ap


def main(argv: Optional[List[str]] = None) -> int:
    ap = parser()
    args, unknown = ap.parse_known_args(argv)
    if unknown:
        ap.error("unrecognized arguments: " + " ".join(unknown))
    args.argv = list(sys.argv[1:] if argv is None else argv)
    try:
        return args.fn(args)
    except Failed as e:
        say("error: " + str(e))
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
