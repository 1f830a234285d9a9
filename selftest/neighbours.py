"""Run a command on a machine that others share: ``python -m selftest.neighbours -- CMD ...``

dojo's checks must reason only about what their own process tree made. This runs CMD
(the selftests, ``dojo verify``) while two neighbours keep working beside it, as other
users and programs do on a shared machine:

  churn   a plain Python program (no dojo) that keeps creating and removing shared
          memory and named semaphores with multiprocessing's own names (``psm_…``,
          ``sem.mp-…``): some unlinked at once, some left closed but not unlinked for a
          while, a few kept for the whole run
  loop    a second ``dojo`` learner's loop in another clone of the kit, in a terminal
          (a pty), whose kata is saved every few seconds so that it keeps running
          checks: warm runners, pytest processes, fork servers, resource trackers

Neither is a descendant of CMD, so a check that looks only at its own tree never sees
them; one that lists the whole machine (/dev/shm, every process named like a warm
runner) fails. At the end both neighbours must still be alive and must have done their
work, or the run fails: a shared-machine test whose neighbours sat idle proves nothing.
The exit status is CMD's, or 3 when a neighbour failed.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KIT_PARTS = ("katas", "tests", "hidden", "katas.toml", "conftest.py", "pyproject.toml")
SAVE_EVERY = 3.0  # seconds between saves of the neighbour loop's kata


def churn(stop_file: str, report: str) -> None:
    """The churning neighbour's body (run as ``-c``, without dojo's tracker)."""
    import collections
    import multiprocessing
    from multiprocessing import shared_memory

    ctx = multiprocessing.get_context("spawn")  # named semaphores: sem.mp-…
    keep = [shared_memory.SharedMemory(create=True, size=64), ctx.Lock()]  # the whole run
    window = collections.deque()
    made = 0
    while not os.path.exists(stop_file):
        block = shared_memory.SharedMemory(create=True, size=4096)
        if made % 2:
            block.close()  # closed but not yet unlinked: no process maps it
        window.append((block, ctx.Semaphore(1)))
        made += 1
        if len(window) > 16:
            old, _sem = window.popleft()
            old.close()
            old.unlink()
        time.sleep(0.01)
    for block, _sem in window:
        block.close()
        block.unlink()
    keep[0].close()
    keep[0].unlink()
    Path(report).write_text(str(made))


class Neighbours:
    def __init__(self):
        self.folder = Path(tempfile.mkdtemp(prefix="dojo-neighbours-"))
        self.stop_file = self.folder / "stop"
        self.churn_report = self.folder / "churned"
        self.clone = self.folder / "clone"
        # the neighbours are nobody's run: no tree ledger of ours, no dojo settings
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("DOJO_")}
        self.env.update(DOJO_LANG="en", NO_COLOR="1", TERM="xterm", COLUMNS="160", LINES="50")
        self.output = bytearray()
        self.saves = 0
        self.answered = 0
        self.problems: list[str] = []

    def start(self) -> None:
        code = f"from selftest.neighbours import churn; churn({str(self.stop_file)!r}, {str(self.churn_report)!r})"
        self.churner = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=self.env, start_new_session=True)
        self.clone.mkdir()
        for part in KIT_PARTS:
            src = ROOT / part
            if src.is_dir():
                shutil.copytree(src, self.clone / part, ignore=shutil.ignore_patterns("__pycache__", ".dojo"))
            elif src.is_file():
                shutil.copy2(src, self.clone / part)
        try:
            import pty  # the loop needs a terminal; POSIX only
        except ImportError:
            self.loop = None
            self.problems_ignored = "no pty here: the neighbour dojo loop is left out"
            return
        master, slave = pty.openpty()
        self.loop = subprocess.Popen(
            [sys.executable, "-m", "dojo"], cwd=self.clone, env=self.env, start_new_session=True,
            stdin=slave, stdout=slave, stderr=slave,
        )
        os.close(slave)
        self.master = master
        threading.Thread(target=self._drain, daemon=True).start()
        self._saver_stop = threading.Event()
        self.saver = threading.Thread(target=self._save_katas, daemon=True)
        self.saver.start()

    def _drain(self) -> None:
        while True:
            try:
                data = os.read(self.master, 65536)
            except OSError:
                return
            if not data:
                return
            self.output += data

    def _save_katas(self) -> None:
        """Save the loop's first kata every few seconds, as a learner does, so it re-runs."""
        kata = self.clone / "katas" / "processes1.py"
        original = kata.read_text(encoding="utf-8")
        shown = len(self.output)
        while not self._saver_stop.wait(SAVE_EVERY):
            if self.saves and len(self.output) > shown:
                self.answered += 1  # the loop printed something after the last save
            shown = len(self.output)
            self.saves += 1
            kata.write_text(original + f"\n# save {self.saves}\n", encoding="utf-8")

    def stop(self) -> None:
        loop_note = self.problems_ignored if self.loop is None else self._stop_loop()
        if self.churner.poll() is not None:
            self.problems.append(f"the churning neighbour died early (exit {self.churner.returncode})")
        self.stop_file.touch()
        try:
            self.churner.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.churner.kill()
            self.churner.wait()
            self.problems.append("the churning neighbour did not stop")
        churned = int(self.churn_report.read_text()) if self.churn_report.exists() else 0
        if churned < 10:
            self.problems.append(f"the churning neighbour made only {churned} objects")
        self.summary = f"neighbours: {churned} shared-memory objects churned; {loop_note}"
        shutil.rmtree(self.folder, ignore_errors=True)

    def _stop_loop(self) -> str:
        self._saver_stop.set()
        self.saver.join()
        if self.loop.poll() is not None:
            self.problems.append(f"the neighbour dojo loop died early (exit {self.loop.returncode})")
        try:
            os.write(self.master, b"q")
            self.loop.wait(timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            self.problems.append("the neighbour dojo loop did not quit on 'q'")
        if self.loop.poll() is None:
            os.killpg(self.loop.pid, signal.SIGKILL)
            self.loop.wait()
        os.close(self.master)
        if self.saves > 1 and not self.answered:
            self.problems.append(f"the neighbour loop answered none of {self.saves} saves:\n{self.tail()}")
        return f"the other clone's dojo loop answered {self.answered} of {max(self.saves - 1, 0)} saves"

    def tail(self) -> str:
        return bytes(self.output[-800:]).decode("utf-8", "replace")


def main(argv: list[str]) -> int:
    if "--" in argv:
        argv = argv[argv.index("--") + 1:]
    if not argv:
        print(__doc__)
        return 2
    # a SIGTERM (tox stopped, CI's time up) still stops the neighbours and removes the clone
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    neighbours = Neighbours()
    neighbours.start()
    try:
        code = subprocess.call(argv)
    finally:
        neighbours.stop()
    print(neighbours.summary)
    for problem in neighbours.problems:
        print(f"neighbours: {problem}", file=sys.stderr)
    return code if code or not neighbours.problems else 3


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
