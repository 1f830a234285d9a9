"""The learner's loop, driven in a real terminal (a pty) against the fixture kit."""

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from selftest.helpers import copy_kit, own_processes

pexpect = pytest.importorskip("pexpect")

SOLVED_GOOD1 = '''"""Doubles, computed in a pool."""


def double(n):
    return n * 2


def doubles(ctx, numbers):
    with ctx.Pool(2) as pool:
        return pool.map(double, numbers)
'''


def spawn_dojo(kit, *args, lang="en", tmpdir=None):
    env = {**os.environ, "DOJO_LANG": lang, "NO_COLOR": "1", "TERM": "xterm", "COLUMNS": "200", "LINES": "50"}
    if tmpdir is not None:
        env["TMPDIR"] = str(tmpdir)
    child = pexpect.spawn(
        sys.executable, ["-m", "dojo", *args], cwd=str(kit), env=env, encoding="utf-8", timeout=60, dimensions=(50, 200)
    )
    return child


@pytest.fixture
def kit(tmp_path):
    return copy_kit(tmp_path)


@pytest.fixture
def scratch():
    """dojo's TMPDIR for one test; short, as AF_UNIX socket paths are limited to 108 bytes."""
    folder = Path(tempfile.mkdtemp(prefix="dojo-t-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_board_failure_hint_fix_matrix_next_and_reset_in_a_terminal(kit, scratch):
    child = spawn_dojo(kit, tmpdir=scratch)
    try:
        child.expect("Watching katas/good1.py")
        child.expect("doubles under fork returned \\[1, 2, 3\\]")
        child.send("h")
        child.expect("Hint 1 of 2 for good1")
        child.send("h")
        child.expect("Hint 2 of 2 for good1")
        (kit / "katas" / "good1.py").write_text(SOLVED_GOOD1, encoding="utf-8")
        child.expect("good1 passes on fork")
        child.expect("good1 is done: it passes on fork, spawn, forkserver")
        child.expect("solutions/good1.py")
        child.send("n")
        child.expect("Watching katas/hang1.py")
        child.expect("still running")  # a long run shows it is alive
        child.expect("hang1 did not finish within 2 s")  # the unsolved kata hangs; dojo says where
        child.expect("katas/hang1.py:15")
        child.send("r")
        child.expect("is back to the original")
        child.send("q")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0
    assert (kit / ".dojo" / "backup" / "hang1.py").exists()
    state = (kit / ".dojo" / "state.json").read_text(encoding="utf-8")
    assert '"good1"' in state
    assert not own_processes()
    # quit while hang1's reset run was in flight: that run's files go with dojo
    left = sorted(p.name for p in scratch.iterdir())
    assert not left, f"dojo quit mid-run and left {left} in its temporary folder"


def test_a_syntax_error_is_shown_and_the_next_save_runs_again(kit):
    (kit / "katas.toml").write_text(
        (kit / "katas.toml").read_text(encoding="utf-8").replace('name = "good1"', 'name = "good1"', 1), encoding="utf-8"
    )
    child = spawn_dojo(kit)
    try:
        child.expect("doubles under fork returned")
        good1 = kit / "katas" / "good1.py"
        good1.write_text("def doubles(ctx, numbers)\n    return []\n", encoding="utf-8")
        child.expect("katas/good1.py line 1: SyntaxError")
        good1.unlink()
        child.expect("katas/good1.py is missing")
        good1.write_text("import os\nos._exit(0)\n", encoding="utf-8")
        child.expect("The test run itself died")
        (kit / "katas.toml").write_text("schema = [\n", encoding="utf-8")
        child.expect("katas.toml cannot be read")
        good1.write_text(SOLVED_GOOD1.replace("# TODO", ""), encoding="utf-8")
        child.send("q")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert not own_processes()


def test_without_a_terminal_dojo_prints_the_first_failure_and_exits_non_zero(kit):
    proc = subprocess.run(
        [sys.executable, "-m", "dojo"],
        cwd=kit,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env={**os.environ, "DOJO_LANG": "en", "NO_COLOR": "1", "COLUMNS": "200"},
        timeout=120,
    )
    assert proc.returncode == 1
    assert "0/10 katas done" in proc.stdout
    assert "doubles under fork returned [1, 2, 3]" in proc.stdout


def test_korean_learners_get_a_korean_board(kit):
    proc = subprocess.run(
        [sys.executable, "-m", "dojo", "list"],
        cwd=kit,
        capture_output=True,
        text=True,
        env={**os.environ, "DOJO_LANG": "ko", "NO_COLOR": "1", "COLUMNS": "200"},
        timeout=60,
    )
    assert proc.returncode == 0
    for korean in ("카타 10개 중 0개 완료", "카타", "트랙", "제목", "상태", "두 배", "진행 중", "남음"):
        assert korean in proc.stdout, proc.stdout
    for english in ("katas done", "title", "status", "Doubles", "to do"):
        assert english not in proc.stdout, proc.stdout


def test_manual_mode_runs_the_check_when_c_is_pressed_not_on_save(kit, scratch):
    child = spawn_dojo(kit, "--manual", tmpdir=scratch)
    try:
        child.expect("katas/good1.py: press c")
        child.expect("doubles under fork returned \\[1, 2, 3\\]")  # the first check runs at once
        (kit / "katas" / "good1.py").write_text(SOLVED_GOOD1, encoding="utf-8")
        with pytest.raises(pexpect.TIMEOUT):
            child.expect("good1 passes on fork", timeout=3)  # a save alone runs nothing here
        child.send("c")
        child.expect("good1 passes on fork")
        child.expect("good1 is done")
        child.send("q")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert not own_processes()


# watchfiles that never reports a change, as on a file system whose events do not arrive
NO_EVENTS = """
import watchfiles


def watch(*args, stop_event=None, **kwargs):
    stop_event.wait()
    return iter(())


watchfiles.watch = watch
"""


def test_when_file_events_do_not_arrive_a_save_is_noticed_by_polling_and_said(kit, scratch, tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(NO_EVENTS, encoding="utf-8")
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "DOJO_LANG": "en", "NO_COLOR": "1", "TERM": "xterm", "TMPDIR": str(scratch),
           "PYTHONPATH": os.pathsep.join([str(site), str(root)])}
    child = pexpect.spawn(sys.executable, ["-m", "dojo"], cwd=str(kit), env=env, encoding="utf-8", timeout=60,
                          dimensions=(50, 200))
    try:
        child.expect("Watching katas/good1.py")
        child.expect("doubles under fork returned \\[1, 2, 3\\]")
        (kit / "katas" / "good1.py").write_text(SOLVED_GOOD1, encoding="utf-8")
        child.expect("no file event did")
        child.expect("good1 passes on fork")
        child.send("q")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert not own_processes()


def test_a_second_a_stops_the_run_of_every_kata_and_kills_its_runs(kit, scratch):
    child = spawn_dojo(kit, tmpdir=scratch)
    try:
        child.expect("doubles under fork returned")
        child.send("a")
        child.expect("Running the 10 katas not done yet")
        child.send("a")
        child.expect("Run of every kata stopped after", timeout=30)
        child.send("q")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert not own_processes()


PRINTING_GOOD1 = '''"""Doubles, with a debugging print."""


def doubles(ctx, numbers):
    print("learner debug: numbers are", numbers)
    return list(numbers)
'''


def test_o_shows_the_last_checks_full_output_with_the_learners_prints(kit, scratch):
    (kit / "katas" / "good1.py").write_text(PRINTING_GOOD1, encoding="utf-8")
    child = spawn_dojo(kit, tmpdir=scratch)
    try:
        child.expect("doubles under fork returned")
        child.send("o")
        child.expect("output of the last check of good1")
        child.expect("learner debug: numbers are")
        child.send("q")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
