"""The learner path with a Linux-only means taken away, as on macOS or Windows.

Each test runs the fixture kit's tests in a fresh interpreter whose ``sitecustomize``
removes one means before anything imports it, so the plugin and pytest-timeout see a
system without it: fork, SIGALRM, SIGUSR1, /proc, CPU affinity, a listable /dev/shm and
prctl's subreaper (``SEAMS``). ``dojo/system.py`` is the layer every use goes through.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

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


RUN_HANG1 = """
import json, sys
from pathlib import Path
from dojo import runner
result = runner.run_kata(Path(sys.argv[1]), "hang1", "katas", wall=90)
print(json.dumps([[c.start_method, c.outcome, c.where, c.message] for c in result.run.cells]))
"""


def test_without_sigalrm_the_runner_resumes_after_each_test_that_hung_and_names_each_line(tmp_path):
    """The thread method ends the run at the first hang; dojo's runner starts a new run of
    the tests left, so every start method still gets its own verdict, each naming the line."""
    import json

    kit = copy_kit(tmp_path / "kit")
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(NO_SIGALRM, encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(site), str(ROOT)]))
    done = subprocess.run([sys.executable, "-c", RUN_HANG1, str(kit)], cwd=kit, env=env, capture_output=True,
                          text=True, timeout=150)
    assert done.returncode == 0, done.stderr[-3000:]
    cells = json.loads(done.stdout.strip().splitlines()[-1])
    from dojo import system

    assert sorted(c[0] for c in cells) == sorted(system.start_methods()), (
        f"every start method must get a verdict though each run ends at its hang: {cells}"
    )
    wrong = [c for c in cells if c[1] != "timeout" or "hang1.py:15" not in c[2]]
    assert not wrong, f"each cell must be a timeout naming katas/hang1.py:15 (child.join()): {wrong}"


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


# --- every means of the platform layer, one at a time (dojo/system.py) ----------------------

# What each seam's sitecustomize does: take the means away from the standard library where
# that is how another system lacks it, and tell the platform layer where it cannot be taken
# away (there is no unmounting /proc for one interpreter).
SEAMS = {
    "fork": "import os\nfor name in ('fork', 'forkpty', 'register_at_fork'):\n"
            "    if hasattr(os, name):\n        delattr(os, name)\n",
    "SIGALRM": NO_SIGALRM,
    "SIGUSR1": "import signal\nif hasattr(signal, 'SIGUSR1'):\n    delattr(signal, 'SIGUSR1')\n",
    "/proc": "import dojo.system\ndojo.system.PROC = False\n",
    # Where there is no sched_getaffinity, os.process_cpu_count (3.13) is os.cpu_count; the
    # stdlib's own version looks sched_getaffinity up when called, so it goes too.
    "CPU affinity": "import os\nfor name in ('sched_getaffinity', 'sched_setaffinity'):\n"
                    "    if hasattr(os, name):\n        delattr(os, name)\n"
                    "if hasattr(os, 'process_cpu_count'):\n    os.process_cpu_count = os.cpu_count\n",
    "/dev/shm": "import dojo.system\ndojo.system.SHM_DIR = None\n",
    "subreaper": "import dojo.system\ndojo.system.SUBREAPER = False\n",
}


def _site(tmp_path: Path, seam: str) -> dict:
    site = tmp_path / "site"
    site.mkdir(exist_ok=True)
    (site / "sitecustomize.py").write_text(SEAMS[seam], encoding="utf-8")
    return dict(os.environ, PYTHONPATH=os.pathsep.join([str(site), str(ROOT)]), COLUMNS="300")


def _alive(pid: int) -> bool:
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


@pytest.mark.parametrize("seam", list(SEAMS))
def test_without_one_means_the_learner_path_still_passes_fails_and_cleans_up(tmp_path, seam):
    """With one means taken away, as on a system that lacks it: the solved kata passes on
    every start method the layer still offers, a hanging kata fails naming its line, a
    leaking kata is told what it left and nothing of it stays (no process, no segment),
    and ``dojo doctor`` names the means in a "weaker here" row."""
    import re

    kit = copy_kit(tmp_path / "kit")
    env = _site(tmp_path, seam)

    def pytest_run(*args):
        return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-v", *args], cwd=kit,
                              env=env, capture_output=True, text=True, timeout=120)

    solved = pytest_run("tests/test_good1.py", "--target=solutions")
    out = solved.stdout + solved.stderr
    ran = set(re.findall(r"test_good1\.py::\w+\[(\w+)\] PASSED", out))
    assert solved.returncode == 0 and ran, f"without {seam}, the solved kata must pass:\n{out[-3000:]}"
    if seam == "fork":
        assert ran == {"spawn"}, f"without fork only spawn can run, but these ran: {sorted(ran)}"

    hung = pytest_run("tests/test_hang1.py", "--start-method=spawn")
    out = hung.stdout + hung.stderr
    assert hung.returncode != 0 and ("did not finish within" in out or "Timeout" in out), (
        f"without {seam}, a kata that hangs must fail by its timeout:\n{out[-3000:]}"
    )
    assert "hang1.py" in out, f"without {seam}, the timeout must name the kata's line:\n{out[-3000:]}"

    leaked = pytest_run("tests/test_leak1.py", "--start-method=spawn")
    out = leaked.stdout + leaked.stderr
    segments = re.findall(r"shared-memory object left in /dev/shm: (\S+)", out)
    pids = [int(p) for p in re.findall(r"a process still running: pid (\d+)", out)]
    assert leaked.returncode != 0 and segments and pids, (
        f"without {seam}, the leaking kata must be told of its child and its segment:\n{out[-3000:]}"
    )
    from dojo.toolkit.process_journal import block_exists

    assert not [s for s in segments if block_exists(s)], f"without {seam}, dojo must remove the segment it named"
    assert not [p for p in pids if _alive(p)], f"without {seam}, dojo must kill the child it named"

    doctor = subprocess.run([sys.executable, "-m", "dojo", "--root", str(kit), "doctor"], cwd=kit, env=env,
                            capture_output=True, text=True, timeout=120)
    rows = [line for line in doctor.stdout.splitlines() if "weaker here" in line]
    assert any(f"no {seam}" in row for row in rows), (
        f"dojo doctor must say what is weaker without {seam}:\n{doctor.stdout[-3000:]}"
    )


# Every means Windows lacks, taken away at once: the standard library's first, then the
# layer's (importing dojo.system reads the standard library once).
WINDOWS_LIKE = "\n".join(SEAMS[s] for s in ("fork", "SIGALRM", "SIGUSR1", "CPU affinity", "/proc", "/dev/shm",
                                             "subreaper"))


@pytest.mark.slow
def test_dojo_verify_agrees_with_the_manifest_on_a_windows_like_system(tmp_path):
    """The katas that lean on a means only Linux has (CPU affinity: parallel2; /proc and
    /dev/shm: shared3; a pool whose workers must be told apart: pools4): with every means
    Windows lacks taken away, each unsolved kata fails where ``fails_on_for`` says it does
    there (parallel2's ``[kata.without.affinity]``) and each solution passes, on spawn."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(WINDOWS_LIKE, encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(site), str(ROOT)]), COLUMNS="200")
    done = subprocess.run([sys.executable, "-m", "dojo", "--root", str(ROOT), "verify", "--start-method", "spawn",
                           "parallel2", "shared3", "pools4"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0 and "3 katas agree" in done.stdout, (
        f"dojo verify must agree with katas.toml on a Windows-like system:\n{done.stdout[-3000:]}{done.stderr[-2000:]}"
    )


RUN_PAST_WALL = """
import sys
from pathlib import Path
from dojo import runner
result = runner.run_kata(Path(sys.argv[1]), "hang1", "katas", start_methods=["spawn"], wall=4,
                         env={"DOJO_TIMEOUT_SCALE": "10"})
print("OVERRAN" if result.overran else "FINISHED")
print(result.output)
"""


def test_on_a_windows_like_system_a_run_stopped_at_its_wall_dumped_its_stacks_first(tmp_path):
    """No SIGUSR1 to ask for them: the run dumps its own stacks (faulthandler's timer) a
    second before the controller's wall, so the output of a run that overran shows where
    it was. (The test's own timeout is stretched past the wall, so the wall ends it.)"""
    kit = copy_kit(tmp_path / "kit")
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(WINDOWS_LIKE, encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(site), str(ROOT)]))
    done = subprocess.run([sys.executable, "-c", RUN_PAST_WALL, str(kit)], cwd=kit, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.stdout.startswith("OVERRAN"), done.stdout[-2000:] + done.stderr[-2000:]
    assert "most recent call first" in done.stdout and "hang1.py" in done.stdout, done.stdout[-3000:]
