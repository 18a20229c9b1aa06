"""Tests of tools/stubs.py on small fake repos built in tmp_path."""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

TOOLS = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(TOOLS))
import stubs  # noqa: E402

# ----------------------------------------------------------------------------------------------
# Fixtures: a fake staff repo
# ----------------------------------------------------------------------------------------------

OPS_SOLUTION = textwrap.dedent("""\
    // pa1_autodiff/src/ops.cpp — PA1 Tasks 2.3 and 2.4. Edit only the marked regions.
    #include "pa1/ops.h"

    namespace pa1 {

    Tensor matmul_backward(const Tensor& grad_out, const Tensor& a) {
      // BEGIN SOLUTION PA1 Task 2.3
      Tensor grad_a = mlsys::matmul(grad_out, mlsys::transpose(a, -1, -2));
      return grad_a;
      // END SOLUTION
    }

    float relu_scale(float x) {
        // BEGIN SOLUTION PA1 Task 2.4
        const float slope_for_negative_inputs = 0.0f;
        return x > 0 ? x : slope_for_negative_inputs * x;
        // END SOLUTION
    }

    }  // namespace pa1
    """)

KERNEL_SOLUTION = textwrap.dedent("""\
    __global__ void add_kernel(const float* a, const float* b, float* out, int n) {
      // BEGIN SOLUTION PA2 Task 3.1 device
      const int idx = blockIdx.x * blockDim.x + threadIdx.x;
      if (idx < n) out[idx] = a[idx] + b[idx];
      // END SOLUTION
    }
    """)

TRAIN_SOLUTION = textwrap.dedent("""\
    def train(model, data):
        for epoch in range(3):
            # BEGIN SOLUTION PA1 Task 4
            total_loss_for_this_epoch = sum(model.step(batch) for batch in data)
            # END SOLUTION
        return model
    """)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def repo(tmp_path):
    """A staff repo with a C++, a CUDA and a Python solution file, student files generated."""
    root = tmp_path / "repo"
    write(root / "solutions/pa1_autodiff/src/ops.cpp", OPS_SOLUTION)
    write(root / "solutions/pa2_kernels/src/cuda/add.cu", KERNEL_SOLUTION)
    write(root / "solutions/pa1_autodiff/python/train.py", TRAIN_SOLUTION)
    for d in ("pa1_autodiff/src", "pa2_kernels/src/cuda", "pa1_autodiff/python"):
        (root / d).mkdir(parents=True, exist_ok=True)
    assert stubs.generate(root) == 0
    return root


def run_cli(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(TOOLS / "stubs.py"), "--root", str(root), *args],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)


# ----------------------------------------------------------------------------------------------
# generate
# ----------------------------------------------------------------------------------------------

def test_generate_cpp_host_region(repo):
    text = (repo / "pa1_autodiff/src/ops.cpp").read_text(encoding="utf-8")
    assert "// TODO(student): PA1 Task 2.3 \u2014 see handouts/pa1.md#task-23\n" in text
    assert ('  throw mlsys::NotImplemented("PA1 Task 2.3", "pa1_autodiff/src/ops.cpp", '
            '"handouts/pa1.md#task-23");\n') in text
    assert "BEGIN SOLUTION" not in text and "END SOLUTION" not in text
    assert "grad_a" not in text
    # Everything outside the regions is verbatim.
    assert text.startswith("// pa1_autodiff/src/ops.cpp — PA1 Tasks 2.3 and 2.4.")
    assert "Tensor matmul_backward(const Tensor& grad_out, const Tensor& a) {\n  // TODO" in text
    assert text.endswith("}  // namespace pa1\n")


def test_generate_keeps_indentation(repo):
    lines = (repo / "pa1_autodiff/src/ops.cpp").read_text(encoding="utf-8").splitlines()
    todo = [l for l in lines if "TODO(student): PA1 Task 2.4" in l]
    throw = [l for l in lines if 'NotImplemented("PA1 Task 2.4"' in l]
    assert todo and todo[0].startswith("    // TODO")  # 4 spaces, like its BEGIN marker
    assert throw and throw[0].startswith("    throw ")
    assert "handouts/pa1.md#task-24" in throw[0]


