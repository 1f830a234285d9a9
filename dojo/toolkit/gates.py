"""Gates: test-side tasks that make a process pool finish its work in a chosen order, or
run a given number of tasks at once, and record where every task ran.

Tests hand these to learner code (``executor.submit(task, item)``), so they live in an
importable module, never in a test module: a spawn or forkserver child imports the
module that defines its task, and a test module would drag pytest into every child.
Standard library only, for the same reason (and because grading exposes it to learner
code).

finishing_order: the futures complete in a chosen order
────────────────────────────────────────────────────────
    test:    with ctx.Manager() as m:  task = finishing_order(m, ["c", "a", "b"], work)
             (a Condition and a Value `turn` in the manager; turn = 0)

    worker (item at place k)             parent: the pool's result thread
    ────────────────────────             ────────────────────────────────
    wait until turn == k
    value = work(item)
    return _Receipt(value, k + 1) ─────> unpickles it: _delivered() sets turn = k + 1
                                         and returns value; only THEN is item k's
                                         future marked done, and the next result is
                                         read after that (one thread reads them in turn)

So the item at place k + 1 cannot even start its work before the item at place k has
been received by the parent, and futures complete exactly in the chosen order, whatever
the scheduler does: no sleeps, no timing. Proxies of a Manager can travel as task
arguments (ctx.Event or ctx.Value cannot: they travel only by inheritance). This holds
for ProcessPoolExecutor and multiprocessing.Pool alike: both unpickle results in one
thread of the parent, one result at a time.

meeting: `parties` tasks must be running at the same time
─────────────────────────────────────────────────────────
    each task: inside += 1, most = max(most, inside); wait until `parties` tasks have
               arrived; inside -= 1; return work(item)

A pool of at least `parties` processes, given at least `parties` tasks at once, never
waits: the last of the first `parties` arrivals lets them all go. A program that runs
fewer tasks at once (one after another, a smaller pool) leaves the first arrivals
waiting for tasks that cannot start until they finish.

Every task records where it ran (dojo.toolkit.where.here(): pid, start method, thread)
in a Manager list, read with ``ran(task)`` after the call.

When a wait cannot end (the item whose turn it is never gets a worker; fewer tasks than
`parties` ever run at once), it gives up after ``patience`` seconds (times
DOJO_TIMEOUT_SCALE), and every later wait of the same gate is skipped, so the run ends
in bounded time; ``gave_up(task)`` says so. A correct program never waits that long: the
patience only turns a program that would hang into a failure that can be taught. Code
that runs a task in the very process that made the gate (the test's own, in practice
mode), in its main thread, is not a pool at all: that wait gives up at once.
"""

from __future__ import annotations

import functools
import multiprocessing
import os

from dojo import system
from dojo.toolkit.where import here, timeout_scale

PATIENCE = 5.0  # seconds a wait holds before it gives up (times DOJO_TIMEOUT_SCALE)


def manager(ctx):
    """A Manager for the gates' Condition, Values and lists, started by fork where fork is
    safe (Linux): about 0.4 s sooner than a spawned one, and its proxies work in processes
    of any start method. Elsewhere the test's own ctx starts it."""
    if system.LINUX and "fork" in system.start_methods():
        return multiprocessing.get_context("fork").Manager()
    return ctx.Manager()


# --- finishing order ---------------------------------------------------------------------


def finishing_order(manager, order, work, patience: float = PATIENCE):
    """A picklable ``task(item)`` that returns ``work(item)`` (a str), with the results
    reaching the parent in ``order`` (a list of every item that will be submitted).

    The item whose turn it is must be able to get a worker while earlier-submitted items
    wait for their turns: as many workers as items is always enough.
    """
    place = {item: k for k, item in enumerate(order)}
    gate = _Gate(manager, patience)
    return functools.partial(_take_turn, place, gate, work)


