"""Where was the work done? Numbers that record which process and thread squared them.

Standard library only (learner code meets what is in here).

    test:   trace = Trace(ctx)                          shared records (ctx.Array), a gate
            numbers = trace.numbers([3, -1, 4])         TracedInts: ints that behave as ints
            tctx = TraceContext(ctx, trace)             a ctx whose Process class is traced
    kata:   tctx.Process / tctx.Pool / ProcessPoolExecutor(mp_context=tctx)
               └─ start() (caller): serial k from a shared counter, then the real start;
                  the serial and the trace travel inside the Process object (inherited
                  under fork, pickled with it under spawn and forkserver)
            n * n, n ** 2, pow(n, 2)                    in whatever process or thread:
               └─ record (number, where): "child k" if current_process() is a traced
                  process; else the pid and thread, if this process can reach the trace
                  (the caller, or a process forked from it); else nothing is recorded
    test:   trace.records()  ->  plain dicts, read in the judge (the records are shared)

A square that came back although no traced child squared its number was computed
somewhere the test could not see (the caller, a process made without the ctx) or not at
all: the test says what it saw, never more.

The gate (``Trace(ctx, gate=N)``) makes "side by side" visible without luck: each traced
child, at its first multiplication, waits until N traced children have arrived. A program
whose parts really run at the same time never waits on the timer; a program that runs
them one after another (or on fewer processes than parts) cannot fill the gate: once a
whole ``gate_wait()`` has passed in which no traced process was started, began to run or
arrived, the gate opens for good and records how many had arrived.
"""

from __future__ import annotations

import ctypes
import os
import threading
from multiprocessing import context as _mpcontext

SLOTS = 512
GATE_WAIT = 3.0  # seconds without progress before a child at the gate gives up, x DOJO_TIMEOUT_SCALE

CHILD, OTHER = 1, 2


def gate_wait() -> float:
    try:
        scale = float(os.environ.get("DOJO_TIMEOUT_SCALE", "1") or 1)
    except ValueError:
        scale = 1.0
    return GATE_WAIT * max(scale, 1.0)


class Record(ctypes.Structure):
    _fields_ = [
        ("number", ctypes.c_longlong),
        ("where", ctypes.c_int),  # CHILD or OTHER
        ("serial", ctypes.c_int),  # the traced child's serial (CHILD), -1 otherwise
        ("pid", ctypes.c_longlong),
        ("main_thread", ctypes.c_int),  # 1 if squared in the main thread of its process
        ("thread", ctypes.c_longlong),  # a serial per thread object in that process
    ]