def test_generate_device_region_is_only_a_comment(repo):
    text = (repo / "pa2_kernels/src/cuda/add.cu").read_text(encoding="utf-8")
    assert text == ("__global__ void add_kernel(const float* a, const float* b, float* out, int n) {\n"
                    "  // TODO(student): PA2 Task 3.1 \u2014 see handouts/pa2.md#task-31\n"
                    "}\n")


def test_generate_python_region(repo):
    text = (repo / "pa1_autodiff/python/train.py").read_text(encoding="utf-8")
    assert ('        raise NotImplementedError("PA1 Task 4 is not implemented yet '
            '(pa1_autodiff/python/train.py; see handouts/pa1.md#task-4)")\n') in text
    assert "total_loss" not in text and "# BEGIN" not in text


def test_generate_text_api_and_anchor():
    src = "void f() {\n  // BEGIN SOLUTION PA3 Task 10.12\n  x();\n  // END SOLUTION\n}\n"
    out = stubs.generate_text(src, "pa3_parallelism/src/f.cpp")
    assert "handouts/pa3.md#task-1012" in out
    assert stubs.parse_task_id("PA3 Task 10.12").label == "task10.12"
    assert stubs.parse_task_id("PA1 Task 4").handout == "handouts/pa1.md#task-4"


def test_generate_preserves_crlf_and_missing_final_newline():
    src = "a\r\n  // BEGIN SOLUTION PA1 Task 1\r\n  x();\r\n  // END SOLUTION\r\nb"
    out = stubs.generate_text(src, "pa1_autodiff/src/a.cpp")
    assert out.startswith("a\r\n  // TODO(student): PA1 Task 1")
    assert out.endswith("NotImplemented(\"PA1 Task 1\", \"pa1_autodiff/src/a.cpp\", "
                        "\"handouts/pa1.md#task-1\");\r\nb")


def test_generate_is_idempotent_and_creates_missing_files(repo):
    (repo / "pa1_autodiff/src/ops.cpp").unlink()
    assert stubs.generate(repo) == 0
    before = (repo / "pa1_autodiff/src/ops.cpp").read_text(encoding="utf-8")
    assert stubs.generate(repo) == 0
    assert (repo / "pa1_autodiff/src/ops.cpp").read_text(encoding="utf-8") == before


def test_file_without_regions_is_copied_with_warning(repo, capsys):
    write(repo / "solutions/pa1_autodiff/src/helpers.cpp", "int helper() { return 1; }\n")
    assert stubs.generate(repo) == 0
    assert "warning: solutions/pa1_autodiff/src/helpers.cpp has no BEGIN SOLUTION" in capsys.readouterr().out
    assert (repo / "pa1_autodiff/src/helpers.cpp").read_text() == "int helper() { return 1; }\n"


def test_solution_without_twin_directory_is_an_error(repo, capsys):
    write(repo / "solutions/pa9_typo/src/x.cpp", "int x;\n")
    assert stubs.generate(repo) == 1
    assert "pa9_typo/src/x.cpp would be in a directory that does not exist" in capsys.readouterr().out
    assert not (repo / "pa9_typo").exists()


def test_find_regions_and_list(repo):
    regions = stubs.find_regions(repo / "solutions/pa1_autodiff/src/ops.cpp")
    assert [(str(r.task), r.begin, r.end, r.kind) for r in regions] == [
        ("PA1 Task 2.3", 7, 10, None), ("PA1 Task 2.4", 14, 17, None)]
    out = run_cli(repo, "list").stdout
    assert "solutions/pa1_autodiff/src/ops.cpp:7-10  PA1 Task 2.3" in out
    assert "solutions/pa2_kernels/src/cuda/add.cu:2-5  PA2 Task 3.1 (device)" in out
    js = run_cli(repo, "list", "--json").stdout
    assert '"label": "task3.1"' in js and '"kind": "device"' in js


