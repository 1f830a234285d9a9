"""The loop's screen as a learner sees it: the pty's output rendered by pyte (selftest/
terminal.py), so each test reads the screen as it is now, after every redraw."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from selftest.helpers import copy_kit, kill_own_processes, own_processes

pytest.importorskip("pexpect")
pytest.importorskip("pyte")

from selftest.terminal import Terminal  # noqa: E402
from selftest.test_loop import SOLVED_GOOD1  # noqa: E402

GOOD1_FAILS = "doubles under fork returned [1, 2, 3]"


@pytest.fixture
def kit(tmp_path):
    return copy_kit(tmp_path)


@pytest.fixture
def term(kit):
    scratch = Path(tempfile.mkdtemp(prefix="dojo-t-"))  # short: AF_UNIX paths are limited
    opened = []

    def start(*args, **kwargs):
        opened.append(Terminal(kit, *args, tmpdir=scratch, **kwargs))
        return opened[-1]

    yield start
    for t in opened:
        t.close()
    shutil.rmtree(scratch, ignore_errors=True)


def test_the_screen_is_redrawn_whole_with_the_progress_bar_and_the_current_kata(kit, term):
    t = term()
    t.wait_for("0/10 katas done", "0/10 points", "kata 1 of 10: good1 · Doubles", GOOD1_FAILS,
               "Watching katas/good1.py")
    t.press("h")
    t.wait_for("Hint 1 of 2 for good1", GOOD1_FAILS)  # the hint joins the verdict on the page
    (kit / "katas" / "good1.py").write_text(SOLVED_GOOD1, encoding="utf-8")
    t.wait_for("1/10 katas done", "1/10 points", "good1 is done", "Hint 1 of 2 for good1", gone=(GOOD1_FAILS,))
    t.press("n")
    screen = t.wait_for("kata 2 of 10: hang1", "hang1 did not finish within 2 s",
                        gone=("good1 is done", "Hint 1 of 2 for good1", "kata 1 of 10"))
    assert screen.count("katas done") == 1, f"one header, not one per redraw:\n{screen}"
    assert t.quit() == 0
    assert not own_processes()


def test_the_list_moves_with_the_arrow_keys_searches_as_you_type_and_opens_with_enter(kit, term):
    t = term()
    t.wait_for(GOOD1_FAILS)
    t.press("l")
    t.wait_for("›  good1", "hang1", "killpg1", "Enter open")  # the cursor starts on the current kata
    t.press("down", "down")
    t.wait_for("›  crash1")
    t.press("up")
    t.wait_for("›  hang1")
    t.press("enter")
    t.wait_for("kata 2 of 10: hang1", "Watching katas/hang1.py", gone=("Enter open",))
    t.press("l", "L", "e", "a", "k")  # case does not matter; the list narrows as you type
    screen = t.wait_for("search: Leak", "›  leak1", gone=("good1", "crash1"))
    t.press("backspace", "backspace", "backspace", "x", "i", "t")
    t.wait_for("search: Lxit", "No kata matches")
    t.press("esc")  # Esc clears the search first
    t.wait_for("›  hang1", "good1", "killpg1", gone=("search:",))
    t.press("esc")  # then goes back to the kata
    t.wait_for("Watching katas/hang1.py", gone=("Enter open",))
    t.press("l", "s", "y", "n", "enter")
    t.wait_for("kata 5 of 10: syntax1", "SyntaxError")
    assert "leak1" in screen
    assert t.quit() == 0
    assert not own_processes()


def test_korean_learners_get_the_whole_screen_in_korean(kit, term):
    t = term(lang="ko")
    t.wait_for("카타 10개 중 0개 완료", "10점 중 0점", "카타 10개 중 1번째: good1 · 두 배", "지켜보는 중")
    t.press("l")
    t.wait_for("↑/↓ 이동", "입력해서 찾기", "▶ 진행 중", "남음")
    assert t.quit() == 0


def _sleeping_good1(kit: Path, tmp_path: Path) -> tuple[Path, Path]:
    """good1 made to sleep a minute, well within its timeout (raised to 120 s), so that
    only a cancel ends its check early: without one, nothing else happens for a minute."""
    started, finished = tmp_path / "started", tmp_path / "finished"
    toml = kit / "katas.toml"
    head = 'name = "good1"\ntrack = "fixture"\n'
    toml.write_text(toml.read_text(encoding="utf-8").replace(head, head + "timeout = 120\n", 1), encoding="utf-8")
    source = f'''"""Doubles, after a long wait."""
import os
import time


def doubles(ctx, numbers):
    with open({str(started)!r}, "w") as fh:
        fh.write(str(os.getpid()))
    time.sleep(60)  # the check is surely still running when the key or the save arrives
    open({str(finished)!r}, "w").close()
    return list(numbers)
'''
    (kit / "katas" / "good1.py").write_text(source, encoding="utf-8")
    return started, finished


def _wait_started(started: Path) -> int:
    from dojo import procs

    assert procs.wait_until(lambda: started.exists() and started.read_text(), 60, step=0.02), "good1 never started"
    return int(started.read_text())


def _gone(pid: int) -> bool:
    import psutil

    from dojo import procs

    def dead():
        try:
            return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
        except psutil.Error:
            return True

    return procs.wait_until(dead, 5, step=0.02)


def test_moving_on_during_a_check_cancels_it_and_kills_its_run(kit, term, tmp_path):
    started, finished = _sleeping_good1(kit, tmp_path)
    t = term()
    pid = _wait_started(started)
    t.press("n")  # while good1's check sleeps
    t.wait_for("kata 2 of 10: hang1", "hang1 did not finish within 2 s", timeout=40)
    assert _gone(pid), f"the cancelled check's test process (pid {pid}) must be killed"
    assert not finished.exists(), "the cancelled check must not run on to its end"
    assert t.quit() == 0
    assert not own_processes()


def test_a_save_during_a_check_cancels_it_and_checks_the_new_code_at_once(kit, term, tmp_path):
    started, finished = _sleeping_good1(kit, tmp_path)
    t = term()
    pid = _wait_started(started)
    (kit / "katas" / "good1.py").write_text(SOLVED_GOOD1, encoding="utf-8")
    t.wait_for("good1 is done", timeout=40)
    assert _gone(pid), f"the check of the code before the save (pid {pid}) must be killed"
    assert not finished.exists(), "the check of the code before the save must not run on to its end"
    assert t.quit() == 0
    assert not own_processes()


def _ended(t, timeout: float = 30) -> int | None:
    """Wait for dojo to end by itself; its exit status (or the signal that ended it)."""
    t.wait_end(timeout)
    return t.child.exitstatus if t.child.exitstatus is not None else -(t.child.signalstatus or 0)


def _run_folders(tmpdir: Path) -> list[str]:
    return sorted(p.name for p in tmpdir.glob("dojo-run-*"))


@pytest.mark.parametrize("signame", ["SIGHUP", "SIGTERM"])
def test_a_closed_terminal_or_sigterm_during_a_check_ends_dojo_like_q_leaving_nothing(kit, tmp_path, signame):
    import signal

    started, finished = _sleeping_good1(kit, tmp_path)
    scratch = Path(tempfile.mkdtemp(prefix="dojo-t-"))
    t = Terminal(kit, tmpdir=scratch)
    try:
        pid = _wait_started(started)
        assert _run_folders(scratch), "the check in flight has its run folder"
        os.kill(t.child.pid, getattr(signal, signame))
        assert _ended(t) == 0, f"dojo must leave through its cleanup on {signame}"
        assert _gone(pid), "the check in flight is killed with it"
        assert not finished.exists()
        assert not own_processes()
        assert _run_folders(scratch) == [], "the run's folder goes with it"
    finally:
        t.close()
        shutil.rmtree(scratch, ignore_errors=True)


def test_dojo_clean_removes_the_run_folder_of_a_dojo_that_was_killed_and_nobody_elses(kit, tmp_path):
    import signal
    import subprocess
    import sys

    started, _finished = _sleeping_good1(kit, tmp_path)
    scratch = Path(tempfile.mkdtemp(prefix="dojo-t-"))
    foreign = scratch / "dojo-run-notours"  # a folder of the same name that no dojo of this kit noted
    foreign.mkdir()
    t = Terminal(kit, tmpdir=scratch)
    try:
        _wait_started(started)
        ours = [name for name in _run_folders(scratch) if name != foreign.name]
        assert ours, "the check in flight has its run folder"
        os.kill(t.child.pid, signal.SIGKILL)  # no cleanup at all
        _ended(t)
        kill_own_processes()  # its runs too: as when the whole session is killed
        done = subprocess.run([sys.executable, "-m", "dojo", "clean"], cwd=kit, capture_output=True, text=True,
                              timeout=60, env={**os.environ, "TMPDIR": str(scratch), "DOJO_LANG": "en"})
        assert done.returncode == 0, done.stdout + done.stderr
        assert "removed the folder of a run whose dojo was killed" in done.stdout, done.stdout
        assert _run_folders(scratch) == [foreign.name], "only the killed dojo's own folders go"
        assert not own_processes()
    finally:
        t.close()
        shutil.rmtree(scratch, ignore_errors=True)


def test_o_shows_the_output_and_esc_brings_the_verdict_back(kit, term):
    (kit / "katas" / "good1.py").write_text(
        '"""Doubles, with a print."""\n\n\ndef doubles(ctx, numbers):\n'
        '    print("learner debug: numbers are", numbers)\n    return list(numbers)\n', encoding="utf-8")
    t = term()
    t.wait_for(GOOD1_FAILS)
    t.press("o")
    t.wait_for("output of the last check of good1", "learner debug: numbers are", "Esc back to good1",
               gone=("Watching katas/good1.py",))
    t.press("esc")
    t.wait_for(GOOD1_FAILS, "Watching katas/good1.py", gone=("learner debug",))
    t.press("s")
    t.wait_for("solutions/good1.py", "Esc back to good1")
    t.press("s")
    t.wait_for(GOOD1_FAILS, gone=("Esc back",))
    assert t.quit() == 0


def test_a_page_taller_than_the_terminal_scrolls_under_a_header_and_keys_that_stay(kit, term):
    prints = "".join(f'    print("learner line {i:02d}")\n' for i in range(1, 41))
    (kit / "katas" / "good1.py").write_text(
        f'"""Doubles, with many prints."""\n\n\ndef doubles(ctx, numbers):\n{prints}    return list(numbers)\n',
        encoding="utf-8")
    t = term(rows=20)
    t.wait_for(GOOD1_FAILS)
    t.press("o")  # the output opens at its end, where the run ended
    screen = t.wait_for("katas done", "Esc back to good1", "↑/↓ PgUp/PgDn Home/End scroll",
                        gone=("output of the last check of good1",))
    assert "learner line 01" not in screen, screen
    t.press("home")
    t.wait_for("katas done", "output of the last check of good1", "lines 1–", "Esc back to good1",
               gone=("learner line 40",))
    t.press("pagedown")
    t.wait_for("katas done", "learner line", "Esc back to good1", gone=("output of the last check", "lines 1–"))
    t.press("esc")  # back to the verdict, which fits: no window
    t.wait_for(GOOD1_FAILS, "Watching katas/good1.py", gone=("learner line", "scroll"))
    assert t.quit() == 0


def test_a_runs_every_kata_in_the_background_with_progress_while_keys_still_act(kit, term):
    t = term()
    t.wait_for(GOOD1_FAILS)
    (kit / "katas" / "good1.py").write_text(SOLVED_GOOD1, encoding="utf-8")
    t.wait_for("good1 is done")
    t.press("n")
    t.wait_for("kata 2 of 10: hang1")
    t.press("a")
    t.wait_for("Running the 9 katas not done yet")
    t.press("h")  # the loop answers keys while every kata runs in the background
    t.wait_for("Hint 1 of 2 for hang1", "Running the 9 katas")
    screen = t.wait_for("Run of every kata finished: 9 of 9", "✗ hang1", "✗ crash1", "✗ killpg1", timeout=180)
    assert "1/10 katas done" in screen, f"no unsolved kata may count as done:\n{screen}"
    assert t.quit() == 0
    assert not own_processes()
