"""Leak attribution: a run is charged only with the segments its own tree created."""

from multiprocessing import shared_memory

from dojo import procs, runner
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
