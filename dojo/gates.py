"""Gates: test-side tasks that make a process pool finish its work in a chosen order.

Tests hand these to learner code (``executor.submit(task, item)``), so they live in an
importable module, never in a test module: a spawn or forkserver child imports the
module that defines its task, and a test module would drag pytest into every child.
This module imports nothing heavy for the same reason.

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

If the item whose turn it is never gets a worker (too few workers, all of them held by
items that wait for later turns: a deadlock in the making), a wait gives up after
``patience`` seconds, sets turn = -1, and every later wait is skipped: the run then
ends in bounded time, without the order.
"""

from __future__ import annotations

import functools


def finishing_order(manager, order, work, patience: float = 5.0):
    """A picklable ``task(item)`` that returns ``work(item)``, with the results reaching
    the parent in ``order`` (a list of every item that will be submitted).

    The item whose turn it is must be able to get a worker while earlier-submitted items
    wait for their turns: as many workers as items is always enough.
    """
    place = {item: k for k, item in enumerate(order)}
    return functools.partial(_take_turn, place, manager.Condition(), manager.Value("i", 0), patience, work)


def gave_up(task) -> bool:
    """After the run: did a wait give up, so that the order was not enforced?"""
    turn = task.args[2]
    return turn.value == -1


def _take_turn(place, cond, turn, patience, work, item):
    k = place[item]
    with cond:
        # turn.value: the place whose turn it is; -1 once a wait has given up.
        if not cond.wait_for(lambda: turn.value in (k, -1), patience):
            turn.value = -1
            cond.notify_all()
    return _Receipt(work(item), k + 1, cond, turn)


class _Receipt:
    """A task's result on its way back; unpickling it in the parent opens the next turn."""

    def __init__(self, value, next_turn, cond, turn):
        self.args = (value, next_turn, cond, turn)

    def __reduce__(self):
        return (_delivered, self.args)


def _delivered(value, next_turn, cond, turn):
    with cond:
        if turn.value != -1:
            turn.value = next_turn
        cond.notify_all()
    return value


def shout(item):
    """A small, recognisable piece of work: what came in, upper-cased."""
    return str(item).upper()
