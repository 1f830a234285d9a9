"""A context that witnesses the child processes started through it. Standard library only.

    test:    ctx = WitnessContext(mp_context)         ledger: shared records, one per process
    kata:    p = ctx.Process(target=..., name=...)     ──> a witnessed Process (a real one)
             p.start()   (in the caller)               record: who started it, its name then
             ── child ── run():  before the target     record: pid, parent_process(), os.getppid(),
                                                               process group, current_process().name
                                  after the target     record: the name then, "done"
    test:    ctx.processes()  ->  plain dicts, read in the judge (the ledger is shared memory)

What a test learns from the ledger it could not learn from a result: that the work really
ran in child processes started through the ctx it passed (not in the caller, a thread, a
pool's workers or another context), how many, with which name, and which parent each
child knew. Nothing here waits on a timer to decide anything. (Used by processes1 and
processes2.)

``WitnessContext(ctx, detach=True)`` puts every child in a session and process group of
its own (``os.setsid()``) before its target runs, so that neither ``os.getpgrp()`` nor
``os.getsid(0)`` in a child can pass for the process that started it (the caller of a
test often leads its own group and session). The kit's leak guard finds such children by
ancestry, not by group.

``WitnessContext(ctx, reorder=True)`` also hands out a Queue whose ``get()`` in the process
that created it first waits until every child started so far has finished its target (or
has ended, or waits on such a queue itself), then returns what the children put in
*descending* order of their pids: an order no program may rely on, since reports can
arrive in any order. A program that is waiting on something else the parent owns cannot be
told apart from a slow one; after ``FALLBACK`` seconds in which no child made progress the
queue stops waiting, returns items as they come, and says so in ``ctx.fallbacks()``.
Children still starting up are always waited for, so a busy machine never turns the
reordering off.
"""

from __future__ import annotations

import ctypes
import os
import time
from multiprocessing import connection as _connection
from multiprocessing import context as _mpcontext
from multiprocessing import queues as _queues
from dojo.toolkit.per_method import process_classes

SLOTS = 64
NAME_BYTES = 120
FALLBACK = 5.0  # seconds without progress before the reordering queue stops waiting

FREE, STARTED, RUNNING, DONE = 0, 1, 2, 3


class Record(ctypes.Structure):
    _fields_ = [
        ("state", ctypes.c_int),
        ("starter", ctypes.c_longlong),  # os.getpid() of the process that called start()
        ("pid", ctypes.c_longlong),  # the child's os.getpid(), from inside it
        ("start_pid", ctypes.c_longlong),  # Process.pid as the starter saw it
        ("mp_parent", ctypes.c_longlong),  # multiprocessing.parent_process().pid, -1 if None
        ("os_ppid", ctypes.c_longlong),  # os.getppid() in the child
        ("pgid", ctypes.c_longlong),  # os.getpgrp() in the child
        ("sid", ctypes.c_longlong),  # os.getsid(0) in the child
        ("waiting", ctypes.c_int),  # blocked in a witnessed queue's get()
        ("internal", ctypes.c_int),  # multiprocessing's own (a manager's server, pool workers)
        ("waited", ctypes.c_int),  # its starter saw it end (join(), is_alive(), exitcode ...)
        ("name_given", ctypes.c_char * NAME_BYTES),  # .name when start() was called
        ("name_run", ctypes.c_char * NAME_BYTES),  # current_process().name before the target
        ("name_end", ctypes.c_char * NAME_BYTES),  # current_process().name after the target
    ]


def _bytes(text) -> bytes:
    data = str(text).encode("utf-8", "replace")[: NAME_BYTES - 1]
    while data:  # never cut a character in half
        try:
            data.decode("utf-8")
            return data
        except UnicodeDecodeError:
            data = data[:-1]
    return data


class Ledger:
    """The shared part: travels to hosts and children by inheritance (while starting)."""

    def __init__(self, ctx, slots: int = SLOTS, detach: bool = False):
        self.detach = detach
        self.records = ctx.Array(Record, slots)
        self.claimed = ctx.Value("i", 0)  # slots handed out, also beyond `slots`
        self.fallbacks = ctx.Value("i", 0)
        self.reordered = ctx.Value("i", 0)  # reports a witnessed queue handed out out of turn
        self.changed = ctx.Condition(ctx.Lock())

    def claim(self, process) -> int:
        with self.records.get_lock():
            slot = self.claimed.value
            self.claimed.value += 1
            if slot < len(self.records):
                record = self.records.get_obj()[slot]
                record.state = STARTED
                record.starter = os.getpid()
                record.internal = _internal(process)
                record.name_given = _bytes(process.name)
            return slot

    def update(self, slot: int, **fields) -> None:
        if slot < 0 or slot >= len(self.records):
            return
        with self.changed:
            with self.records.get_lock():
                record = self.records.get_obj()[slot]
                for key, value in fields.items():
                    setattr(record, key, _bytes(value) if key.startswith("name_") else value)
            self.changed.notify_all()

    def state(self, slot: int) -> tuple:
        if slot < 0 or slot >= len(self.records):
            return DONE, 0
        with self.records.get_lock():
            record = self.records.get_obj()[slot]
            return record.state, record.waiting

    def rows(self, internal: bool = False) -> list:
        with self.records.get_lock():
            count = min(self.claimed.value, len(self.records))
            out = []
            for slot in range(count):
                r = self.records.get_obj()[slot]
                if r.internal and not internal:
                    continue
                ran = r.state in (RUNNING, DONE)
                out.append(
                    {
                        "state": ("free", "started", "running", "done")[r.state],
                        "starter": r.starter,
                        "pid": r.pid or r.start_pid or None,
                        "ran": ran,
                        "done": r.state == DONE,
                        "waited": bool(r.waited),
                        "internal": bool(r.internal),
                        "mp_parent": r.mp_parent if ran and r.mp_parent != -1 else None,
                        "os_ppid": r.os_ppid or None,
                        "pgid": r.pgid or None,
                        "sid": r.sid or None,
                        "name_given": r.name_given.decode("utf-8", "replace"),
                        "name_run": r.name_run.decode("utf-8", "replace") if ran else None,
                        "name_end": r.name_end.decode("utf-8", "replace") if r.state == DONE else None,
                    }
                )
            return out