# ----------------------------------------------------------------------------------------------
# drift
# ----------------------------------------------------------------------------------------------

def test_no_false_drift(repo):
    r = run_cli(repo, "generate", "--check")
    assert r.returncode == 0, r.stdout
    assert "up to date" in r.stdout


def test_drift_detected_in_edited_student_file(repo):
    student = repo / "pa1_autodiff/src/ops.cpp"
    student.write_text(student.read_text(encoding="utf-8").replace("namespace pa1 {", "namespace pa1 {\n// edit"),
                       encoding="utf-8")
    r = run_cli(repo, "generate", "--check")
    assert r.returncode == 1
    assert "drift: pa1_autodiff/src/ops.cpp" in r.stdout
    assert "-// edit" in r.stdout  # the diff excerpt
    assert "run python3 tools/stubs.py generate" in r.stdout
    assert "// edit" in student.read_text(encoding="utf-8")  # --check writes nothing


def test_drift_detected_when_solution_changes_or_twin_missing(repo):
    sol = repo / "solutions/pa1_autodiff/python/train.py"
    sol.write_text(sol.read_text().replace("range(3)", "range(5)"))
    (repo / "pa2_kernels/src/cuda/add.cu").unlink()
    r = run_cli(repo, "generate", "--check")
    assert r.returncode == 1
    assert "drift: pa1_autodiff/python/train.py differs" in r.stdout
    assert "drift: pa2_kernels/src/cuda/add.cu is missing" in r.stdout
    assert "2 student file(s) out of date" in r.stdout


# ----------------------------------------------------------------------------------------------
# check-markers
# ----------------------------------------------------------------------------------------------

def markers(tmp_path, relpath, text):
    root = tmp_path / "m"
    write(root / "solutions" / relpath, text)
    (root / relpath).parent.mkdir(parents=True, exist_ok=True)
    return stubs.check_markers(root)


def test_check_markers_ok(repo):
    assert stubs.check_markers(repo) == []
    assert run_cli(repo, "check-markers").returncode == 0


@pytest.mark.parametrize("text, message, line", [
    ("// BEGIN SOLUTION PA1 Task 1\nx();\n", "BEGIN SOLUTION without an END SOLUTION", 1),
    ("// BEGIN SOLUTION PA1 Task 1\n// BEGIN SOLUTION PA1 Task 2\n// END SOLUTION\n",
     "nested BEGIN SOLUTION", 2),
    ("x();\n// END SOLUTION\n", "END SOLUTION without a BEGIN SOLUTION", 2),
    ("// BEGIN SOLUTION PA1 Task two\n// END SOLUTION\n", "bad task id", 1),
    ("// BEGIN SOLUTION Task 2.3\n// END SOLUTION\n", "bad task id", 1),
    ("// BEGIN SOLUTION pa1 task 2.3\n// END SOLUTION\n", "bad task id", 1),
    ("// BEGIN SOLUTION PA1 Task 2.3 kernel\n// END SOLUTION\n", "bad task id", 1),
    ("// BEGIN SOLUTION PA1 Task 2.3 device\n// END SOLUTION\n", "'device' regions", 1),
    ("// BEGIN SOLUTION PA2 Task 1\n// END SOLUTION\n", "task PA2 Task 1 in a file of pa1", 1),
    ("// BEGIN_SOLUTION PA1 Task 1\n", "malformed marker", 1),
    ("x(); // BEGIN SOLUTION PA1 Task 1\n", "malformed marker", 1),
    ("# BEGIN SOLUTION PA1 Task 1\n# END SOLUTION\n", "must start with '//'", 1),
    ("// BEGIN SOLUTION PA1 Task 1\n// END SOLUTION PA1 Task 2\n", "may only repeat", 2),
])
def test_check_markers_malformed(tmp_path, text, message, line):
    problems = markers(tmp_path, "pa1_autodiff/src/a.cpp", text)
    assert any(p.startswith("solutions/pa1_autodiff/src/a.cpp:{}:".format(line)) and message in p
               for p in problems), problems


