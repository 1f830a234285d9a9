"""Run pytest on one kata in a fresh process, with a wall limit, and read its results.

    controller (verify, and later the learner's loop and the grader)
      └─ python -m pytest tests/test_<kata>.py --target T --dojo-results F
            own session (process group); past the wall limit: SIGUSR1 (stacks), then
            SIGKILL to the group and to every descendant that left it with setsid()

The controller never imports kata code; it reads the JSON Lines the plugin wrote.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

from dojo import procs, results

_active_lock = threading.Lock()
_active: set[int] = set()  # pids of runs in progress (direct children we wait for)


@dataclass
class RunResult:
    kata: str
    target: str
    returncode: int
    run: results.Run
    output: str
    seconds: float
    overran: bool


def pytest_command(root: Path, kata: str, target: str, results_path: str, start_methods=None) -> list[str]:
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "-p",
        "pytest_timeout",  # plugin autoload is off (child_env): only what the kit needs
        f"tests/test_{kata}.py",
        f"--target={target}",
        f"--dojo-results={results_path}",
    ]
    for method in start_methods or ():
        cmd.append(f"--start-method={method}")
    return cmd


def child_env(extra=None) -> dict:
    env = dict(os.environ)
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # two saves within a second must never load a stale .pyc
    # Other pytest plugins in the environment (randomly, anyio, ...) cost start-up time
    # and may reorder or alter the run; the kit loads what it needs explicitly.
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    env.pop("DOJO_RESULTS", None)
    env.update(extra or {})
    return env


def run_kata(root: Path, kata: str, target: str, *, start_methods=None, wall: float = 120.0, env=None) -> RunResult:
    """Run one kata's tests against ``target`` and return what the plugin recorded."""
    fd, path = tempfile.mkstemp(prefix=f"dojo-{kata}-", suffix=".jsonl")
    os.close(fd)
    started = time.monotonic()
    overran = False
    try:
        with tempfile.TemporaryFile() as out:
            with _active_lock:
                proc = subprocess.Popen(
                    pytest_command(root, kata, target, path, start_methods),
                    cwd=root,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    env=child_env(env),
                    start_new_session=True,
                )
                _active.add(proc.pid)
            try:
                proc.wait(timeout=wall)
            except subprocess.TimeoutExpired:
                overran = True
                stop_tree(proc)
            finally:
                with _active_lock:
                    _active.discard(proc.pid)
            kill_leftovers(proc.pid)
            reap_adopted()
            out.seek(0)
            output = out.read().decode("utf-8", "replace")
        return RunResult(kata, target, proc.returncode, results.read(path), output, time.monotonic() - started, overran)
    finally:
        os.unlink(path)


def stop_tree(proc: subprocess.Popen, grace: float = 0.3) -> None:
    """Stacks first (SIGUSR1 to pytest alone: the plugin's faulthandler; its children
    would die of it), then kill the whole tree."""
    try:
        tree = [psutil.Process(proc.pid), *psutil.Process(proc.pid).children(recursive=True)]
    except psutil.Error:
        tree = []
    try:
        os.kill(proc.pid, signal.SIGUSR1)
    except OSError:
        pass
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        pass
    for p in tree:
        try:
            p.kill()
        except psutil.Error:
            pass
    proc.wait()


def kill_leftovers(session_id: int) -> list[str]:
    """Kill processes still in the run's session (a daemon that outlived pytest)."""
    found = []
    for p in psutil.process_iter(["pid"]):
        try:
            if os.getsid(p.pid) == session_id:
                found.append(procs.describe(p))
                p.kill()
        except (OSError, psutil.Error):
            continue
    return found


def reap_adopted() -> None:
    """Kill and reap orphans we adopted as a subreaper (``procs.set_subreaper``): a
    learner's process that left its run's session with setsid() and outlived the run.
    Runs in progress are direct children too, and are left alone."""
    with _active_lock:
        active = set(_active) | procs.infrastructure_pids()
        try:
            children = psutil.Process().children()
        except psutil.Error:
            return
        for child in children:
            if child.pid in active:
                continue
            try:
                child.kill()
            except psutil.Error:
                pass
            try:
                os.waitpid(child.pid, 0)
            except ChildProcessError:
                pass