def _internal(process) -> int:
    """A process whose target is multiprocessing's or concurrent.futures' own machinery: a
    manager's server started with SyncManager(ctx=ctx), a pool's or an executor's workers."""
    target = getattr(process, "_target", None)
    module = getattr(target, "__module__", None) or ""
    return int(module.split(".")[0] in ("multiprocessing", "concurrent"))


class _Witnessed:
    """Mixed into the real Process classes: records start() and run(), changes nothing."""

    _witness_ledger = None
    _witness_slot = -1

    def start(self):
        ledger = self._witness_ledger
        if ledger is not None:
            self._witness_slot = ledger.claim(self)
        super().start()
        if ledger is not None:
            ledger.update(self._witness_slot, start_pid=self.pid)
            _started.append(self)
            _watch_end(self._popen, ledger, self._witness_slot)

    def run(self):
        ledger = self._witness_ledger
        if ledger is None:
            return super().run()
        from multiprocessing import current_process, parent_process

        if ledger.detach:
            try:
                os.setsid()  # its own session and process group: neither is the caller's
            except OSError:
                pass
        parent = parent_process()
        ledger.update(
            self._witness_slot,
            state=RUNNING,
            pid=os.getpid(),
            mp_parent=parent.pid if parent is not None and parent.pid is not None else -1,
            os_ppid=os.getppid(),
            pgid=os.getpgrp(),
            sid=os.getsid(0),
            name_run=current_process().name,
        )
        try:
            return super().run()
        finally:
            ledger.update(self._witness_slot, state=DONE, name_end=current_process().name)


def _watch_end(popen, ledger, slot) -> None:
    """Record when the starter learns that the child has ended. Every way of learning it
    (join(), is_alive(), exitcode, active_children()) goes through ``popen.poll``; under
    fork and spawn that poll also reaps the child, under forkserver the server reaps it and
    the poll reads its status. A child whose end nobody polled was never joined."""
    real = popen.poll

    def poll(*args, **kwargs):
        code = real(*args, **kwargs)
        if code is not None and not getattr(popen, "_witness_seen", False):
            popen._witness_seen = True
            ledger.update(slot, waited=1)
        return code

    popen.poll = poll


# Default names ("ForkProcess-3") come from the class name: the witnessed classes keep the
# real ones, so that a witnessed process is named exactly as an unwitnessed one would be.
# (__qualname__ stays: pickling finds the class by it.)
_CLASSES = process_classes(_Witnessed, "Witness", globals())

# Witnessed processes this process started (not shared: each process has its own list).
_started: list = []


# --- the reordering queue -----------------------------------------------------------------


