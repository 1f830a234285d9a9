"""The kit's own reference solutions, graded as a student's submission in the full sandbox.

`dojo verify --isolate` runs every kata call in a host process, but as the maintainer's
own user, with the kit in sight. A grade adds what students meet: the uid drop, a view
without the kit (hosts import dojo from the workspace's toolkit copy), confined Manager
servers. Whatever a test hands to learner code must work there too: a toolkit module
left outside ``dojo/toolkit/`` cannot be imported by a spawn child of a host, and a
toolkit that recognises its own frames by file name is fooled once the host has been
pointed at the copy. Either costs a right submission its marks, so every solution must
earn every point, on every start method (about 100 s as root, once per tox run).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from selftest.helpers import kill_own_processes, own_processes

ROOT = Path(__file__).resolve().parent.parent

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not sys.platform.startswith("linux") or os.geteuid() != 0,
                       reason="the full sandbox (uid drop, private view) needs root on Linux"),
]


def test_every_reference_solution_earns_every_point_in_the_sandbox_on_every_start_method():
    scratch = Path(tempfile.mkdtemp(prefix="dojo-selftest-kit-"))
    try:
        scratch.chmod(0o755)
        sub = scratch / "student" / "katas"
        sub.mkdir(parents=True)
        for path in sorted((ROOT / "solutions").glob("*.py")):
            if path.name != "__init__.py":
                shutil.copyfile(path, sub / path.name)
        for path in [scratch, *scratch.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
        out = scratch / "out"
        done = subprocess.run(
            [sys.executable, "-m", "dojo", "--root", str(ROOT), "grade", str(sub.parent), "--out", str(out),
             "--format", "json"],
            cwd=ROOT, env=dict(os.environ, TMPDIR=str(scratch)), capture_output=True, text=True, timeout=900,
        )
        assert done.returncode == 0, f"dojo grade failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        grade = json.loads((out / "grade.json").read_text(encoding="utf-8"))
        assert grade["limits"]["uid"].startswith("on"), f"the uid drop must be in force here: {grade['limits']['uid']}"
        lost = [f"{k['kata']} [{c['start_method']}]: {c['reason'][:400]}"
                for k in grade["katas"] for c in k["cells"] if not c["passed"]]
        assert not lost and grade["score"] == grade["max_score"], (
            f"the reference solutions scored {grade['score']}/{grade['max_score']} when graded; every cell must pass:\n  "
            + "\n  ".join(lost)
        )
        assert own_processes() == [], "the grade left processes behind"
    finally:
        kill_own_processes()
        shutil.rmtree(scratch, ignore_errors=True)
