"""What a hang is said to be is what was seen: waiting in a call, running the learner's own
loop, or printing without end; a print flood is named with its size and its output is cut
to its start and end (dojo/plugin.py: _how_it_hung, _cap_sections)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from selftest.helpers import copy_kit

ROOT = Path(__file__).resolve().parent.parent

SPIN = '''"""Doubles."""


def doubles(ctx, numbers):
    total = 0
    while total >= 0:
        total += 1
    return total
'''

FLOOD = '''"""Doubles."""


def doubles(ctx, numbers):
    turn = 0
    while True:
        turn += 1
        print("still working", turn)
'''


def run_good1(tmp_path: Path, source: str) -> str:
    kit = copy_kit(tmp_path)
    (kit / "katas" / "good1.py").write_text(source, encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=str(ROOT), DOJO_TIMEOUT_SCALE="0.3")  # 3 s instead of 10
    done = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "tests/test_good1.py",
                           "--start-method=fork"], cwd=kit, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    return done.stdout + done.stderr


@pytest.mark.skipif("fork" not in __import__("multiprocessing").get_all_start_methods(), reason="needs fork")
def test_a_loop_in_the_learners_own_code_is_named_a_loop_not_a_wait(tmp_path):
    out = run_good1(tmp_path, SPIN)
    import re

    # the loop's condition (line 6) or its body (line 7), wherever the timeout found it
    assert re.search(r"still running its own code, at katas/good1\.py:[67] \(doubles\)", out), out[-2000:]
    assert "waits for an event that never comes" not in out, "a busy loop must not be blamed on a wait"


@pytest.mark.skipif("fork" not in __import__("multiprocessing").get_all_start_methods(), reason="needs fork")
def test_a_print_flood_is_named_with_its_size_and_its_output_is_cut(tmp_path):
    out = run_good1(tmp_path, FLOOD)
    assert "lines (" in out and "meanwhile; it was at katas/good1.py:8 (doubles)" in out, out[-2000:]
    assert "dojo cut" in out and len(out) < 200_000, f"the output must be cut: {len(out)} characters shown"
    assert "waits for an event that never comes" not in out


def test_a_join_that_never_returns_is_still_named_a_wait(tmp_path):
    kit = copy_kit(tmp_path)
    done = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "tests/test_hang1.py",
                           "--start-method=spawn"], cwd=kit, env=dict(os.environ, PYTHONPATH=str(ROOT)),
                          capture_output=True, text=True, timeout=120)
    assert "it blocked at katas/hang1.py:15 (wait_for_child): child.join()" in done.stdout, done.stdout[-2000:]


THIRTY = '''"""Starts children and never joins them."""
import time


def nap():
    time.sleep(30)


def leave_things(ctx):
    for _ in range(30):
        ctx.Process(target=nap).start()
    return "left"
'''


def test_thirty_unjoined_children_are_one_line_with_their_count_and_what_they_are(tmp_path):
    kit = copy_kit(tmp_path)
    (kit / "katas" / "leak1.py").write_text(THIRTY, encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "tests/test_leak1.py",
                           "--start-method=fork"], cwd=kit, env=dict(os.environ, PYTHONPATH=str(ROOT)),
                          capture_output=True, text=True, timeout=120)
    out = done.stdout
    assert "30 processes still running: a child forked from the test process" in out, out[-3000:]
    assert "and 22 more" in out, "the pids shown must say how many more there are"
    assert out.count("pytest -p") <= 1, "fork children must not be shown as the test's own command line"

