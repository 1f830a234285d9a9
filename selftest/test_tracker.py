"""Leak attribution: a run is charged only with the segments its own tree created."""

import os
from multiprocessing import shared_memory

from dojo import procs, runner, tracker
from selftest.helpers import KIT


def test_a_segment_made_by_another_program_is_never_blamed_on_a_run():
    outsider = shared_memory.SharedMemory(create=True, size=16)  # made by this process, not the run
    try:
        name = outsider.name.lstrip("/")
        result = runner.run_kata(KIT, "good1", "solutions", start_methods=["fork"])
        assert [c.outcome for c in result.run.cells] == ["passed"], result.output
        assert name in procs.shm_names(), "dojo must never unlink what another program made"
    finally:
        outsider.close()
        outsider.unlink()


def test_a_segment_the_run_left_is_blamed_on_it_and_unlinked():
    result = runner.run_kata(KIT, "leak1", "katas", start_methods=["spawn"])
    (cell,) = result.run.cells
    leaked = [leak.rsplit(" ", 1)[-1] for leak in cell.leaks if "psm_" in leak]
    assert cell.outcome == "leaked" and len(leaked) == 1
    assert leaked[0] not in procs.shm_names()


def test_every_tracker_below_writes_to_each_tree_ledger_asked_for(tmp_path, monkeypatch):
    """dojo verify (and each selftest) asks for a tree ledger; nested askers each get
    every line, so an outer one still sees what an inner one's runs made."""
    outer, inner = tmp_path / "outer", tmp_path / "inner"
    outer.touch()
    inner.touch()
    monkeypatch.setenv(tracker.TREE_LEDGER, str(outer))
    monkeypatch.setenv(tracker.TREE_LEDGER, tracker.tree_ledgers_with(str(inner)))
    assert os.environ[tracker.TREE_LEDGER].split(os.pathsep)[:2] == [str(inner), str(outer)]
    result = runner.run_kata(KIT, "good1", "solutions", start_methods=["spawn"])  # a spawn Pool's semaphores
    assert [c.outcome for c in result.run.cells] == ["passed"], result.output
    for ledger in (inner, outer):
        text = ledger.read_text()
        assert "REGISTER:/mp-" in text, f"the run's tracker wrote no semaphore to {ledger.name}: {text[:300]!r}"
        assert tracker.tree_leftovers(str(ledger)) == set(), "the run removed its semaphores; nothing is left"


def test_a_tree_ledger_never_names_another_programs_objects(tmp_path):
    ledger = tmp_path / "ledger"
    ledger.write_text("REGISTER:/psm_ours0001:shared_memory\nUNREGISTER:/psm_ours0001:shared_memory\n")
    outsider = shared_memory.SharedMemory(create=True, size=16)  # exists, but no tracker of ours saw it made
    try:
        assert tracker.tree_leftovers(str(ledger)) == set()
        with ledger.open("a") as f:
            f.write(f"REGISTER:/{outsider.name.lstrip('/')}:shared_memory\n")
        assert tracker.tree_leftovers(str(ledger)) == {outsider.name.lstrip("/")}
    finally:
        outsider.close()
        outsider.unlink()


KILLED_RUN = """
import os, signal, sys
from multiprocessing import resource_tracker, shared_memory
from dojo import tracker
assert tracker.install(sys.argv[1])
shm = shared_memory.SharedMemory(create=True, size=16)  # starts the tracker, which writes the ledger
shm.close()
shm.unlink()
os.kill(os.getpid(), signal.SIGKILL)  # no pytest_unconfigure, no atexit
"""


def test_a_killed_run_leaves_no_ledger_behind_but_the_tree_ledger_stays(tmp_path, monkeypatch):
    # The plugin removes its run's ledger at the end of the session; a run that is killed
    # (a cancelled check, a wall limit) never gets there, and the tracker, which outlives
    # it by a moment, removes it instead.
    import subprocess
    import sys

    ledger, tree = tmp_path / "dojo-ledger-run", tmp_path / "tree"
    tree.touch()
    monkeypatch.setenv(tracker.TREE_LEDGER, str(tree))
    done = subprocess.run([sys.executable, "-c", KILLED_RUN, str(ledger)], capture_output=True, text=True, timeout=60)
    assert done.returncode == -9, done.stderr
    assert procs.wait_until(lambda: not ledger.exists(), 10.0), "the killed run's ledger is still there"
    assert "REGISTER:/psm_" in tree.read_text(), "the tree ledger is the asker's: it must stay, with what the run made"