def test_end_may_repeat_its_task_id(tmp_path):
    assert markers(tmp_path, "pa1_autodiff/src/a.cpp",
                   "// BEGIN SOLUTION PA1 Task 1\n// END SOLUTION PA1 Task 1\n") == []


def test_python_marker_must_use_hash(tmp_path):
    problems = markers(tmp_path, "pa1_autodiff/python/a.py", "// BEGIN SOLUTION PA1 Task 1\n# END SOLUTION\n")
    assert any(":1: marker must start with '#'" in p for p in problems), problems


def test_marker_in_student_file_is_flagged(repo):
    student = repo / "pa1_autodiff/src/ops.cpp"
    student.write_text(student.read_text() + "// BEGIN SOLUTION PA1 Task 9\n")
    other = write(repo / "common/src/tensor.cpp", "int a;\n  // END SOLUTION\n")
    problems = stubs.check_markers(repo)
    assert any(p.startswith("pa1_autodiff/src/ops.cpp:") and "marker in a student file" in p for p in problems)
    assert any(p.startswith("common/src/tensor.cpp:2:") for p in problems), (problems, other)
    r = run_cli(repo, "check-markers")
    assert r.returncode == 1 and "problem(s)" in r.stdout


def test_markers_in_tools_docs_and_grader_tests_are_allowed(repo):
    for rel in ("tools/tests/test_x.py", "autograder/tests/test_release.py", "docs/example.cpp"):
        write(repo / rel, 'FAKE = """\n// BEGIN SOLUTION PA1 Task 1\n// END SOLUTION\n"""\n')
    assert stubs.check_markers(repo) == []


def test_generate_refuses_malformed_markers(repo, capsys):
    write(repo / "solutions/pa1_autodiff/src/ops.cpp", "// BEGIN SOLUTION PA1 Task 1\n")
    assert stubs.generate(repo) == 1
    assert "BEGIN SOLUTION without an END SOLUTION" in capsys.readouterr().out
    with pytest.raises(stubs.MarkerError):
        stubs.find_regions(repo / "solutions/pa1_autodiff/src/ops.cpp")


# ----------------------------------------------------------------------------------------------
# leak-check
# ----------------------------------------------------------------------------------------------

def release_of(repo: Path, tmp_path: Path) -> Path:
    """A fake student release: the repo's student files, no solutions/."""
    rel = tmp_path / "release"
    for student in ("pa1_autodiff/src/ops.cpp", "pa2_kernels/src/cuda/add.cu", "pa1_autodiff/python/train.py"):
        write(rel / student, (repo / student).read_text(encoding="utf-8"))
    return rel


def test_clean_release_passes(repo, tmp_path):
    rel = release_of(repo, tmp_path)
    # Short or common region lines are not secrets: `return grad_a;` (short), and a line that
    # also occurs outside the regions of its solution file.
    write(rel / "common/src/other.cpp", "return grad_a;\nreturn model\n")
    r = run_cli(repo, "leak-check", str(rel))
    assert r.returncode == 0, r.stdout
    assert stubs.leak_check(rel, repo) == ([], [])


def test_lines_outside_regions_or_in_student_file_are_not_secrets(tmp_path):
    root = tmp_path / "r"
    line = "const int64_t numel_of_the_output = out.numel();"
    write(root / "solutions/pa1_autodiff/src/a.cpp",
          "void f() {\n  " + line + "\n}\nvoid g() {\n  // BEGIN SOLUTION PA1 Task 1\n  " + line +
          "\n  use_it_for_the_real_work(numel_of_the_output);\n  // END SOLUTION\n}\n")
    (root / "pa1_autodiff/src").mkdir(parents=True)
    secrets = stubs.secret_lines(root)
    assert line not in secrets
    assert "use_it_for_the_real_work(numel_of_the_output);" in secrets


