"""Test-side helpers for the process-family katas (processes3, processes4). Standard library only.

    test                          the kata (the parent)                 a child
    ctx = JoinGateContext(real)   ctx.Process(...) ─> a gated Process   run(): the target runs,
    numbers = [Planned(5), ...]     .start()  ── counts starts            then waits at its gate
                                    .join() / .sentinel / .is_alive()
                                     └──── records "waited" ─ opens ──> run() returns, the child
                                  ctx.Queue().get(), recv() ─ "waited"   ends (a Planned it worked
    ctx.open_all()  ── lets go every child nobody waited for             on may end it with a
    ctx.started, ctx.first_wait, ctx.let_go: what the kata did           chosen exit code)

A child of a JoinGateContext cannot end before its parent waits for it, so code that reads
``exitcode`` without waiting, or waits for only some of its children, sees ``None`` every
time, not only when a child happens to be slow. The context also counts the processes
started through it and remembers how many had been started when the parent first waited
for anything (a join, a sentinel, is_alive(), a get() on one of its queues, a recv() on
one of its pipes): a program that waits for one child before it starts the next is seen
every time, whatever the timing.

``Planned`` is an int that a test passes as a piece of work. In a child started through a
JoinGateContext, working on it (``n * n``, ``n ** 2``, ``float(n)``, ``math.sqrt(n)``) may end
that child the way the test chose: ``sys.exit(code)`` at once, or, once the child has
delivered everything it sent, exit code ``code`` or death by a signal. In the process that
called the kata it refuses to be worked on (``RanInParent``): the work belongs in a child.
Everywhere else it is a plain int.

Everything the kata's process records lives in shared memory made by the test, so the test
reads it also when the kata ran in a grading host (another process).
"""

from __future__ import annotations

import os
import time
from multiprocessing import connection as _connection
from multiprocessing import context as _context
from multiprocessing import queues as _queues
from multiprocessing import reduction as _reduction
from multiprocessing import util as _util
from multiprocessing.connection import wait
from dojo.toolkit.per_method import process_classes

GATE_TIMEOUT = 10.0  # a child never waits longer than this for its parent
GATES = 16  # children a JoinGateContext can hold back
WAYS = ("join()", "is_alive()", "sentinel", "get()", "recv()")  # ways of waiting, as recorded

# Per gate: what became of the child it holds.
UNUSED, STARTED, WAITED, LET_GO = 0, 1, 2, 3

# This process's own view (each process has its own copy of these globals).
_in_kata_child = False  # set in a child started through a JoinGateContext
_caller_pid = None  # the process that used the context last: the kata's own process


def _note_caller() -> None:
    global _caller_pid
    if not _in_kata_child:
        _caller_pid = os.getpid()


class _State:
    """What the kata's process did, in shared memory (it travels to hosts and children by
    inheritance, like the context itself)."""

    def __init__(self, ctx, gates: int):
        self.started = ctx.Value("i", 0)
        self.first_wait = ctx.Value("i", -1)  # processes started when the parent first waited
        self.first_way = ctx.Value("i", -1)  # index into WAYS
        self.gates = ctx.Array("b", gates)  # UNUSED / STARTED / WAITED / LET_GO

    def waited(self, way: str) -> None:
        if _in_kata_child:
            return
        with self.first_wait.get_lock():
            if self.first_wait.value < 0:
                self.first_wait.value = self.started.value
                self.first_way.value = WAYS.index(way)


class _Gated:
    """Mixed into each start method's Process class (see _GATED below)."""

    _dojo_gate = None  # a ctx.Semaphore(0), set by JoinGateContext.Process
    _dojo_index = -1
    _dojo_state = None
    _dojo_opened = False

    def start(self):
        super().start()
        state = self._dojo_state
        if state is not None:
            with state.started.get_lock():
                state.started.value += 1
            if 0 <= self._dojo_index < len(state.gates):
                state.gates[self._dojo_index] = STARTED

    def _dojo_wait(self, way: str) -> None:
        # Only the parent of a started child waits for it: in the child, current_process()
        # is this very object, and its own is_alive() must not let it go.
        if self._popen is None or self._parent_pid != os.getpid():
            return
        state = self._dojo_state
        if state is not None:
            state.waited(way)
        gate = self._dojo_gate
        if gate is not None and not self._dojo_opened:
            self._dojo_opened = True
            if state is not None and state.gates[self._dojo_index] == STARTED:
                state.gates[self._dojo_index] = WAITED
            gate.release()

    def run(self):
        global _in_kata_child
        _in_kata_child = True
        try:
            super().run()
        finally:
            if self._dojo_gate is not None:
                self._dojo_gate.acquire(timeout=GATE_TIMEOUT)

    def join(self, timeout=None):
        self._dojo_wait("join()")
        return super().join(timeout)

    def is_alive(self):
        # Polling is_alive() until it turns False is a (costly) way of waiting: let it work.
        # The gate opens only after this first look, so a single is_alive() always sees a
        # child that has not ended, however fast it would end once let go.
        alive = super().is_alive()
        self._dojo_wait("is_alive()")
        return alive

    @property
    def sentinel(self):
        # multiprocessing.connection.wait([p.sentinel, ...]) is a way of waiting too.
        self._dojo_wait("sentinel")
        return super().sentinel


