"""The course's rubrics: each passes the schema check, and each PA's handout carries the points
table and performance tiers generated from its rubric (`mlsys_grade table [--performance]
autograder/rubrics/paN.json`), so the handout and the grader cannot disagree."""

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
        "{} does not contain the points table of {}; paste this (from `mlsys_grade table`):\n\n{}"
        .format(handout.relative_to(util.REPO), rubric.relative_to(util.REPO), table))


@pytest.mark.parametrize("rubric", RUBRICS, ids=[r.stem for r in RUBRICS])
def test_handout_has_the_performance_tiers(rubric):
    handout = util.REPO / "handouts" / (rubric.stem + ".md")
    if not handout.exists():
        pytest.skip("no handout for " + rubric.stem)
    table = subprocess.run([str(util.grader()), "table", "--performance", str(rubric)], stdout=subprocess.PIPE,
                           universal_newlines=True, check=True).stdout
    assert table in handout.read_text(), (
        "{} does not contain the performance tiers of {}; paste this (from `mlsys_grade table --performance`):\n\n{}"
        .format(handout.relative_to(util.REPO), rubric.relative_to(util.REPO), table))
