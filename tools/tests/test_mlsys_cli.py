"""Tests of tools/mlsys_cli.py that need no build of the course: which targets a test selection
builds, the build folder of each configuration, the help text's example, and the label that
cmake/MlsysHelpers.cmake puts on a not-yet-built test executable (a tiny CMake project)."""

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

TOOLS = Path(__file__).resolve().parent.parent
REPO = TOOLS.parent
sys.path.insert(0, str(TOOLS))
import mlsys_cli as cli  # noqa: E402

ALL_TARGETS = ["mlsys", "mlsys_testing", "mlsys_python", "common_ops_tests", "pa1", "pa1_python",
               "pa1_task2_1_tests", "pa1_task2_2_tests", "pa1_train_mlp", "pa2_cpu", "pa2_gpu",
               "pa2_task2_1_tests"]


def gtest(name, exe):
    return {"name": name, "command": ["/b/x/" + exe, "--gtest_filter=" + name]}


def pytest_wrapper(name, folder):
    return {"name": name, "command": ["/venv/bin/python", "-m", "pytest", "-q", "-k", "task2_1",
                                      str(REPO / folder)]}


def test_not_built_placeholders_and_built_executables_map_to_their_targets():
    tests = [{"name": "pa1_task2_1_tests_NOT_BUILT", "command": ["pa1_task2_1_tests_NOT_BUILT"]},
             gtest("Task2_2_Gradients.Chain", "pa1_task2_2_tests")]
    assert cli.targets_for_tests(tests, ALL_TARGETS) == (["pa1_task2_1_tests", "pa1_task2_2_tests"], "")


def test_a_pytest_wrapper_needs_the_modules_of_its_pa_only():
    targets, _ = cli.targets_for_tests([pytest_wrapper("pa1_python_task2_1", "pa1_autodiff/tests/python")],
                                       ALL_TARGETS)
    assert targets == ["mlsys_python", "pa1_python"]
    targets, _ = cli.targets_for_tests([pytest_wrapper("common_python", "common/tests/python")], ALL_TARGETS)
    assert targets == ["mlsys_python"]


def test_a_test_of_unknown_needs_builds_everything():
    notebook = {"name": "pa1_notebook", "command": ["/venv/bin/python", "tools/run_notebook.py",
                                                    "handouts/notebooks/pa1.ipynb"]}
    targets, why = cli.targets_for_tests([gtest("A.b", "pa1_task2_1_tests"), notebook], ALL_TARGETS)
    assert targets is None and "pa1_notebook" in why


def test_an_mpi_launcher_needs_the_executable_it_runs():
    mpi = {"name": "pa1_task2_1_mpi_n2", "command": ["/usr/bin/mpiexec", "--oversubscribe", "-n", "2",
                                                     "/b/x/pa1_task2_1_tests", "--world", "2"]}
    assert cli.targets_for_tests([mpi, gtest("A.b", "pa1_task2_2_tests")], ALL_TARGETS) == \
        (["pa1_task2_1_tests", "pa1_task2_2_tests"], "")


def test_python_targets_by_scope():
    assert cli.python_targets(ALL_TARGETS + ["pa2_python"], ["pa1"]) == ["mlsys_python", "pa1_python"]
    assert cli.python_targets(ALL_TARGETS + ["pa2_python"], None) == ["mlsys_python", "pa1_python", "pa2_python"]
    assert cli.python_targets(ALL_TARGETS, ["common"]) == ["mlsys_python"]


def args(argv):
    a = cli.parser().parse_args(argv)
    a.argv = argv
    return a


@pytest.mark.parametrize("argv, solution, folder", [
    (["test", "pa1"], False, "student"),
    (["test", "pa1", "--cuda", "off"], False, "student-nocuda"),
    (["test", "pa1", "--cuda", "auto"], False, "student"),
    (["test", "pa1", "--solution", "--cuda", "off"], True, "solution-nocuda"),
    (["test", "pa1", "--cuda", "on"], False, "cuda-student"),
    (["test", "--preset", "asan", "--cuda", "off"], False, "asan"),
])
def test_each_configuration_has_its_own_build_folder(argv, solution, folder):
    a = args(argv)
    assert cli.config_name(a, cli.choose_preset(a, solution)) == folder


def test_ctest_filters_anchor_labels_and_exclude():
    assert cli.ctest_filters("pa1", "2.1", None, None, "^(gpu)$") == [
        "-L", "^pa1$", "-L", r"^task2\.1$", "-LE", "^(gpu)$"]


