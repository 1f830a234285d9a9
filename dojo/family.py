"""Test-side helpers for the process-family katas (processes3, processes4).

    parent (the kata)                              child
    ctx.Process(...) ──> a GatedProcess            run(): the target runs as usual, then
                         with its own gate                the child waits at its gate
    p.join() / p.sentinel / p.is_alive()
        └──────────── opens the gate ───────────>  run() returns: the child may end

With a JoinGateContext a child cannot end before its parent starts waiting for it. Code
that reads ``exitcode`` without waiting, or waits for only some of its children, sees
``None`` every time, not only when a child happens to be slow; code that waits never
notices the gate. ``open_all()`` lets every child go and waits until they have ended (the
test calls it once the kata has returned), so that nothing the kata forgot stays blocked.
"""

from __future__ import annotations

import os
import time
from multiprocessing import context as _context
from multiprocessing.connection import wait

GATE_TIMEOUT = 10.0  # a child never waits longer than this for its parent
GATES = 16  # children a JoinGateContext can hold back


class _Gated:
    """Mixed into each start method's Process class (see _GATED below)."""

    _dojo_gate = None  # a ctx.Semaphore(0), set by JoinGateContext.Process
    _dojo_opened = False

    def _dojo_open(self):
        # Only the parent opens the gate: in the child, current_process() is this very
        # object, and its own is_alive() must not let it go.
        gate = self._dojo_gate
        if gate is not None and not self._dojo_opened and self._parent_pid == os.getpid():
            self._dojo_opened = True
            gate.release()

    def run(self):
        try:
            super().run()
        finally:
            if self._dojo_gate is not None:
                self._dojo_gate.acquire(timeout=GATE_TIMEOUT)

    def join(self, timeout=None):
        self._dojo_open()
        return super().join(timeout)

    def is_alive(self):
        # Polling is_alive() until it turns False is a (costly) way of waiting: let it work.
        self._dojo_open()
        return super().is_alive()

    @property
    def sentinel(self):
        # multiprocessing.connection.wait([p.sentinel, ...]) is a way of waiting too.
        self._dojo_open()
        return super().sentinel


# One subclass per start method, at module level so that spawn and forkserver children
# can unpickle them. Windows has only spawn.
_GATED = {}

if hasattr(_context, "ForkProcess"):

    class GatedForkProcess(_Gated, _context.ForkProcess):
        pass

    _GATED["fork"] = GatedForkProcess

if hasattr(_context, "SpawnProcess"):

    class GatedSpawnProcess(_Gated, _context.SpawnProcess):
        pass

    _GATED["spawn"] = GatedSpawnProcess

if hasattr(_context, "ForkServerProcess"):

    class GatedForkServerProcess(_Gated, _context.ForkServerProcess):
        pass

    _GATED["forkserver"] = GatedForkServerProcess


class JoinGateContext:
    """A multiprocessing context whose processes end only once their parent waits for them
    (``join()``, ``sentinel``, ``is_alive()``). Everything else is the real context's.

    The gates are made up front, in the test's process, and handed out in order: the test
    can open them all after the call even when the kata ran in a grading host, where the
    Process objects live in another process.
    """

    def __init__(self, ctx, gates: int = GATES):
        self._ctx = ctx
        self._gates = [ctx.Semaphore(0) for _ in range(gates)]
        self._used = ctx.Value("i", 0)
        self._made = []  # the Process objects made in this process

    def Process(self, *args, **kwargs):
        process = _GATED[self._ctx.get_start_method()](*args, **kwargs)
        with self._used.get_lock():
            index = self._used.value
            self._used.value += 1
        if index < len(self._gates):  # past the last gate a child is simply not held
            process._dojo_gate = self._gates[index]
        self._made.append(process)
        return process

    def open_all(self, timeout: float = GATE_TIMEOUT):
        """Let go every child that nobody waited for, and wait until those have ended.

        Waiting on their sentinels does not reap them: under fork and spawn they stay
        zombies for the guard to find (the kata never joined them), while under forkserver
        the fork server has reaped them by the time the sentinel fires. So what the test
        sees next does not depend on how fast the children end. Children made in a grading
        host are waited for from outside, through the host's process table.
        """
        for process in self._made:
            process._dojo_opened = True
        for gate in self._gates[: min(self._used.value, len(self._gates))]:
            gate.release()  # a second release of a gate already opened is harmless
        sentinels = []
        for process in self._made:
            try:
                sentinels.append(process.sentinel)
            except ValueError:  # never started
                continue
        deadline = time.monotonic() + timeout
        while sentinels and time.monotonic() < deadline:
            for ready in wait(sentinels, max(deadline - time.monotonic(), 0)):
                sentinels.remove(ready)
        from dojo import hosting, procs

        hosts = hosting.current()
        if hosts is not None:
            infra = procs.infrastructure_pids()
            procs.wait_until(
                lambda: not [
                    p for p in hosts.descendants() if p.pid not in infra and not procs.is_zombie(p)
                ],
                max(deadline - time.monotonic(), 0),
            )

    def get_start_method(self, allow_none=False):
        return self._ctx.get_start_method(allow_none)

    def get_context(self, method=None):
        return self if method is None else self._ctx.get_context(method)

    def __getattr__(self, name):
        if name == "_ctx" or (name.startswith("__") and name.endswith("__")):
            raise AttributeError(name)  # keeps a half-built copy from recursing forever
        return getattr(self._ctx, name)

    def __repr__(self):
        return f"<JoinGateContext {self._ctx.get_start_method()} made={len(self._made)}>"