class Trace:
    """The shared part. Travels to hosts and children by inheritance (while starting)."""

    def __init__(self, ctx, gate: int = 0):
        self.records_ = ctx.Array(Record, SLOTS)
        self.count = ctx.Value("i", 0)  # records made, also beyond SLOTS
        self.started = ctx.Value("i", 0)  # traced processes started
        self.booted = ctx.Value("i", 0)  # traced processes that reached run()
        # joined[k] = 1 once the starter saw traced child k end: join(), is_alive() False,
        # close() (what Pool and ProcessPoolExecutor do at shutdown, too).
        self.joined = ctx.Array(ctypes.c_byte, SLOTS, lock=False)
        self.gate = gate
        self.arrived = ctx.Value("i", 0)  # traced children that reached the gate
        self.opened = ctx.Event()
        # Traced processes started when the gate opened: those later (a pool replacing a
        # worker that finished) are not part of the cut unless they square something.
        self.opened_at = ctx.Value("i", -1)
        self.gave_up = ctx.Value("i", 0)  # once a child waited out gate_wait(): how many were here
        _remember(self)

    def __getstate__(self):
        return self.__dict__

    def __setstate__(self, state):
        self.__dict__.update(state)
        _remember(self)

    # in the processes that do the work

    def record(self, number: int, where: int, serial: int = -1) -> None:
        thread = threading.current_thread()
        with self.count.get_lock():
            slot = self.count.value
            self.count.value += 1
            if slot < SLOTS:
                r = self.records_.get_obj()[slot]
                r.number = number
                r.where = where
                r.serial = serial
                r.pid = os.getpid()
                r.main_thread = int(thread is threading.main_thread())
                r.thread = _thread_serial(thread)

    def arrive(self) -> None:
        """A traced child's first multiplication: wait until `gate` children are here."""
        if self.gate <= 0:
            return
        with self.arrived.get_lock():
            self.arrived.value += 1
            full = self.arrived.value >= self.gate
        if full:
            with self.opened_at.get_lock():
                if self.opened_at.value < 0:
                    self.opened_at.value = self.started.value
            self.opened.set()
        elif not self._wait_while_progress():
            with self.gave_up.get_lock():
                if not self.gave_up.value:
                    # Nobody has passed the gate yet: all that arrived are still here.
                    with self.arrived.get_lock():
                        self.gave_up.value = self.arrived.value
            self.opened.set()  # once given up, nobody else waits

    def _wait_while_progress(self) -> bool:
        """Wait for the gate to open. Give up only after a whole gate_wait() in which no
        traced process was started, none began to run and none arrived: a slow machine
        that is still starting the parts is waited for; a program that waits for this part
        before it starts the next one is not."""
        seen = None
        while True:
            now = (self.started.value, self.booted.value, self.arrived.value)
            if now == seen:
                return False
            seen = now
            if self.opened.wait(gate_wait()):
                return True

    # in the judge, after the call

    def records(self) -> list:
        with self.count.get_lock():
            n = min(self.count.value, SLOTS)
            rows = []
            for slot in range(n):
                r = self.records_.get_obj()[slot]
                rows.append(
                    {
                        "number": r.number,
                        "child": r.where == CHILD,
                        "serial": r.serial if r.where == CHILD else None,
                        "pid": r.pid,
                        "main_thread": bool(r.main_thread),
                        "thread": r.thread,
                    }
                )
            return rows

    def overflowed(self) -> bool:
        return self.count.value > SLOTS

    def processes_started(self) -> int:
        return self.started.value

    def unjoined(self) -> list:
        """Serials of traced children whose end their starter never saw."""
        return [k for k in range(min(self.started.value, SLOTS)) if not self.joined[k]]

    def gate_report(self) -> dict:
        """How many traced children reached the gate, and, if one gave up waiting, how many
        were at the gate then (0 if nobody gave up)."""
        return {
            "parties": self.gate,
            "arrived": self.arrived.value,
            "gave_up": self.gave_up.value,
            "opened_at": self.opened_at.value,
        }

    def numbers(self, values) -> list:
        return [TracedInt(v, self) for v in values]


# The trace this process can reach without a traced Process object: the one made or
# unpickled here last (a forked child inherits it; a spawned one that unpickled none has
# none). Each process has its own copy of this module.
_local: Trace | None = None
_threads = {"next": 1}
_threads_lock = threading.Lock()


def _remember(trace) -> None:
    global _local
    _local = trace


def _thread_serial(thread) -> int:
    # Thread idents are reused once a thread ends; a serial stored on the Thread object is not.
    serial = getattr(thread, "_dojo_trace_serial", None)
    if serial is None:
        with _threads_lock:
            serial = _threads["next"]
            _threads["next"] += 1
        try:
            thread._dojo_trace_serial = serial
        except AttributeError:
            pass
    return serial


# --- the numbers ------------------------------------------------------------------------


def _rebuild(value, trace, origin=None):
    return TracedInt(value, trace, origin)


class TracedInt(int):
    """An int whose multiplication by itself (and power) records where it ran.

    Results are plain ints, so whatever a program does with a square (a Queue, a Pipe, a
    shared Array, a Manager) works exactly as with an int."""

    def __new__(cls, value, trace=None, origin=None):
        self = super().__new__(cls, value)
        self._trace = trace
        self._origin = int(value) if origin is None else origin  # the number the test passed
        return self

    def __reduce__(self):
        # Synchronized objects pickle only while a process is being started; elsewhere (a
        # Queue, a Pool's pipe) the number travels bare and finds the trace where it lands.
        trace = self._trace if _mpcontext.get_spawning_popen() is not None else None
        return _rebuild, (int(self), trace, self._origin)

    # abs(n) ** 2, -n * -n, float(n) ** 2 (math.pow): still the test's number being squared.

    def __abs__(self):
        return TracedInt(abs(int(self)), self._trace, self._origin)

    def __neg__(self):
        return TracedInt(-int(self), self._trace, self._origin)

    def __pos__(self):
        return self

    def __float__(self):
        self._note()
        return float(int(self))

    def _note(self):
        from multiprocessing import current_process

        process = current_process()
        trace = getattr(process, "_dojo_trace", None)
        if trace is not None:
            if getattr(process, "_dojo_trace_arrived", None) != os.getpid():
                process._dojo_trace_arrived = os.getpid()
                trace.arrive()
            trace.record(self._origin, CHILD, process._dojo_trace_serial)
            return
        trace = self._trace or _local
        if trace is not None:
            trace.record(self._origin, OTHER)

    # One multiplication, one record: the other operand is made a plain int first, or
    # Python would ask the TracedInt on the right for __rmul__ and record it twice.

    def __mul__(self, other):
        self._note()
        return int(self) * _plain(other)

    def __rmul__(self, other):
        self._note()
        return _plain(other) * int(self)

    def __pow__(self, other, modulo=None):
        self._note()
        return pow(int(self), _plain(other), modulo)

    def __rpow__(self, other, modulo=None):
        self._note()
        return pow(_plain(other), int(self), modulo)