def test_leak_detected(repo, tmp_path):
    rel = release_of(repo, tmp_path)
    write(rel / "pa1_autodiff/src/ops.cpp", (rel / "pa1_autodiff/src/ops.cpp").read_text() +
          "  Tensor grad_a = mlsys::matmul(grad_out, mlsys::transpose(a, -1, -2));\n")
    write(rel / "notes/kernel.txt", "        if (idx < n) out[idx] = a[idx] + b[idx];\n")
    forbidden, leaks = stubs.leak_check(rel, repo)
    assert forbidden == []
    found = {(l.file, l.source, l.task) for l in leaks}
    assert ("pa1_autodiff/src/ops.cpp", "solutions/pa1_autodiff/src/ops.cpp:8", "PA1 Task 2.3") in found
    assert ("notes/kernel.txt", "solutions/pa2_kernels/src/cuda/add.cu:4", "PA2 Task 3.1") in found
    r = run_cli(repo, "leak-check", str(rel))
    assert r.returncode == 1
    assert "kernel.txt:1: leaks solutions/pa2_kernels/src/cuda/add.cu:4 (PA2 Task 3.1)" in r.stdout


@pytest.mark.parametrize("header, structural", [
    ("for (int64_t row = 0; row < rows; ++row) {", True),
    ("for (int64_t p = 0; p < K; ++p)", True),
    ("} else if (threadIdx.x < warp_size_of_block) {", True),
    ("for batch_index, batch in enumerate(loader):", True),
    ("for (int64_t p = 0; p < K; ++p) acc += A[i * lda + p];", False),
    ("if (idx < n) out[idx] = a[idx] + b[idx];", False),
])
def test_bare_loop_and_branch_headers_are_structure(header, structural):
    assert bool(stubs.STRUCTURAL_RE.match(header)) == structural


def test_lines_repeated_across_solutions_are_idioms(repo):
    idiom = "return launch_status_of_this_kernel();"
    for name in ("a", "b"):
        write(repo / "solutions/pa1_autodiff/src/{}.cpp".format(name),
              "void {}() {{\n  // BEGIN SOLUTION PA1 Task 1\n  {}\n  // END SOLUTION\n}}\n"
              .format(name, idiom))
    assert idiom not in stubs.secret_lines(repo)


def test_leak_in_notebook_cell_detected(repo, tmp_path):
    rel = release_of(repo, tmp_path)
    cell = {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
            "source": ["x = 1\n", "    const int idx = blockIdx.x * blockDim.x + threadIdx.x;\n",
                       "    if (idx < n) out[idx] = a[idx] + b[idx];\n"]}
    write(rel / "handouts/notebooks/pa2.ipynb", json.dumps({"cells": [cell], "nbformat": 4}, indent=1))
    _, leaks = stubs.leak_check(rel, repo)
    assert [(l.file, l.line) for l in leaks] == [("handouts/notebooks/pa2.ipynb", 2),
                                                 ("handouts/notebooks/pa2.ipynb", 3)]


def test_staff_dirs_in_release_are_flagged(repo, tmp_path):
    rel = release_of(repo, tmp_path)
    write(rel / "solutions/README.md", "nothing secret\n")
    write(rel / "autograder/hidden/pa1/test_x.cpp", "TEST(A, B) {}\n")
    forbidden, _ = stubs.leak_check(rel, repo)
    assert forbidden == ["autograder/hidden/", "solutions/"]
    r = run_cli(repo, "leak-check", str(rel))
    assert r.returncode == 1 and "staff-only directory" in r.stdout


def test_staff_tree_mode_scans_the_repo_itself(repo):
    assert stubs.leak_check(repo, repo, staff_tree=True) == ([], [])
    write(repo / "pa1_autodiff/src/extra.cpp", "const float slope_for_negative_inputs = 0.0f;\n")
    write(repo / "build/pa1_autodiff/copy.cpp", (repo / "pa1_autodiff/src/extra.cpp").read_text())
    _, leaks = stubs.leak_check(repo, repo, staff_tree=True)
    assert [(l.file, l.line) for l in leaks] == [("pa1_autodiff/src/extra.cpp", 1)]
