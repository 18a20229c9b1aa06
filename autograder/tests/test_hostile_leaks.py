"""Hostile submissions that attack the isolation between the grader's runs, on the fake course
(autograder/tests/fixtures/fakepa): a few seconds per grading, CTest grader.hostile_leaks.

Each attack lives in autograder/tests/hostile/<name>/: fake.json (what it does, the exact score
the grader must give, the cases that must fail, text that must appear in no output) and the
student files it submits (the rest are the solutions). Placeholders in the sources stand for
what a determined student could know: @COURSE_TREE@ (the --tree folder: the staff repo, or
Gradescope's course copy), @REF_DIRS@ (the reference build's folders in the grader's cache),
@MARKER_FILE@ (a file the attack writes when it runs as root).

  read_tree         reads solutions/, hidden tests, the rubric from the original tree
  exec_reference    finds the run's secret in memory and execs the reference test executable
  ipc_handoff       a hidden run leaves data in SysV shm and /run/lock, /dev/shm, /tmp, /var/tmp
                    for the benchmark; and leaves a 64 MiB segment behind
  hidden_exit_code  hidden cases exit with 113 / die of SIGSYS: only "failed" may be shown
  loopback          TCP over 127.0.0.1 must work in the sandbox (mpirun, PA3's ranks)
  local_listing     a static constructor that notices root: --local grading lists tests as root?
  zip_symlink       a zip with a symlink entry, then a file written through it; a tar as .zip
"""

import glob
import json
import re
import os
import shutil
import stat
import subprocess
import tarfile
import zipfile
from pathlib import Path

import pytest

import grader_test_util as util

HOSTILE = util.HERE / "hostile"
STUDENT_FILES = ["fake/src/add.cpp", "fake/src/mul.cpp"]
GRADED = ["read_tree", "exec_reference", "ipc_handoff", "hidden_exit_code", "loopback"]
SHM_KEY = 0x6d6c6b31  # ipc_handoff's segment
HANDOFF = "mlsys-hostile-handoff"  # ipc_handoff's files


def spec(name):
    return json.loads((HOSTILE / name / "fake.json").read_text())


@pytest.fixture(scope="module")
def env():
    root = util.work_root() / "leaks"
    course = util.make_fake_course(root / "course")
    e = {"root": root, "course": course, "rubric": course / "autograder/rubrics/fake.json", "work": root / "work",
         "out": root / "out"}
    # The reference first: it fills the cache whose folders exec_reference goes after.
    g = util.grade(course, e["rubric"], e["work"], e["out"] / "reference", solution=True)
    assert g.rc == 0 and g.score == 12, (g.log, g.failed())
    e["sandbox"] = g.record["sandbox"]
    # As root, a work folder the test users cannot reach (a checkout under a 0700 folder, such
    # as mktemp's) is moved; the grader says where in a note.
    work = e["work"]
    for note in g.record["notes"]:
        m = re.search(r"grading in (\S+) instead", note)
        if m:
            work = Path(m.group(1))
    e["ref_dirs"] = sorted(glob.glob(str(work / "cache" / "*" / "ref" / "bin")) +
                           glob.glob(str(work / "cache" / "*" / "hidden" / "ref")))
    assert e["ref_dirs"], "no reference build in the cache"
    return e


def requires(env, what):
    root, ns = os.geteuid() == 0, "no namespaces" not in env["sandbox"]
    ok = {"root": root, "namespaces": ns, "root_or_namespaces": root or ns, None: True}[what]
    if not ok:
        pytest.skip("needs {}; sandbox here: {}".format(what, env["sandbox"]))


def submission(env, name, marker=None):
    """The solutions in the flat layout, with the attack's files (placeholders filled in)."""
    sub = util.make_submission(env["out"] / ("sub-" + name), env["course"], STUDENT_FILES, "solution")
    for rel, local in spec(name).get("files", {}).items():
        text = (HOSTILE / name / local).read_text()
        text = text.replace("@COURSE_TREE@", str(env["course"]))
        text = text.replace("@REF_DIRS@", ", ".join('"{}"'.format(d) for d in env["ref_dirs"]))
        text = text.replace("@MARKER_FILE@", str(marker or ""))
        (sub / Path(rel).name).write_text(text)
    return sub


def shm_keys():
    lines = Path("/proc/sysvipc/shm").read_text().splitlines()[1:]
    return {int(l.split()[0]) for l in lines if l.split()}