def test_help_examples_use_tasks_that_exist():
    # PA1's tasks are listed in its rubric; every `--task X` example of `./mlsys --help` for
    # pa1 must name one of them.
    rubric = json.loads((REPO / "autograder" / "rubrics" / "pa1.json").read_text())
    tasks = {str(t["id"]) for t in rubric["tasks"]}
    text = cli.parser().format_help()
    examples = [line for line in text.splitlines() if "pa1 --task" in line]
    assert examples
    for line in examples:
        task = line.split("--task")[1].split()[0]
        assert task in tasks, (line, sorted(tasks))


def test_the_gate_venv_sees_nothing_from_outside(monkeypatch, tmp_path):
    monkeypatch.setenv("PYTHONPATH", "/somewhere/hand-installed")
    monkeypatch.setenv("PATH", "/usr/bin")
    env = cli.gate_venv_env(tmp_path)
    assert "PYTHONPATH" not in env
    assert env["PATH"].split(":")[0] == str(tmp_path / "bin")
    assert env["VIRTUAL_ENV"] == str(tmp_path) and env[cli.GATE_VENV_VAR] == str(tmp_path)


def test_inside_the_gate_venv_a_missing_pip_package_fails_instead_of_being_installed(monkeypatch):
    monkeypatch.setenv(cli.GATE_VENV_VAR, "/tmp/venv-gate")
    monkeypatch.setattr(cli.shutil, "which", lambda name: None)  # no dpkg: skip apt
    installs = []
    monkeypatch.setattr(cli, "install_pip", lambda mods: installs.append(mods))
    with pytest.raises(cli.Failed, match="no_such_module_mlsys"):
        cli.ensure_deps(["no_such_module_mlsys"])
    assert installs == []


@pytest.mark.skipif(shutil.which("cmake") is None, reason="needs cmake")
def test_a_not_built_gtest_executable_carries_its_labels(tmp_path):
    """mlsys_add_test labels the <name>_NOT_BUILT placeholder CTest lists before the build, so
    that the CLI selects by labels what to build."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "t.cpp").write_text("int main() { return 0; }\n")
    (src / "CMakeLists.txt").write_text(textwrap.dedent("""\
        cmake_minimum_required(VERSION 3.22)
        project(labels LANGUAGES CXX)
        enable_testing()
        include({helpers})
        add_library(mlsys_testing INTERFACE)
        mlsys_add_test(demo_task_tests SOURCES t.cpp LABELS "pa9;task1.1")
        mlsys_add_test(other_tests SOURCES t.cpp LABELS "pa9;graph")
        """.format(helpers=(REPO / "cmake" / "MlsysHelpers.cmake").as_posix())))
    r = subprocess.run(["cmake", "-S", str(src), "-B", str(tmp_path / "b")], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, universal_newlines=True)
    assert r.returncode == 0, r.stdout
    out = subprocess.run(["ctest", "--test-dir", str(tmp_path / "b"), "--show-only=json-v1",
                          "-L", "^pa9$", "-L", r"^task1\.1$"], stdout=subprocess.PIPE,
                         universal_newlines=True, check=True).stdout
    tests = json.loads(out)["tests"]
    assert [t["name"] for t in tests] == ["demo_task_tests_NOT_BUILT"]
    assert cli.targets_for_tests(tests, ["demo_task_tests", "other_tests"]) == (["demo_task_tests"], "")


def test_selected_targets_build_through_one_make_over_makefile2(tmp_path):
    # `cmake --build --target a b` builds a and b one after the other with Makefiles; the CLI
    # hands Makefile2's per-target rules to one make instead, so they build in parallel.
    (tmp_path / "CMakeFiles").mkdir()
    (tmp_path / "CMakeFiles" / "Makefile2").write_text(
        "pa1_autodiff/tests/CMakeFiles/pa1_task2_1_tests.dir/all: common/CMakeFiles/mlsys.dir/all\n"
        "common/CMakeFiles/mlsys.dir/all:\n"
        "CMakeFiles/top_level.dir/all:\n")
    assert cli.makefile_rules(tmp_path, ["pa1_task2_1_tests", "mlsys", "top_level"]) == [
        "pa1_autodiff/tests/CMakeFiles/pa1_task2_1_tests.dir/all", "common/CMakeFiles/mlsys.dir/all",
        "CMakeFiles/top_level.dir/all"]
    assert cli.makefile_rules(tmp_path, ["pa1_task2_1_tests", "no_such_target"]) is None
    assert cli.makefile_rules(tmp_path / "ninja-build", ["mlsys"]) is None
