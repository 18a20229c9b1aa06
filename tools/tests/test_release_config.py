"""Tests of autograder/release.py's text handling that need no grader: the staff-only markers,
the repository URL setting and the refusal to release while it is the placeholder. (The full
release, built and graded, is autograder/tests/test_release.py, in the staff gate.)"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(REPO / "autograder"))
import release  # noqa: E402


def test_staff_only_parts_are_cut_with_their_markers():
    text = ("# Title\n\nfor everyone\n\n<!-- staff-only -->\nsolutions/ and hidden tests\n"
            "<!-- /staff-only -->\n\nalso for everyone\n")
    assert release.strip_staff_only(text) == "# Title\n\nfor everyone\n\nalso for everyone\n"


@pytest.mark.parametrize("text, problem", [
    ("a\n<!-- staff-only -->\nb\n", "never closed"),
    ("a\n<!-- /staff-only -->\nb\n", "without an opening"),
    ("<!-- staff-only -->\n<!-- staff-only -->\n<!-- /staff-only -->\n", "inside a staff-only part"),
])
def test_unbalanced_markers_are_an_error_naming_the_line(text, problem):
    with pytest.raises(ValueError, match=problem):
        release.strip_staff_only(text, "README.md")


def test_every_markdown_file_of_the_course_has_balanced_markers():
    assert release.staff_only_problems(REPO) == []


def test_the_repository_url_fills_the_clone_url_and_the_colab_links():
    text = ('REPO_URL = "https://github.com/YOUR-ORG/mlsys-student.git"\n'
            "https://colab.research.google.com/github/YOUR-ORG/mlsys-student/blob/main/x.ipynb\n")
    out = release.fill_repo_url(text, "https://github.com/cs-course/mlsys-2027.git")
    assert out == ('REPO_URL = "https://github.com/cs-course/mlsys-2027.git"\n'
                   "https://colab.research.google.com/github/cs-course/mlsys-2027/blob/main/x.ipynb\n")


@pytest.mark.parametrize("url", ["", "https://github.com/YOUR-ORG/mlsys-student.git", "git@github.com:a/b.git",
                                 "https://github.com/only-owner"])
def test_placeholder_or_malformed_urls_are_refused(url):
    assert release.repo_url_problem(url)


def test_release_refuses_to_run_while_the_url_is_the_placeholder(tmp_path):
    # A staff tree (solutions/ exists) whose course.json still has the placeholder: the release
    # stops before it needs the grader, with a message that says what to set.
    (tmp_path / "solutions").mkdir()
    (tmp_path / "course.json").write_text(json.dumps({"repo_url": release.PLACEHOLDER_URL + ".git"}))
    r = subprocess.run([sys.executable, str(REPO / "autograder" / "release.py"), "--root", str(tmp_path),
                        "--grader", str(tmp_path / "no-grader"), "--out", str(tmp_path / "out")],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)
    assert r.returncode == 1
    assert "placeholder" in r.stdout and "repo_url in course.json" in r.stdout and "--repo-url" in r.stdout
    assert not (tmp_path / "out").exists()

