"""Workers that tests hand to pool katas: fast tasks, and stragglers the test holds back.

    test:   with ctx.Manager() as m:
                release, log = m.Event(), m.list()
                fn = HoldBack(hold=[7], release=release, until=time.monotonic() + 1.0, log=log)
                kata.gather(ctx, fn, [7, 1, 2], timeout)     # fn pickles: proxies inside
    worker: fn(1) -> 1, fn(2) -> 4 at once
            fn(7) waits until the test sets `release`, or the clock reaches `until`, then
                  returns 49
            every call appends ("start", item, pid, process class, time) when it begins
            and ("finish", item, pid, process class, time) when it ends; its result
            appends ("arrive", item, pid, ...) when it is unpickled in the process that
            collects it (the kata's), just before the pool marks its future done
    test:   reads the log: which items had finished before the kata returned (did it wait
            for a straggler?), which started only after it returned (were the queued ones
            cancelled?), and in which processes fn ran (which start method, not the caller)

`until` is an absolute time.monotonic() (one clock for every process on the machine), so a
held item cannot finish before it whatever moment its worker started. It only bounds what
an unsolved kata costs: a kata that waits for its stragglers waits until `until`, not for
the test timeout.

    HoldBack(hold, release, until, log, later=clock, span=S)
            `clock` is a Manager Value that the kata's context sets each time the kata
            starts a process (booted.BootedContext(..., clock=clock)): a held item also
            holds until S seconds after the kata's last start. A kata submits (and so
            starts its pool's workers) before its timeout begins, and on a crowded
            machine starting them can take longer than `until` leaves, so a deadline
            counted from the call alone could run out before the kata even waits. Kept importable and free of pytest: spawn and forkserver children import
this module to unpickle HoldBack.
"""

from __future__ import annotations

import multiprocessing
import os
import time

# The class of a process object names the start method that made it (the process object
# is pickled to a spawn or forkserver child, and a fork child inherits it).
START_METHOD_OF_CLASS = {"ForkProcess": "fork", "SpawnProcess": "spawn", "ForkServerProcess": "forkserver"}


def where_am_i() -> tuple:
    """(pid, class name of multiprocessing.current_process()): ``_MainProcess`` in a
    process that multiprocessing did not start (the caller, or a thread of it)."""
    return os.getpid(), type(multiprocessing.current_process()).__name__


def arrived(value, item, log):
    """Unpickling a Square: note that the result reached this process, and hand back a
    plain int (the kata returns plain data)."""
    pid, kind = where_am_i()
    log.append(("arrive", item, pid, kind, time.monotonic()))
    return value


class Square(int):
    """``item * item`` that notes in the log when it is unpickled, i.e. when it reaches
    the process that collects results (a pool's thread there unpickles it, then marks the
    future done). Where nothing is pickled (a thread), it simply stays an int."""

    def __new__(cls, value, item, log):
        self = super().__new__(cls, value)
        self.item, self.log = item, log
        return self

    def __reduce_ex__(self, protocol):
        return arrived, (int(self), self.item, self.log)

    def __reduce__(self):
        return self.__reduce_ex__(2)


class HoldBack:
    """``fn(item) -> item * item``; items in ``hold`` straggle until released or ``until``."""

    def __init__(self, hold, release, until: float, log=None, later=None, span: float = 0.0):
        self.hold = list(hold)
        self.release = release
        self.until = until
        self.log = log
        self.later, self.span = later, span

    def _deadline(self) -> float:
        if self.later is None:
            return self.until
        return max(self.until, self.later.value + self.span)

    def _note(self, event, item):
        if self.log is not None:
            pid, kind = where_am_i()
            self.log.append((event, item, pid, kind, time.monotonic()))

    def __call__(self, item):
        if self.hold and self.release.is_set():
            # The test has released the stragglers and is waiting for the pool to wind
            # down: what runs now (what the pool had queued) is no longer observed.
            return item * item
        self._note("start", item)
        try:
            if item in self.hold:
                # Until released, or the deadline, read again when it runs out: the kata
                # may have started another process meanwhile, which moves it on.
                while not self.release.wait(max(0.0, self._deadline() - time.monotonic())):
                    if time.monotonic() >= self._deadline():
                        break
        finally:
            self._note("finish", item)
        return item * item if self.log is None else Square(item * item, item, self.log)

    def __repr__(self):
        return f"HoldBack(hold={self.hold!r})"
