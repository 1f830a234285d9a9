"""Shared by dojo's own tests: the fixture kit, and workers that children import."""

import shutil
from pathlib import Path

from dojo import procs

KIT = Path(__file__).with_name("kit")

# A kata module (leak1's) whose run leaves a segment that nothing removes: it waits until
# its run's tracker has written the segment to every tree ledger, kills that tracker and
# ends the run at once, as a crash would.
LEAVES_A_SEGMENT_NO_TRACKER_REMOVES = '''"""Makes a segment, kills its run's resource tracker, then ends the run at once."""

import os
import signal
import time
from multiprocessing import resource_tracker, shared_memory


def leave_things(ctx):
    shm = shared_memory.SharedMemory(create=True, size=64)
    shm.close()
    ledgers = [p for p in os.environ.get("DOJO_TREE_LEDGER", "").split(os.pathsep) if p]
    deadline = time.monotonic() + 10  # until the tracker has written it down everywhere
    while time.monotonic() < deadline and not all(shm.name in open(p).read() for p in ledgers):
        time.sleep(0.01)
    os.kill(resource_tracker._resource_tracker._pid, signal.SIGKILL)
    # TODO: nothing will unlink it now
    os._exit(0)
'''


def copy_kit(tmp_path: Path) -> Path:
    dest = tmp_path / "kit"
    shutil.copytree(KIT, dest, ignore=shutil.ignore_patterns("__pycache__", ".dojo"))
    return dest


def keep_katas(kit: Path, names) -> None:
    """Cut a copied kit's manifest down to the named katas."""
    path = kit / "katas.toml"
    head, *blocks = path.read_text(encoding="utf-8").split("\n[[kata]]\n")
    kept = [b for b in blocks if any(b.startswith(f'name = "{n}"\n') for n in names)]
    assert len(kept) == len(names)
    path.write_text(head + "".join("\n[[kata]]\n" + b for b in kept), encoding="utf-8")


def own_processes(grace: float = 1.0) -> list[str]:
    """Processes of this test's own tree still running, described: live descendants of
    this process, multiprocessing's servers aside. (The plugin makes every test process a
    subreaper, so a process that escaped with setsid() or lost its parent is still ours.)
    Nothing else on the machine is looked at: another clone's dojo is not ours.

    SIGKILL is delivered, not awaited: what is on its way out gets ``grace`` seconds."""
    procs.wait_until(lambda: not _live(procs.descendants()), grace, step=0.02)
    procs.reap_children()
    return [procs.describe(p) for p in _live(procs.descendants())]


def own_shm_left(ledger: str, grace: float = 3.0) -> list[str]:
    """/dev/shm objects that the trackers writing to ``ledger`` saw created and nobody
    removed. A run's tracker unlinks what its run leaked when it sees the run end: that
    moment gets ``grace`` seconds."""
    from dojo import tracker

    procs.wait_until(lambda: not tracker.tree_leftovers(ledger), grace, step=0.05)
    return sorted(tracker.tree_leftovers(ledger))


def kill_own_processes() -> None:
    """A failed test must not leave its processes to the next one."""
    procs.kill_tree(_live(procs.descendants()))


def _live(found) -> list:
    return [p for p in found if not procs.is_zombie(p)]


def unlocked_increments(counter, times):
    for _ in range(times):
        counter.value += 1


def locked_increments(counter, times):
    for _ in range(times):
        with counter.get_lock():
            counter.value += 1


def own_lock_increments(counter, lock, times):
    for _ in range(times):
        with lock:
            counter.value += 1


def unlocked_slot_increments(counts, times):
    for _ in range(times):
        counts[0] += 1


def locked_slot_increments(counts, times):
    for _ in range(times):
        with counts.get_lock():
            counts[0] += 1