_GATED = process_classes(_Gated, "Gated", globals())


class WaitingQueue(_queues.Queue):
    """A ctx.Queue whose blocking get() in the parent counts as waiting for the children."""

    def __init__(self, maxsize=0, *, ctx, state):
        super().__init__(maxsize, ctx=ctx)
        self._dojo_state = state

    def get(self, block=True, timeout=None):
        if block:
            self._dojo_state.waited("get()")
        return super().get(block, timeout)

    def __getstate__(self):
        return (super().__getstate__(), self._dojo_state)

    def __setstate__(self, state):
        super().__setstate__(state[0])
        self._dojo_state = state[1]


class WaitingSimpleQueue(_queues.SimpleQueue):
    """A ctx.SimpleQueue whose get() in the parent counts as waiting for the children."""

    def __init__(self, *, ctx, state):
        super().__init__(ctx=ctx)
        self._dojo_state = state

    def get(self):
        self._dojo_state.waited("get()")
        return super().get()

    def __getstate__(self):
        return (super().__getstate__(), self._dojo_state)

    def __setstate__(self, state):
        super().__setstate__(state[0])
        self._dojo_state = state[1]


class WaitingConnection(_connection.Connection):
    """One end of a ctx.Pipe() whose blocking recv() in the parent counts as waiting for the
    children. It travels to a spawn or forkserver child as a plain Connection."""

    _dojo_state = None

    def _dojo_waited(self):
        if self._dojo_state is not None:
            self._dojo_state.waited("recv()")

    def recv(self):
        self._dojo_waited()
        return super().recv()

    def recv_bytes(self, maxlength=None):
        self._dojo_waited()
        return super().recv_bytes(maxlength)

    def recv_bytes_into(self, buf, offset=0):
        self._dojo_waited()
        return super().recv_bytes_into(buf, offset)

    def poll(self, timeout=0.0):
        if timeout is None:
            self._dojo_waited()
        return super().poll(timeout)


if hasattr(_connection, "reduce_connection"):  # POSIX: pickled like the Connection it is
    _reduction.register(WaitingConnection, _connection.reduce_connection)