class WitnessQueue(_queues.Queue):
    """A ctx.Queue that, in the process that made it, hands out the children's items in
    descending pid order once every child started so far is done (see the module text)."""

    def __init__(self, maxsize=0, *, ctx, ledger):
        super().__init__(maxsize, ctx=ctx)
        self._w_ledger = ledger
        self._w_puts = ctx.Value("i", 0)  # items put by processes other than the owner
        self._w_owner = os.getpid()
        self._w_buffer = []
        self._w_pulled = 0

    def __getstate__(self):
        return (super().__getstate__(), self._w_ledger, self._w_puts, self._w_owner)

    def __setstate__(self, state):
        base, self._w_ledger, self._w_puts, self._w_owner = state
        super().__setstate__(base)
        self._w_buffer = []
        self._w_pulled = 0

    def put(self, obj, block=True, timeout=None):
        if os.getpid() != self._w_owner:
            with self._w_puts.get_lock():
                self._w_puts.value += 1
        return super().put((os.getpid(), obj), block, timeout)

    def put_nowait(self, obj):
        return self.put(obj, False)

    def _raw_get(self, block=True, timeout=None):
        pid, obj = super().get(block, timeout)
        if os.getpid() == self._w_owner and pid != self._w_owner:
            self._w_pulled += 1
        return pid, obj

    def get(self, block=True, timeout=None):
        if os.getpid() != self._w_owner:
            slot = _own_slot()
            self._w_ledger.update(slot, waiting=1)
            try:
                return self._raw_get(block, timeout)[1]
            finally:
                self._w_ledger.update(slot, waiting=0)
        if not self._w_buffer and block:
            self._w_settle(timeout)
        if self._w_buffer:
            best = max(range(len(self._w_buffer)), key=lambda i: self._w_buffer[i][0])
            if best != 0:
                with self._w_ledger.reordered.get_lock():
                    self._w_ledger.reordered.value += 1
            return self._w_buffer.pop(best)[1]
        return self._raw_get(block, timeout)[1]

    def get_nowait(self):
        return self.get(False)

    def empty(self):
        return not self._w_buffer and super().empty()

    def qsize(self):
        return len(self._w_buffer) + super().qsize()

    def _w_settle(self, timeout):
        """Wait until every witnessed child is done (or ended, or waits on a queue), then
        pull every item the children put.

        A child that is still starting up is always waited for (it will run or end: a
        busy machine only makes that slower). A child whose target runs on without any
        witnessed child making progress for FALLBACK seconds may be waiting for this very
        process: stop waiting, count a fallback, and hand items out as they come."""
        ledger = self._w_ledger
        began = stalled_since = time.monotonic()
        last = None
        while True:
            mine = [p for p in list(_started) if p._witness_ledger is ledger]
            snapshot = [ledger.state(p._witness_slot) for p in mine]
            running = booting = 0
            for process, (state, waiting) in zip(mine, snapshot):
                if state == DONE or waiting or _connection.wait([process.sentinel], 0):
                    continue  # done, waiting on a queue, or ended without finishing
                if state == RUNNING:
                    running += 1
                else:
                    booting += 1
            if not running and not booting:
                break
            now = time.monotonic()
            if snapshot != last:
                last, stalled_since = snapshot, now
            if (timeout is not None and now - began >= timeout) or (
                running and not booting and now - stalled_since >= FALLBACK
            ):
                self._w_fallback()
                return
            with ledger.changed:
                ledger.changed.wait(0.05)
        while self._w_pulled < self._w_puts.value:
            try:
                self._w_buffer.append(self._raw_get(True, 0.05))
            except Exception:  # queue.Empty: still on its way, or lost (a failed pickle)
                mine = [p for p in list(_started) if p._witness_ledger is ledger]
                ended = all(_connection.wait([p.sentinel], 0) for p in mine)
                late = timeout is not None and time.monotonic() - began >= timeout
                if (ended and super().empty()) or late:
                    self._w_fallback()
                    return

    def _w_fallback(self):
        with self._w_ledger.fallbacks.get_lock():
            self._w_ledger.fallbacks.value += 1


def _own_slot() -> int:
    from multiprocessing import current_process

    return getattr(current_process(), "_witness_slot", -1)


# --- the context ---------------------------------------------------------------------------


class WitnessContext:
    """A multiprocessing context whose Process (and, with reorder=True, Queue) are
    witnessed; everything else is the real context's. Pass it where a kata takes ``ctx``."""

    def __init__(self, ctx, *, reorder: bool = False, detach: bool = False, slots: int = SLOTS):
        self._ctx = ctx
        self._reorder = reorder
        self._ledger = Ledger(ctx, slots, detach)

    def Process(self, *args, **kwargs):
        cls = _CLASSES[self._ctx.get_start_method()]
        process = cls(*args, **kwargs)
        process._witness_ledger = self._ledger
        return process

    def Queue(self, maxsize=0):
        if not self._reorder:
            return self._ctx.Queue(maxsize)
        return WitnessQueue(maxsize, ctx=self._ctx, ledger=self._ledger)

    def get_start_method(self, allow_none=False):
        return self._ctx.get_start_method(allow_none)

    def get_context(self, method=None):
        return self if method is None else self._ctx.get_context(method)

    # what the test reads (in the judge, after the call)

    def processes(self, internal: bool = False) -> list:
        """One dict per process started through this context, in the order of start();
        multiprocessing's own processes (a manager's server, pool or executor workers)
        only with internal=True."""
        return self._ledger.rows(internal)

    def started(self) -> int:
        """How many processes of the program's own were started (internal ones not)."""
        return len(self.processes()) + max(0, self._ledger.claimed.value - len(self._ledger.records))

    def fallbacks(self) -> int:
        return self._ledger.fallbacks.value

    def reordered(self) -> int:
        """How many reports a reordering Queue handed out before one that arrived earlier."""
        return self._ledger.reordered.value

    def __getattr__(self, name):
        if name == "_ctx" or (name.startswith("__") and name.endswith("__")):
            raise AttributeError(name)  # keeps it picklable (see dojo.testing.TrackedLock)
        return getattr(self._ctx, name)

    def __repr__(self):
        return f"<WitnessContext {self._ctx.get_start_method()}>"