def _plain(value):
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else value


# --- traced processes ---------------------------------------------------------------------


class _Traced:
    """Mixed into the real Process classes: counts start() and carries the trace."""

    _dojo_trace = None
    _dojo_trace_serial = -1

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._dojo_trace = _pending["trace"]

    def start(self):
        trace = self._dojo_trace
        if trace is not None:
            if _is_manager_server(self):
                self._dojo_trace = None  # a manager's server does no work of the kata's
            else:
                with trace.started.get_lock():
                    self._dojo_trace_serial = trace.started.value
                    trace.started.value += 1
        return super().start()

    def run(self):
        trace = self._dojo_trace
        if trace is not None:
            with trace.booted.get_lock():
                trace.booted.value += 1
        return super().run()

    def join(self, timeout=None):
        super().join(timeout)
        self._dojo_seen_end()

    def is_alive(self):
        alive = super().is_alive()
        if not alive:
            self._dojo_seen_end()
        return alive

    def close(self):
        super().close()  # raises while the process runs; after it, exitcode is unreadable
        self._dojo_mark_joined()

    def _dojo_seen_end(self):
        if self._popen is not None and self.exitcode is not None:
            self._dojo_mark_joined()

    def _dojo_mark_joined(self):
        trace, serial = self._dojo_trace, self._dojo_trace_serial
        if trace is not None and 0 <= serial < SLOTS:
            trace.joined[serial] = 1


def _is_manager_server(process) -> bool:
    target = getattr(process, "_target", None)
    return getattr(target, "__name__", "") == "_run_server"


class TracedForkProcess(_Traced, _mpcontext.ForkProcess if hasattr(_mpcontext, "ForkProcess") else object):
    pass


class TracedSpawnProcess(_Traced, _mpcontext.SpawnProcess):
    pass


# Default names ("SpawnProcess-3") come from the class name: keep the real ones.
TracedForkProcess.__name__ = "ForkProcess"
TracedSpawnProcess.__name__ = "SpawnProcess"
_CLASSES = {"fork": TracedForkProcess, "spawn": TracedSpawnProcess}

if hasattr(_mpcontext, "ForkServerProcess"):

    class TracedForkServerProcess(_Traced, _mpcontext.ForkServerProcess):
        pass

    TracedForkServerProcess.__name__ = "ForkServerProcess"
    _CLASSES["forkserver"] = TracedForkServerProcess


# The trace of the TraceContext whose Process class was asked for last, in this process:
# ``ctx.Process`` hands out a class (so that ``class Worker(ctx.Process)`` works too), and
# the instance picks the trace up here when it is made.
_pending = {"trace": None}


class TraceContext:
    """A multiprocessing context whose processes are traced; everything else is the real
    context's. ``ctx.Process``, ``ctx.Pool(...)``, ``ProcessPoolExecutor(mp_context=ctx)``
    and ``ctx.get_context()`` all go through it."""

    def __init__(self, ctx, trace: Trace):
        self._ctx = ctx
        self._trace = trace

    @property
    def Process(self):
        _pending["trace"] = self._trace
        return _CLASSES[self._ctx.get_start_method()]

    def Pool(self, processes=None, initializer=None, initargs=(), maxtasksperchild=None):
        from multiprocessing.pool import Pool

        return Pool(processes, initializer, initargs, maxtasksperchild, context=self)

    def get_start_method(self, allow_none=False):
        return self._ctx.get_start_method(allow_none)

    def get_context(self, method=None):
        if method is None or method == self._ctx.get_start_method():
            return self
        return self._ctx.get_context(method)

    def __getattr__(self, name):
        if name == "_ctx" or (name.startswith("__") and name.endswith("__")):
            raise AttributeError(name)  # keeps it picklable (see dojo.testing.TrackedLock)
        return getattr(self._ctx, name)

    def __repr__(self):
        return f"<TraceContext {self._ctx.get_start_method()}>"
