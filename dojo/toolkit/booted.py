"""A context whose processes have booted by the time start() returns. Standard library only.

    test:  ctx = BootedContext(mp_context)
    kata:  ctx.Process(...).start(), ctx.Pool(...), ProcessPoolExecutor(mp_context=ctx)
             start() launches the child as usual, then waits until the child is about to
             run its target (its interpreter is up, its modules imported, the arguments
             unpickled), or has died
           child: run() says "booted" through a pipe, then runs the target
    test:  ctx.last_start()   time.monotonic() when the last start() called in the main
                              thread (the kata's own thread) returned; 0.0 if none

    BootedContext(mp_context, boot=False, clock=manager.Value("d", 0.0))
           start() does not wait for the child; the last start is also written to
           `clock`, a Manager proxy that the pool's tasks can read (a HoldBack that
           holds a straggler until some time after the kata's last start)

Why: a spawn or forkserver child takes 50 ms to start on an idle machine, and seconds on a
crowded one. A pool starts its workers while the kata submits its tasks, before the kata
starts its timeout, so with this context every worker is ready when the timeout starts and
a task that takes no time finishes within it on any machine. And a test that must know a
lower bound for when the kata's wait began can use last_start(): a kata submits (and so
starts its workers) before it waits. Starts made from other threads (a pool replacing a
worker) are not counted: they may come after the wait began.
"""

from __future__ import annotations

import threading
import time
from multiprocessing import connection, context
from dojo.toolkit.per_method import process_classes

BOOT_PATIENCE = 30.0  # a child that neither boots nor dies in this time is left to itself


class _Booted:
    """Mixed into a context's Process class: start() returns once the child runs."""

    _dojo_ready = None  # the child's end of the "booted" pipe, only while starting
    _dojo_last = None  # the BootedContext's shared "last start" Value
    _dojo_boot = True  # wait until the child runs
    _dojo_clock = None  # a Manager proxy that also learns the last start

    def start(self):
        # The proxy stays out of the process object a spawn child unpickles.
        clock = self.__dict__.pop("_dojo_clock", None)
        if self._dojo_boot:
            self._start_booted()
        else:
            super().start()
        if threading.current_thread() is threading.main_thread():
            now = time.monotonic()
            if self._dojo_last is not None:
                self._dojo_last.value = now
            if clock is not None:
                clock.value = now

    def _start_booted(self):
        reader, writer = connection.Pipe(duplex=False)
        self._dojo_ready = writer
        try:
            super().start()
        finally:
            self._dojo_ready = None
            writer.close()
        try:
            connection.wait([reader, self.sentinel], timeout=BOOT_PATIENCE)
        finally:
            reader.close()

    def run(self):
        ready, self._dojo_ready = self._dojo_ready, None
        if ready is not None:
            try:
                ready.send_bytes(b"booted")
            finally:
                ready.close()
        return super().run()


_CLASSES = process_classes(_Booted, "Booted", globals())

# Class name -> start method, for probes that read type(current_process()).__name__.
START_METHOD_OF_CLASS = {cls.__name__: method for method, cls in _CLASSES.items()}


class BootedContext:
    """A multiprocessing context whose Process.start() waits until the child runs.
    Everything else is the real context's."""

    def __init__(self, ctx, boot=True, clock=None):
        self._ctx = ctx
        # Shared, so that a start made in a grading host (another process) is read here.
        self._last = ctx.Value("d", 0.0)
        self._boot, self._clock = boot, clock

    def last_start(self) -> float:
        return self._last.value

    def Process(self, *args, **kwargs):
        process = _CLASSES[self._ctx.get_start_method()](*args, **kwargs)
        process._dojo_last = self._last
        process._dojo_boot = self._boot
        if self._clock is not None:
            process._dojo_clock = self._clock
        return process

    def Pool(self, processes=None, initializer=None, initargs=(), maxtasksperchild=None):
        from multiprocessing.pool import Pool

        return Pool(processes, initializer, initargs, maxtasksperchild, context=self)

    def get_start_method(self, allow_none=False):
        return self._ctx.get_start_method(allow_none)

    def get_context(self, method=None):
        return self if method is None else self._ctx.get_context(method)

    def __getattr__(self, name):
        if name == "_ctx" or (name.startswith("__") and name.endswith("__")):
            raise AttributeError(name)  # keeps it picklable (no recursion before _ctx is set)
        return getattr(self._ctx, name)

    def __repr__(self):
        return f"<BootedContext {self._ctx.get_start_method()}{'' if self._boot else ' (not booted)'}>"

