"""The kit's own tests judge a kata by its own clock, not by how fast the machine starts processes.

pools4 holds its stragglers back for a few of the kata's timeouts. A kata starts its pool
(and so its workers) before its timeout begins; on a crowded machine starting them took
longer than the stragglers were held, and a right kata was failed for "waiting" for items
that had simply given up by themselves (CI, Python 3.11, forkserver, under grading). A
kata that is slow to start its pool stands in for that machine here: how long it takes
before its first process starts must not change its verdict.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Longer than pools4 holds a straggler counted from the call (HOLD x QUICK = 2 s).
SLOW_START = 2.5


def slow_kit(tmp_path: Path, kata: str, before: str) -> Path:
    """A copy of the real kit whose katas/<kata>.py is the reference solution with
    `before` (slow setup) run first in each call of `gather`."""
    kit = tmp_path / "kit"
    (kit / "tests").mkdir(parents=True)
    (kit / "katas").mkdir()
    for name in ("katas.toml", "conftest.py", "pyproject.toml"):
        shutil.copyfile(ROOT / name, kit / name)
    shutil.copyfile(ROOT / "tests" / "__init__.py", kit / "tests" / "__init__.py")
    shutil.copyfile(ROOT / "tests" / f"test_{kata}.py", kit / "tests" / f"test_{kata}.py")
    shutil.copyfile(ROOT / "katas" / "__init__.py", kit / "katas" / "__init__.py")
    source = (ROOT / "solutions" / f"{kata}.py").read_text(encoding="utf-8")
    head, sep, body = source.partition('    results = {}\n')
    assert sep, "the reference gather() no longer starts with `results = {}`"
    (kit / "katas" / f"{kata}.py").write_text(head + before + sep + body, encoding="utf-8")
    return kit


@pytest.mark.slow
def test_a_right_pools4_kata_that_is_slow_to_start_its_pool_still_passes(tmp_path):
    kit = slow_kit(tmp_path, "pools4", f"    import time\n    time.sleep({SLOW_START})  # a crowded machine\n")
    env = dict(os.environ, DOJO_START_METHODS="fork,forkserver", DOJO_TARGET="katas")
    env.pop("DOJO_TOX_SUMMARY", None)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "tests/test_pools4.py",
         "-k", "several_late or returns_without_waiting", "--timeout", "60"],
        cwd=kit, env=env, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "4 passed" in done.stdout, done.stdout[-2000:]
