"""The course's rubrics: each passes the schema check, and each PA's handout carries the one
grading table generated from its rubric (`mlsys_grade table autograder/rubrics/paN.json`: points
per task and the performance tiers), so the handout and the grader cannot disagree."""

import subprocess

import pytest

import grader_test_util as util

RUBRICS = sorted((util.REPO / "autograder" / "rubrics").glob("pa*.json"))


@pytest.mark.parametrize("rubric", RUBRICS, ids=[r.stem for r in RUBRICS])
def test_rubric_is_valid(rubric):
    r = subprocess.run([str(util.grader()), "check", str(rubric)], stdout=subprocess.PIPE, universal_newlines=True)
    assert r.returncode == 0, r.stdout


@pytest.mark.parametrize("rubric", RUBRICS, ids=[r.stem for r in RUBRICS])
def test_handout_has_the_rubric_table(rubric):
    handout = util.REPO / "handouts" / (rubric.stem + ".md")
    if not handout.exists():
        pytest.skip("no handout for " + rubric.stem)
    table = subprocess.run([str(util.grader()), "table", str(rubric)], stdout=subprocess.PIPE,
                           universal_newlines=True, check=True).stdout
    assert table in handout.read_text(), (
        "{} does not contain the grading table of {}; paste this (from `mlsys_grade table`):\n\n{}"
        .format(handout.relative_to(util.REPO), rubric.relative_to(util.REPO), table))


@pytest.mark.parametrize("rubric", RUBRICS, ids=[r.stem for r in RUBRICS])
def test_handout_has_no_other_grading_table(rubric):
    # At most one grading table per handout: no other Markdown table that lists points or tiers.
    handout = util.REPO / "handouts" / (rubric.stem + ".md")
    if not handout.exists():
        pytest.skip("no handout for " + rubric.stem)
    lines = handout.read_text().splitlines()
    headers = [lines[i] for i in range(len(lines) - 1)
               if lines[i].startswith("|") and lines[i + 1].startswith("|-")]
    grading = [h for h in headers if "points" in h.lower() or "tier" in h.lower()]
    assert len(grading) == 1, "{} has {} grading tables (want the generated one only):\n{}".format(
        handout.relative_to(util.REPO), len(grading), "\n".join(grading))
