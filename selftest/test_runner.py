"""The runner and the plugin against the fixture kit: hangs, crashes, leaks, syntax errors."""

import os
import shutil
import tempfile
import time

import pytest

from dojo import procs, runner
from selftest.helpers import copy_kit, own_processes

METHODS = ["fork", "spawn", "forkserver"]


@pytest.fixture(scope="module")
def kit(tmp_path_factory):
    return copy_kit(tmp_path_factory.mktemp("runner"))


def outcomes(result):
    return {c.start_method: c.outcome for c in result.run.cells}


def test_a_solved_kata_passes_on_every_start_method(kit):
    result = runner.run_kata(kit, "good1", "solutions")
    assert outcomes(result) == {m: "passed" for m in METHODS}, result.output
    assert result.returncode == 0


def test_an_unsolved_kata_fails_with_its_teaching_message(kit):
    result = runner.run_kata(kit, "good1", "katas")
    assert outcomes(result) == {m: "failed" for m in METHODS}
    by_method = {c.start_method: c.message for c in result.run.cells}
    assert by_method["spawn"] == "doubles under spawn returned [1, 2, 3]"


def test_korean_learners_read_the_teaching_message_in_korean(kit):
    result = runner.run_kata(kit, "good1", "katas", start_methods=["fork"], env={"DOJO_LANG": "ko"})
    assert [c.message for c in result.run.cells] == ["fork에서 doubles가 [1, 2, 3]를 돌려줌"]


def test_a_hang_ends_within_its_timeout_naming_the_line_it_blocked_on(kit):
    result = runner.run_kata(kit, "hang1", "katas", wall=60)
    assert not result.overran
    assert outcomes(result) == {m: "timeout" for m in METHODS}
    for cell in result.run.cells:
        assert cell.where == "katas/hang1.py:15 (wait_for_child): child.join()"
        assert "hang1" in cell.message and "katas/hang1.py:15" in cell.message
        assert "wait_for_child" in cell.stack
        assert cell.duration < 5, "the kata's manifest timeout is 2 s"
    assert not own_processes()


SECOND_HANG1_TEST = """
def test_the_child_is_joined_again(kata, mp_context):
    assert kata.wait_for_child(mp_context) == 0
"""


@pytest.mark.parametrize("stop_after_hang", [True, False], ids=["by default", "with DOJO_STOP_CELL_AFTER_HANG=0"])
def test_after_a_hang_the_cells_other_tests_are_not_run_unless_asked_for(tmp_path, stop_after_hang):
    """The cell's verdict is settled by the first timeout: its other tests are failed
    unrun, so a hang costs one timeout per start method, not one per test (issue 12: 60 s
    for six tests of one kata). DOJO_STOP_CELL_AFTER_HANG=0 lets every test time out."""
    kit = copy_kit(tmp_path)
    with (kit / "tests" / "test_hang1.py").open("a", encoding="utf-8") as f:
        f.write(SECOND_HANG1_TEST)
    env = {} if stop_after_hang else {"DOJO_STOP_CELL_AFTER_HANG": "0"}
    result = runner.run_kata(kit, "hang1", "katas", start_methods=["fork", "spawn"], env=env, wall=60)
    for method in ("fork", "spawn"):
        cells = {c.test: c for c in result.run.cells if c.start_method == method}
        first, second = cells["test_the_child_is_joined"], cells["test_the_child_is_joined_again"]
        assert first.outcome == "timeout"
        if stop_after_hang:
            assert second.outcome == "failed" and second.duration < 1, (second.outcome, second.duration)
            assert second.message.startswith("not run") and "test_the_child_is_joined" in second.message
        else:
            assert second.outcome == "timeout"
    assert not own_processes()


def test_a_crash_is_recorded_as_crashed_never_as_a_pass(kit):
    result = runner.run_kata(kit, "crash1", "katas")
    # os._exit(0) ended the whole pytest process with status 0: only the records tell.
    assert result.returncode == 0
    assert [c.outcome for c in result.run.cells] == ["crashed"]
    assert result.run.finished is None


def test_leftover_processes_and_segments_are_killed_unlinked_and_reported(kit):
    result = runner.run_kata(kit, "leak1", "katas")
    assert outcomes(result) == {m: "leaked" for m in METHODS}
    segments = set()
    for cell in result.run.cells:
        assert any("still running" in leak for leak in cell.leaks), cell.leaks
        segments |= {leak.rsplit(" ", 1)[-1] for leak in cell.leaks if "psm_" in leak}
    assert len(segments) == 3, result.run.cells
    assert segments & procs.shm_names() == set()
    assert not own_processes()


def test_a_process_that_escaped_with_setsid_is_still_found_and_killed(kit):
    result = runner.run_kata(kit, "escape1", "katas")
    assert outcomes(result) == {m: "leaked" for m in METHODS}
    assert not own_processes()


def test_a_syntax_error_names_the_line_and_spares_the_other_katas(kit):
    result = runner.run_kata(kit, "syntax1", "katas")
    assert outcomes(result) == {m: "error" for m in METHODS}
    assert "katas/syntax1.py line 4: SyntaxError" in result.run.cells[0].message
    assert outcomes(runner.run_kata(kit, "good1", "solutions", start_methods=["fork"])) == {"fork": "passed"}