class JoinGateContext:
    """A multiprocessing context whose processes end only once their parent waits for them
    (``join()``, ``sentinel``, ``is_alive()``), and which records how the parent started and
    waited for them. Everything else is the real context's.

    The gates are made up front, in the test's process, and handed out in order: the test
    can open them all after the call even when the kata ran in a grading host, where the
    Process objects live in another process.
    """

    def __init__(self, ctx, gates: int = GATES):
        _note_caller()
        self._ctx = ctx
        self._gates = [ctx.Semaphore(0) for _ in range(gates)]
        self._used = ctx.Value("i", 0)
        self._state = _State(ctx, gates)
        self._made = []  # the Process objects made in this process

    def __setstate__(self, state):
        # Unpickled in a grading host: the process that is about to call the kata.
        self.__dict__.update(state)
        _note_caller()

    # --- what the kata uses -------------------------------------------------------------

    def Process(self, *args, **kwargs):
        _note_caller()
        process = _GATED[self._ctx.get_start_method()](*args, **kwargs)
        with self._used.get_lock():
            index = self._used.value
            self._used.value += 1
        process._dojo_state = self._state
        if index < len(self._gates):  # past the last gate a child is simply not held
            process._dojo_gate = self._gates[index]
            process._dojo_index = index
        self._made.append(process)
        return process

    def Queue(self, maxsize=0):
        _note_caller()
        return WaitingQueue(maxsize, ctx=self._ctx, state=self._state)

    def SimpleQueue(self):
        _note_caller()
        return WaitingSimpleQueue(ctx=self._ctx, state=self._state)

    def Pipe(self, duplex=True):
        _note_caller()
        ends = self._ctx.Pipe(duplex)
        for end in ends:
            if type(end) is _connection.Connection:
                end.__class__ = WaitingConnection
                end._dojo_state = self._state
        return ends

    def get_start_method(self, allow_none=False):
        _note_caller()
        return self._ctx.get_start_method(allow_none)

    def get_context(self, method=None):
        _note_caller()
        return self if method is None else self._ctx.get_context(method)

    def __getattr__(self, name):
        if name == "_ctx" or (name.startswith("__") and name.endswith("__")):
            raise AttributeError(name)  # keeps a half-built copy from recursing forever
        _note_caller()
        return getattr(self._ctx, name)

    def __repr__(self):
        return f"<JoinGateContext {self._ctx.get_start_method()} made={self.made}>"

    # --- what the test reads ------------------------------------------------------------

    @property
    def made(self) -> int:
        """Processes made through ctx.Process."""
        return self._used.value

    @property
    def started(self) -> int:
        """Processes started (start() called) among those."""
        return self._state.started.value

    @property
    def first_wait(self):
        """``(started, way)``: how many processes had been started when the parent first
        waited, and how it waited (one of WAYS); ``None`` if it never waited."""
        if self._state.first_wait.value < 0:
            return None
        return self._state.first_wait.value, WAYS[self._state.first_way.value]

    @property
    def let_go(self) -> int:
        """Started children that nobody waited for, which ``open_all()`` had to let go."""
        return sum(1 for status in self._state.gates[:] if status == LET_GO)

    def open_all(self, timeout: float = GATE_TIMEOUT):
        """Let go every child that nobody waited for, and wait until those made in this
        process have ended (without reaping them: a child the kata never joined stays a
        zombie for the guard to find under fork and spawn). Children made in a grading host
        are the test's to wait for, from outside (its ``host`` fixture)."""
        for process in self._made:
            process._dojo_opened = True
        states = self._state.gates
        for index, gate in enumerate(self._gates[: min(self._used.value, len(self._gates))]):
            if states[index] == STARTED:
                states[index] = LET_GO
            gate.release()  # a second release of a gate already opened is harmless
        sentinels = []
        for process in self._made:
            try:
                sentinels.append(process.sentinel)
            except ValueError:  # never started, or closed by the kata
                continue
        deadline = time.monotonic() + timeout
        while sentinels and time.monotonic() < deadline:
            for ready in wait(sentinels, max(deadline - time.monotonic(), 0)):
                sentinels.remove(ready)


# --- planned work ---------------------------------------------------------------------------


class RanInParent(BaseException):
    """A Planned value was worked on in the process that called the kata, not in a child.

    A BaseException, so that ``except Exception`` in a kata does not swallow it."""


class Planned(int):
    """An int standing for a piece of work, with an ending chosen by the test.

    ``Planned(7, exit_now=3)``: working on it raises SystemExit(3) in the child.
    ``Planned(7, exit_after=3)``: the child ends with exit code 3 once it has delivered
    everything it sent (after multiprocessing's own exit handlers, such as a Queue's flush).
    ``Planned(7, signal_after=9)``: the same, but the child is killed by signal 9.
    ``Planned(7)``: no special ending; it only checks where it is worked on.
    """

    def __new__(cls, value, *, exit_now=None, exit_after=None, signal_after=None):
        self = super().__new__(cls, value)
        self.exit_now = exit_now
        self.exit_after = exit_after
        self.signal_after = signal_after
        return self

    def _work(self, what: str) -> None:
        if _in_kata_child:
            if self.exit_after is not None:
                _util.Finalize(None, os._exit, (self.exit_after,), exitpriority=-100)
            if self.signal_after is not None:
                _util.Finalize(None, os.kill, (os.getpid(), self.signal_after), exitpriority=-100)
            if self.exit_now is not None:
                raise SystemExit(self.exit_now)
        elif os.getpid() == _caller_pid:
            raise RanInParent(
                f"{what} ran in pid {os.getpid()}, the process that called the kata"
            )

    def __float__(self):
        self._work(f"float({int(self)})")
        return float(int(self))

    def __mul__(self, other):
        self._work(f"{int(self)} * {other!r}")
        return int.__mul__(self, other)

    def __rmul__(self, other):
        self._work(f"{other!r} * {int(self)}")
        return int.__rmul__(self, other)

    def __pow__(self, other, mod=None):
        self._work(f"{int(self)} ** {other!r}")
        return int.__pow__(self, other, mod)

    def __repr__(self):
        return int.__repr__(self)

    __str__ = __repr__
