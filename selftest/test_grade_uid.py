"""Grading with the uid drop in force: hosts run as their own uid and cannot reach the judge.

The uid drop needs an interpreter that uid can run. pyenv's live under /root (mode 700);
the job's mount namespace opens that folder for them (selftest/test_grade_attacks.py
grades with it, and checks the drop is in force there). This test covers the other
layout: a non-editable install in a venv of the system Python, in a world-readable folder
(about 30 s). It runs where the system Python has the same version as the one running the
tests (once per tox run, not once per Python), as root.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
KIT = Path(__file__).resolve().parent / "kit"
SYSTEM_PYTHON = Path("/usr/bin/python3")

FORGER = '''
import json, os, signal

def double(n):
    return n * 2

def doubles(ctx, numbers):
    """Report the uid, and try to write passing results into the judge's open files."""
    forged = json.dumps({"schema": 1, "type": "result", "outcome": "passed"}) + "\\n"
    reached = []
    judge = os.getppid()
    try:
        for fd in os.listdir(f"/proc/{judge}/fd"):
            try:
                with open(f"/proc/{judge}/fd/{fd}", "a") as fh:
                    fh.write(forged)
                reached.append(fd)
            except OSError:
                pass
    except OSError:
        pass
    return [os.getuid(), len(reached)]
'''


def _system_minor() -> tuple | None:
    if not SYSTEM_PYTHON.exists():
        return None
    out = subprocess.run(
        [str(SYSTEM_PYTHON), "-c", "import sys; print(sys.version_info[0], sys.version_info[1])"],
        capture_output=True, text=True, timeout=30,
    )
    return tuple(int(x) for x in out.stdout.split()) if out.returncode == 0 else None


pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not sys.platform.startswith("linux") or os.geteuid() != 0, reason="the uid drop needs root on Linux"),
    pytest.mark.skipif(
        _system_minor() != sys.version_info[:2],
        reason=f"runs once, under the Python that {SYSTEM_PYTHON} is (a world-readable interpreter for the uid drop)",
    ),
]


@pytest.fixture(scope="module")
def world():
    """A world-readable folder with a venv of the system Python that has this project."""
    folder = Path(tempfile.mkdtemp(prefix="dojo-uid-", dir="/tmp"))
    folder.chmod(0o755)
    try:
        venv = folder / "venv"
        subprocess.run([str(SYSTEM_PYTHON), "-m", "venv", str(venv)], check=True, timeout=120)
        pip = subprocess.run(
            [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", str(ROOT)],
            capture_output=True, text=True, timeout=600,
        )
        if pip.returncode != 0:
            pytest.skip(f"could not install the project into a system-Python venv: {pip.stderr[-500:]}")
        kit = folder / "kit"
        shutil.copytree(KIT, kit, ignore=shutil.ignore_patterns("__pycache__", ".dojo"))
        subprocess.run(["chmod", "-R", "a+rX", str(folder)], check=True)
        yield folder, venv / "bin" / "python", kit
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _grade(python, kit, submission: Path, out: Path) -> dict:
    subprocess.run(["chmod", "-R", "a+rX", str(submission)], check=True)
    done = subprocess.run(
        [str(python), "-m", "dojo", "--root", str(kit), "grade", str(submission), "--out", str(out), "--format", "json"],
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, f"dojo grade exited {done.returncode}: {done.stderr[-1000:]}"
    return json.loads((out / "grade.json").read_text())


def test_a_solved_kata_scores_with_hosts_running_as_their_own_uid(world):
    folder, python, kit = world
    sub = folder / "solved"
    (sub / "katas").mkdir(parents=True)
    shutil.copy(KIT / "solutions" / "good1.py", sub / "katas" / "good1.py")
    grade = _grade(python, kit, sub, folder / "out-solved")
    assert grade["limits"]["uid"].startswith("on"), f"the uid drop was not in force: {grade['limits']['uid']}"
    good1 = next(k for k in grade["katas"] if k["kata"] == "good1")
    assert good1["status"] == "passed", f"a solved good1 graded {good1['status']}: {good1['cells']}"


def test_a_host_cannot_write_into_the_judges_files_when_it_runs_as_its_own_uid(world):
    folder, python, kit = world
    sub = folder / "forger"
    (sub / "katas").mkdir(parents=True)
    (sub / "katas" / "good1.py").write_text(FORGER)
    grade = _grade(python, kit, sub, folder / "out-forger")
    good1 = next(k for k in grade["katas"] if k["kata"] == "good1")
    assert good1["points"] == 0 and good1["status"] == "failed", (
        f"a kata that tries to forge results graded {good1['status']} with {good1['points']} points: {good1['cells']}"
    )
    messages = " ".join(t["message"] for t in good1["tests"])
    # the fixture kit's message shows what doubles() returned: [uid, descriptors reached]
    # uid 61000 + the job's slot, or the next free uid when another grader holds that one's lease
    uids = {int(u) for u in re.findall(r"\[(\d+), 0\]", messages)}
    assert uids and all(61000 <= u < 61184 for u in uids), (
        f"the host was not a uid of 61000 and up, or it reached the judge's files: {messages[:500]}"
    )