def test_a_run_past_its_wall_limit_is_killed_with_its_whole_tree(kit, monkeypatch):
    # hang1 never ends: the wall only has to outlast the run's start, also on a busy
    # machine, and the test's own timeout (scaled up here) must not end it first
    monkeypatch.setenv("DOJO_TIMEOUT_SCALE", "20")
    result = runner.run_kata(kit, "hang1", "katas", start_methods=["spawn"], wall=4.0)
    assert result.overran
    assert [c.outcome for c in result.run.cells] == ["crashed"]
    assert not own_processes()
    assert not [p for p in procs.descendants() if not procs.is_zombie(p)]


@pytest.fixture
def own_tmpdir(monkeypatch):
    """A TMPDIR for this test alone; short, as AF_UNIX socket paths are limited to 108 bytes."""
    scratch = tempfile.mkdtemp(prefix="dojo-t-")
    monkeypatch.setenv("TMPDIR", scratch)
    monkeypatch.setattr(tempfile, "tempdir", None)
    yield scratch
    shutil.rmtree(scratch, ignore_errors=True)


def test_a_warm_run_leaves_nothing_in_the_temporary_folder(kit, own_tmpdir):
    """The warm runner's child ends with os._exit, so multiprocessing's exit handlers never
    remove the fork server's socket folder (pymp-...): the run's own folder takes it."""
    w = runner.WarmRunner()
    try:
        result = w.run(kit, "good1", "solutions")
    finally:
        w.stop()
    assert {c.outcome for c in result.run.cells} == {"passed"}
    left = sorted(os.listdir(own_tmpdir))
    assert not left, f"a warm run of good1 on every start method left {left} in the temporary folder"


def test_a_run_killed_at_its_wall_leaves_nothing_in_the_temporary_folder(kit, own_tmpdir):
    result = runner.run_kata(kit, "hang1", "katas", start_methods=["forkserver"], wall=2.0)
    assert result.overran, "hang1 must still be running at its wall, so that the run is killed"
    left = sorted(os.listdir(own_tmpdir))
    assert not left, f"a run killed at its wall left {left} in the temporary folder"


def test_the_start_method_option_narrows_the_matrix(kit):
    result = runner.run_kata(kit, "good1", "solutions", start_methods=["spawn"])
    assert outcomes(result) == {"spawn": "passed"}
    assert result.run.session["start_methods"] == ["spawn"]


def test_the_results_file_is_left_nowhere(kit, tmp_path):
    runner.run_kata(kit, "good1", "solutions", start_methods=["fork"])
    assert not [n for n in os.listdir(tmp_path) if n.startswith("dojo-")]


def test_a_fork_bomb_ends_as_a_failure_and_leaves_nothing(kit):
    result = runner.run_kata(kit, "bomb1", "katas", start_methods=["fork"])
    assert [c.outcome for c in result.run.cells] == ["leaked"]
    assert not own_processes()


def test_sys_exit_at_import_is_an_error_of_that_kata_not_a_pass(kit):
    result = runner.run_kata(kit, "exit1", "katas", start_methods=["spawn"])
    (cell,) = result.run.cells
    assert cell.outcome == "error" and "SystemExit" in cell.message
    assert result.returncode != 0


def test_a_segfault_is_recorded_as_crashed(kit):
    result = runner.run_kata(kit, "segv1", "katas", start_methods=["fork"])
    assert [c.outcome for c in result.run.cells] == ["crashed"]
    assert result.returncode != 0


@pytest.mark.parametrize("warm", [False, True])
def test_killing_its_own_process_group_takes_only_that_run_down(kit, warm):
    if warm:
        w = runner.WarmRunner()
        try:
            result = w.run(kit, "killpg1", "katas", start_methods=["fork"])
            assert [c.outcome for c in result.run.cells] == ["crashed"]
            after = w.run(kit, "good1", "solutions", start_methods=["fork"])  # the warm runner survived
            assert [c.outcome for c in after.run.cells] == ["passed"]
        finally:
            w.stop()
    else:
        result = runner.run_kata(kit, "killpg1", "katas", start_methods=["fork"])
        assert [c.outcome for c in result.run.cells] == ["crashed"]
    assert not own_processes()


def test_the_warm_runner_gives_the_same_verdicts_as_a_cold_run(kit):
    w = runner.WarmRunner()
    try:
        for kata, target in (("good1", "katas"), ("good1", "solutions"), ("syntax1", "katas")):
            warm = sorted((c.start_method, c.outcome) for c in w.run(kit, kata, target).run.cells)
            cold = sorted((c.start_method, c.outcome) for c in runner.run_kata(kit, kata, target).run.cells)
            assert warm == cold, kata
    finally:
        w.stop()
    assert not own_processes()


def test_a_segment_under_a_name_of_the_learners_own_is_a_leak_too(kit):
    name = f"dojo_named_{os.getpid()}_{int(time.time() * 1000) % 100000}"
    (kit / "katas" / "leak1.py").write_text(
        "from multiprocessing import shared_memory\n\n\n"
        "def leave_things(ctx):\n"
        f"    shm = shared_memory.SharedMemory(name={name!r}, create=True, size=64)\n"
        "    shm.close()\n"
        "    # TODO: unlink\n"
        "    return shm.name\n"
    )
    result = runner.run_kata(kit, "leak1", "katas", start_methods=["fork"])
    assert outcomes(result) == {"fork": "leaked"}
    assert any(name in leak for leak in result.run.cells[0].leaks), result.run.cells[0].leaks
    assert not os.path.exists(f"/dev/shm/{name}")
