"""A context that records every wait made on the pools made through it. Standard library only.

    test:  ctx = WaitWatchingContext(mp_context, manager.list())
    kata:  executor = ProcessPoolExecutor(max_workers=4, mp_context=ctx)
             every future its submit() (and so map()) hands out is watched:
               future.result(timeout) / future.exception(timeout)      one record each
               as_completed(futures, timeout) / wait(futures, timeout)  one record per
                 time the waiter they install waits on its Event
           pool = ctx.Pool(4)
             async_result.get(timeout) / .wait(timeout)   one record per wait of its Event
             pool.imap(...).next(timeout)                 one record each
    test:  ctx.waits()  [{"thread", "what", "timeout", "timed_out", "began", "ended"}, ...]

A wait that timed out lasted at least its timeout: that is what the thread's clock
promises (``Event.wait``, ``Condition.wait``), however busy the machine. So the timeouts of
the waits one thread made that timed out add up to a lower bound of how long it waited,
found without measuring anything: two waits of `timeout` seconds that both ran out took at
least twice `timeout`, on any machine. A wait that ended early (what it waited for
happened) adds nothing to that bound.

How: a future's waiters are kept in its ``_waiters`` list; it is replaced (under the
future's own condition) by a list that gives every waiter appended to it a watched Event,
which records each ``wait(timeout)`` and passes everything else to the waiter's own Event.
``result`` and ``exception`` are wrapped on each future, ``_event`` on each AsyncResult.
Every wrapper holds what it wraps only weakly or as the real object does, so an executor or
pool the program drops is collected as it would be without the test. Records go to a
Manager list, so that waits made in a grading host (another process) are read here.
"""

from __future__ import annotations

import sys
import threading
import time
import weakref

from dojo.testing import CountingContext


class WaitWatchingContext(CountingContext):
    """CountingContext (processes and pools made through ctx) that also records waits."""

    def __init__(self, ctx, log):
        super().__init__(ctx)
        self._log = log

    def waits(self) -> list:
        return [dict(record) for record in self._log]

    def SimpleQueue(self):
        queue = super().SimpleQueue()
        # ProcessPoolExecutor.__init__ makes its result queue here: the one moment its
        # context sees the executor.
        frame = sys._getframe(1)
        for _ in range(3):
            if frame is None:
                break
            if frame.f_code.co_name == "__init__":
                executor = frame.f_locals.get("self")
                if getattr(executor, "_mp_context", None) is self and "submit" not in vars(executor):
                    executor.submit = _WatchedSubmit(executor, self._log)
                break
            frame = frame.f_back
        return queue

    def Pool(self, processes=None, initializer=None, initargs=(), maxtasksperchild=None):
        pool = super().Pool(processes, initializer, initargs, maxtasksperchild)
        for name in ("apply_async", "map_async", "starmap_async", "imap", "imap_unordered"):
            setattr(pool, name, _WatchedPoolMethod(pool, name, self._log))
        return pool

    def __repr__(self):
        return f"<WaitWatchingContext {self._ctx.get_start_method()}>"


def _record(log, what, timeout, timed_out, began, ended) -> None:
    thread = threading.current_thread()
    log.append(
        {
            "thread": f"{thread.name}:{thread.ident}",
            "what": what,
            "timeout": timeout,
            "timed_out": bool(timed_out),
            "began": began,
            "ended": ended,
        }
    )


class _WatchedEvent:
    """Stands in for a waiter's (or an AsyncResult's) Event: records every wait."""

    def __init__(self, event, log, what):
        self._event, self._log, self._what = event, log, what

    def wait(self, timeout=None):
        began = time.monotonic()
        happened = self._event.wait(timeout)
        _record(self._log, self._what, timeout, not happened, began, time.monotonic())
        return happened

    def set(self):
        return self._event.set()

    def clear(self):
        return self._event.clear()

    def is_set(self):
        return self._event.is_set()

    isSet = is_set

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self._event, name)


class _WatchedWaiters(list):
    """A future's ``_waiters``: each waiter appended gets a watched Event, once."""

    def __init__(self, waiters, log):
        super().__init__(waiters)
        self._log = log

    def append(self, waiter):
        event = getattr(waiter, "event", None)
        if event is not None and not isinstance(event, _WatchedEvent):
            # as_completed / wait install one waiter on every future, under all their
            # conditions, before anyone can set its Event: swapping it now misses nothing.
            name = type(waiter).__name__
            what = "as_completed" if "AsCompleted" in name else "wait"
            waiter.event = _WatchedEvent(event, self._log, what)
        super().append(waiter)


class _WatchedSubmit:
    """Stands in for one executor's ``submit`` (``map`` calls it too)."""

    def __init__(self, executor, log):
        self._executor = weakref.ref(executor)
        self._log = log

    def __call__(self, *args, **kwargs):
        executor = self._executor()
        future = type(executor).submit(executor, *args, **kwargs)
        with future._condition:
            future._waiters = _WatchedWaiters(future._waiters, self._log)
        future.result = _WatchedFutureCall(future, "result", self._log)
        future.exception = _WatchedFutureCall(future, "exception", self._log)
        return future


class _WatchedFutureCall:
    """Stands in for one future's ``result`` or ``exception``: records its wait."""

    def __init__(self, future, name, log):
        self._future = weakref.ref(future)
        self._name, self._log = name, log

    def __call__(self, timeout=None):
        from concurrent.futures import TimeoutError as FuturesTimeout

        future = self._future()
        began = time.monotonic()
        timed_out = False
        try:
            return getattr(type(future), self._name)(future, timeout)
        except FuturesTimeout:
            timed_out = True
            raise
        finally:
            _record(self._log, f"future.{self._name}", timeout, timed_out, began, time.monotonic())


class _WatchedPoolMethod:
    """Stands in for one of a Pool's methods: watches what it hands out."""

    def __init__(self, pool, name, log):
        self._pool = weakref.ref(pool)
        self._name, self._log = name, log

    def __call__(self, *args, **kwargs):
        pool = self._pool()
        result = getattr(type(pool), self._name)(pool, *args, **kwargs)
        if self._name.startswith("imap"):
            result.next = _WatchedNext(result, self._log)
        else:
            # The result handler sets whichever Event the attribute holds; both lead to
            # the same one, so a result that came in before the swap is not missed.
            result._event = _WatchedEvent(result._event, self._log, f"{self._name}().get")
        return result


class _WatchedNext:
    def __init__(self, iterator, log):
        self._iterator = weakref.ref(iterator)
        self._log = log

    def __call__(self, timeout=None):
        from multiprocessing import TimeoutError as PoolTimeout

        iterator = self._iterator()
        began = time.monotonic()
        timed_out = False
        try:
            return type(iterator).next(iterator, timeout)
        except PoolTimeout:
            timed_out = True
            raise
        finally:
            _record(self._log, "imap().next", timeout, timed_out, began, time.monotonic())


def waited_at_least(waits) -> tuple:
    """(seconds, thread, [timeouts]): the thread whose waits that timed out add up to the
    most, and that sum: a lower bound of how long that thread waited in all."""
    per_thread: dict = {}
    for record in waits:
        if record["timed_out"] and record["timeout"] is not None:
            per_thread.setdefault(record["thread"], []).append(max(0.0, float(record["timeout"])))
    if not per_thread:
        return 0.0, None, []
    thread, timeouts = max(per_thread.items(), key=lambda item: sum(item[1]))
    return sum(timeouts), thread, timeouts
