"""The learner path with a Linux-only means taken away, as on macOS or Windows.

Each test runs the fixture kit's tests in a fresh interpreter whose ``sitecustomize``
removes one means before anything imports it, so the plugin and pytest-timeout see a
system without it. (Issue 11 lists the others still to cover: fork, SIGUSR1, /proc,
sched_getaffinity, listing /dev/shm, prctl.)
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from selftest.helpers import copy_kit

ROOT = Path(__file__).resolve().parent.parent

NO_SIGALRM = """
import signal
for name in ("SIGALRM", "setitimer", "ITIMER_REAL"):
    if hasattr(signal, name):
        delattr(signal, name)
"""


def pytest_without(tmp_path: Path, sitecustomize: str, *args: str) -> subprocess.CompletedProcess:
    kit = copy_kit(tmp_path)
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(sitecustomize, encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(site), str(ROOT)]))
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args], cwd=kit, env=env,
                          capture_output=True, text=True, timeout=120)


def test_without_sigalrm_a_solved_kata_passes_and_a_hanging_one_is_ended_by_the_thread_timeout(tmp_path):
    """Windows has no SIGALRM: the ini's signal method must give way to pytest-timeout's
    thread method (which ends the process after dumping the stacks), never crash."""
    solved = pytest_without(tmp_path / "a", NO_SIGALRM, "-q", "tests/test_good1.py", "--target=solutions",
                            "--start-method=spawn")
    out = solved.stdout + solved.stderr
    assert solved.returncode == 0 and "SIGALRM" not in out, f"a solved kata must pass without SIGALRM:\n{out[-3000:]}"
    hung = pytest_without(tmp_path / "b", NO_SIGALRM, "-q", "tests/test_hang1.py", "--start-method=spawn")
    out = hung.stdout + hung.stderr
    assert hung.returncode != 0 and "Timeout" in out and "AttributeError" not in out, (
        f"a kata that hangs must be ended by the thread timeout (exit {hung.returncode}):\n{out[-3000:]}"
    )


def test_without_sigalrm_dojo_doctor_says_how_a_hang_ends_there(tmp_path):
    kit = copy_kit(tmp_path)
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(NO_SIGALRM, encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(site), str(ROOT)]), COLUMNS="300")
    done = subprocess.run([sys.executable, "-m", "dojo", "--root", str(kit), "doctor"], cwd=kit, env=env,
                          capture_output=True, text=True, timeout=120)
    row = next((line for line in done.stdout.splitlines() if "timeouts" in line), "")
    assert "weaker here: no SIGALRM" in row, f"dojo doctor must say a hang ends the run here:\n{done.stdout[-2000:]}"