def _take_turn(place, gate, work, item):
    k = place[item]
    gate.log.append((item, here()))
    gate.wait_until(lambda v: v == k)
    value = work(item)
    if not gate.in_worker_main_thread():
        # A thread (of a thread pool, say) hands its return value over without pickling:
        # no _Receipt would ever be unpickled, so open the next turn now.
        _delivered(value, k + 1, gate)
        return value
    return _Receipt(value, k + 1, gate)


class _Receipt(str):
    """A task's result on its way back; unpickling it in the parent opens the next turn.
    A str itself, so that a result that is never pickled is still plain data."""

    def __new__(cls, value, next_turn, gate):
        self = super().__new__(cls, value)
        self.args = (str(value), next_turn, gate)
        return self

    def __reduce__(self):
        return (_delivered, self.args)


def _delivered(value, next_turn, gate):
    with gate.cond:
        if gate.turn.value != -1:
            gate.turn.value = next_turn
        gate.cond.notify_all()
    return value


# --- meeting -----------------------------------------------------------------------------


def meeting(manager, parties: int, work, patience: float = PATIENCE):
    """A picklable ``task(item)`` that returns ``work(item)`` once ``parties`` tasks have
    been running at the same time (see the module docstring); ``most_at_once(task)``
    afterwards says how many were."""
    gate = _Gate(manager, patience)
    gate.extra = manager.list([0, 0])  # [inside now, most inside at once]
    return functools.partial(_meet, parties, gate, work)


def _meet(parties, gate, work, item):
    gate.log.append((item, here()))
    inside = gate.extra
    with gate.cond:
        inside[0] += 1
        inside[1] = max(inside[1], inside[0])
        if gate.turn.value != -1:
            gate.turn.value += 1  # arrivals so far
        gate.cond.notify_all()
    try:
        gate.wait_until(lambda v: v >= parties)
    finally:
        with gate.cond:
            inside[0] -= 1
    return work(item)


def most_at_once(task) -> int:
    """After a meeting: the most tasks that were running at the same time."""
    return task.args[1].extra[1]


# --- shared by both ----------------------------------------------------------------------


class _Gate:
    """A Condition and a Value in a manager, the patience, and a log of where tasks ran.
    Travels as a task argument (Manager proxies pickle)."""

    def __init__(self, manager, patience):
        self.cond = manager.Condition()
        self.turn = manager.Value("i", 0)  # -1 once a wait has given up
        self.log = manager.list()
        self.patience = patience * timeout_scale()
        self.owner = os.getpid()  # the process that made the gate: the test's

    def in_worker_main_thread(self) -> bool:
        where = here()
        return where["thread"] == "main" and where["pid"] != self.owner

    def wait_until(self, ready) -> None:
        """Wait until ready(turn.value), or until a wait of this gate has given up."""
        with self.cond:
            if self.turn.value == -1 or ready(self.turn.value):
                return
            if not self.in_worker_main_thread() and here()["thread"] == "main":
                # The test's own main thread: nothing else can run while it waits.
                self.turn.value = -1
            elif not self.cond.wait_for(lambda: self.turn.value == -1 or ready(self.turn.value), self.patience):
                self.turn.value = -1
            self.cond.notify_all()


def gave_up(task) -> bool:
    """After the run: did a wait give up, so that the order (or the meeting) was not
    enforced?"""
    return _gate_of(task).turn.value == -1


def ran(task) -> list:
    """After the run: ``[(item, {"pid", "method", "thread"}), ...]``, one entry per time
    a task started, in the order they started."""
    return [(item, dict(where)) for item, where in _gate_of(task).log]


def _gate_of(task):
    return next(arg for arg in task.args if isinstance(arg, _Gate))


# --- work --------------------------------------------------------------------------------


def shout(item):
    """A small, recognisable piece of work: what came in, upper-cased."""
    return str(item).upper()


def backwards(item):
    """Work whose results do not sort like its inputs: what came in, reversed."""
    return str(item)[::-1]