def handoff_files():
    return [d for d in ("/run/lock", "/dev/shm", "/tmp", "/var/tmp") if os.path.exists(os.path.join(d, HANDOFF))]


def clean_handoff():
    """Leftovers of an earlier, broken grader would make the check below meaningless."""
    for d in handoff_files():
        os.unlink(os.path.join(d, HANDOFF))
    if SHM_KEY in shm_keys():
        subprocess.run(["ipcrm", "-M", str(SHM_KEY)], check=False)


def all_outputs(env, name, sub):
    """Every output format of one more grading of `sub`: classroom, markdown, the console table."""
    out = env["out"] / (name + "-formats")
    out.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run([str(util.grader()), "grade", "--tree", str(env["course"]), "--rubric", str(env["rubric"]),
                           "--work", str(env["work"]), "--submission", str(sub), "--jobs", util.jobs(),
                           "--format", "classroom", "--out", str(out / "classroom.json"),
                           "--markdown", str(out / "summary.md")],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, timeout=600)
    return proc.stdout + (out / "classroom.json").read_text() + (out / "summary.md").read_text()


@pytest.mark.parametrize("name", GRADED)
def test_leak_is_closed(env, name):
    s = spec(name)
    requires(env, s.get("requires"))
    if name == "ipc_handoff":
        clean_handoff()
    sub = submission(env, name)
    g = util.grade(env["course"], env["rubric"], env["work"], env["out"] / name, submission=sub, timeout=600)
    assert g.rc == 0, g.log
    assert not util.schema_errors(g.gradescope), util.schema_errors(g.gradescope)
    assert g.score == s["score"], (g.failed(), [(p["id"], p["reason"], p["output"]) for p in g.record["performance"]])
    assert set(g.failed()) == set(s.get("failed", [])), g.failed()
    text = json.dumps(g.gradescope) + json.dumps(g.record) + g.log
    if name == "hidden_exit_code":
        text += all_outputs(env, name, sub)
        for c in g.record["cases"]:
            if c["hidden"]:
                assert c["reason"] in ("passed", "failed") and c["output"] == "" and c["seconds"] == 0, c
    for leak in s.get("not_in_results", []):
        assert leak not in text, leak
    if name == "ipc_handoff":
        # Nothing of the hidden run is left on the machine: no segment, no file.
        assert SHM_KEY not in shm_keys()
        assert handoff_files() == []


def test_local_grading_never_runs_student_code_as_root(env):
    requires(env, "root")
    marker = env["out"] / "local-listing-ran-as-root"
    if marker.exists():
        marker.unlink()
    sub = submission(env, "local_listing", marker)
    g = util.grade(env["course"], env["rubric"], env["work"], env["out"] / "local_listing", submission=sub,
                   extra=("--local",), timeout=600)
    assert g.rc == 0, g.log
    assert g.record["mode"] == "local"
    assert g.score == spec("local_listing")["score"], g.failed()
    assert not marker.exists(), "student code ran as root (the test listing?)"


def test_zip_with_a_symlink_entry_is_refused(env):
    s = spec("zip_symlink")
    target = env["root"] / "zip-target"  # a world-writable folder outside the submission
    shutil.rmtree(str(target), ignore_errors=True)
    target.mkdir(parents=True)
    os.chmod(str(target), 0o777)
    link = zipfile.ZipInfo("a")
    link.create_system = 3  # Unix: the mode below is honoured
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    zpath = env["out"] / "symlink.zip"
    zpath.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(str(zpath), "w") as z:
        z.writestr(link, str(target))
        z.writestr("a/evil.cpp", "written through a symbolic link\n")
        for f in STUDENT_FILES:
            z.write(str(env["course"] / "solutions" / f), f)
    tpath = env["out"] / "tar-in-disguise.zip"
    with tarfile.open(str(tpath), "w") as t:
        info = tarfile.TarInfo("a")
        info.type, info.linkname = tarfile.SYMTYPE, str(target)
        t.addfile(info)
    for path, why in ((zpath, "symbolic link"), (tpath, "not a zip file")):
        g = util.grade(env["course"], env["rubric"], env["work"], env["out"] / path.stem, submission=path)
        assert g.rc == 1, g.log
        assert g.gradescope["score"] == s["score"]
        assert why in g.gradescope["output"], g.gradescope["output"]
        assert not util.schema_errors(g.gradescope)
        assert list(target.iterdir()) == []
