"""Children that end only when their parent really waits for them. Standard library only.

    test                              the kata (the parent)                 a child
    ctx = HeldChildrenContext(real)   ctx.Process(...).start()              run(): the target runs,
                                      a wait:  join(), join(timeout>=1 s),  then it waits at its gate
                                               a wait on the sentinel, ──>  until its parent waits:
                                               a look made again from        it ends, and the wait
                                               the same place (a loop)       returns once it has
                                      a look:  join(timeout=0 or short),    it stays at its gate:
                                               is_alive(), exitcode,  ──>  the look finds it
                                               active_children()            running
    ctx.open_all()  ── lets go every child still held (ctx.let_go, ctx.looked_only: what the kata did)

A JoinGateContext (dojo.toolkit.family) holds each child after its target until its parent waits
for it, but any look let the child go, and whether the child had ended by the kata's next
look then depended on the scheduler: ``join(timeout=0)`` followed by reading ``exitcode``
passed or failed by luck. Here what the kata did decides, every time:

- A **wait** lets the child go and returns only once the child has really ended (the wrapper
  waits for it, up to GATE_TIMEOUT, whatever the machine's load): ``join()``, a
  ``join(timeout=T)`` with T of at least LONG_ENOUGH seconds, reading the ``sentinel`` (to wait
  on it), and a **look repeated from the same place** in the kata's code (the same
  instruction of the same function: a loop such as ``while p.is_alive(): ...``,
  ``while p.exitcode is None: p.join(0.1)`` or ``while active_children(): ...``).
  Reading the sentinel waits until the child has ended even when the child has not reached
  its gate yet: this context cannot see the timeout of the wait that follows.
- A **look** (``is_alive()``, ``exitcode``, ``join(timeout=T)`` with T below LONG_ENOUGH,
  ``active_children()``, ``repr()``, ``close()``) made for the first time from its place
  finds the child running, as a child that is slower than the look would be: it returns at
  once (a short join does not sit out its timeout) and leaves the child held.

So a kata that gives each child one short join, or looks once, returns with its children
alive and their exit codes None, every time; a kata that waits until they have ended sees
each one end at once. What a look cannot tell apart: a bounded retry loop (``for _ in
range(3): p.join(0.01)``) counts as a loop; ``wait(sentinels, timeout=0)`` counts as a wait,
because reading the sentinel is all this context sees of it (and reading sentinels while
starting the children counts as waiting for each, as in a JoinGateContext).

After the call the test calls ``open_all()``: every child still held is let go (and counted
in ``let_go``; those the kata had only looked at are in ``looked_only()`` with how it looked),
and the test waits until the children made in its own process have ended, without reaping
them: the leak guard still finds the zombies of a kata that never joined.

Everything the kata's process records lives in shared memory made by the test, so the test
reads it also when the kata ran in a grading host. ``Planned`` work (dojo.toolkit.family) works in
these children as in a JoinGateContext's.
"""

from __future__ import annotations

import os
import sys
import time
from multiprocessing import connection as _connection
from multiprocessing import context as _context

from dojo.toolkit import family as _family
from dojo.toolkit.family import JoinGateContext, Planned, RanInParent  # noqa: F401  (re-exported)
from dojo.toolkit.per_method import process_classes

GATE_TIMEOUT = _family.GATE_TIMEOUT  # a child never waits longer than this for its parent
GATES = _family.GATES  # children a context can hold back
LONG_ENOUGH = 1.0  # a join(timeout=T) with T at least this waits like join(): not scaled, so
# that the verdict on a given program is the same on every machine

# Ways of waiting or looking, as recorded (indexes into this tuple live in shared memory).
WAYS = (
    "join()",
    "join(timeout=...)",
    "is_alive()",
    "exitcode",
    "active_children()",
    "sentinel",
    "get()",
    "recv()",
    "repr()",
    "close()",
    "poll()",
)
_LOOK_NAMES = {  # multiprocessing's function the kata called -> the way it looked
    "join": "join(timeout=...)",
    "is_alive": "is_alive()",
    "exitcode": "exitcode",
    "active_children": "active_children()",
    "__repr__": "repr()",
    "close": "close()",
}

# Per gate: what became of the child it holds.
UNUSED, STARTED, WAITED, LET_GO = 0, 1, 2, 3

_MP_DIR = os.path.dirname(os.path.abspath(_context.__file__)) + os.sep
# This module's own frames, known by their globals: a grading host under fork renames the
# module's file once the kit is out of sight, but its code objects keep the old name.
_OWN = globals()


def _call_site():
    """``(site, way)`` of the kata's call that reached a child's Popen, or ``(None, None)``
    when multiprocessing reached it on its own (``start()`` cleaning up, interpreter exit).

    The site is the first frame outside multiprocessing and this module: its code object's
    identity and the instruction it was at, so a loop gives the same site every time round
    and two calls on one line give two sites."""
    frame = sys._getframe(1)
    names = []
    while frame is not None:
        own = frame.f_globals is _OWN
        if own or os.path.abspath(frame.f_code.co_filename).startswith(_MP_DIR):
            if not own:
                names.append(frame.f_code.co_name)
            frame = frame.f_back
            continue
        break
    if frame is None or "start" in names or "_exit_function" in names:
        return None, None
    code = frame.f_code
    site = (code.co_filename, code.co_firstlineno, code.co_name, frame.f_lasti)
    way = _LOOK_NAMES.get(names[-1], "poll()") if names else "poll()"
    return site, way


class _State:
    """What the kata's process did, in shared memory (it travels to hosts and children by
    inheritance, like the context itself)."""

    def __init__(self, ctx, gates: int):
        self.started = ctx.Value("i", 0)
        self.first_wait = ctx.Value("i", -1)  # processes started when the parent first waited
        self.first_way = ctx.Value("i", -1)  # index into WAYS
        self.gates = ctx.Array("b", gates)  # UNUSED / STARTED / WAITED / LET_GO
        self.at_gate = ctx.Array("b", gates)  # 1 once the child's target has returned
        self.looks = ctx.Array("i", gates)  # looks that found the child held
        self.look_ways = ctx.Array("i", gates)  # how: a bit per index into WAYS
        self.look_timeout = ctx.Array("d", gates)  # the longest timeout of a short join

    def waited(self, way: str) -> None:
        if _family._in_kata_child:
            return
        with self.first_wait.get_lock():
            if self.first_wait.value < 0:
                self.first_wait.value = self.started.value
                self.first_way.value = WAYS.index(way)


class _WatchedPopen:
    """Stands in for a held child's Popen in its parent: every poll() and wait() that
    multiprocessing makes for the kata (is_alive(), exitcode, join(), active_children(), ...)
    comes through here. Everything else is the real Popen's."""

    def __init__(self, real, process):
        self._dojo_real = real
        self._dojo_process = process

    def __getattr__(self, name):
        if name.startswith("_dojo_"):
            raise AttributeError(name)
        return getattr(self._dojo_real, name)

    def poll(self, flag=os.WNOHANG):
        process = self._dojo_process
        if flag != os.WNOHANG:  # a blocking poll is a wait
            process._dojo_let_go("join()")
        else:
            process._dojo_look(None)
        return self._dojo_real.poll(flag)

    def wait(self, timeout=None):
        process = self._dojo_process
        if timeout is None or timeout >= LONG_ENOUGH:
            process._dojo_let_go("join()" if timeout is None else "join(timeout=...)")
            return self._dojo_real.wait(timeout)
        process._dojo_look(timeout)
        if not process._dojo_opened:
            return self._dojo_real.poll()  # a held child is still running: the look ends here
        return self._dojo_real.wait(timeout)


def _until_reapable(pid: int) -> None:
    """Wait until the ended child ``pid`` can be reaped, without reaping it: a sentinel is
    ready as soon as the child has closed its files, a moment before waitpid() can see that
    it has ended. (Not our child under forkserver: its exit code comes through the sentinel.)"""
    try:
        os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)
    except (AttributeError, OSError):
        pass


class _Held:
    """Mixed into each start method's Process class (see _HELD below)."""

    _dojo_gate = None  # a ctx.Semaphore(0), set by HeldChildrenContext.Process
    _dojo_index = -1
    _dojo_state = None
    _dojo_opened = False
    _dojo_sites = None

    def start(self):
        super().start()
        state = self._dojo_state
        if state is not None:
            with state.started.get_lock():
                state.started.value += 1
            if 0 <= self._dojo_index < len(state.gates):
                state.gates[self._dojo_index] = STARTED
        if self._dojo_gate is not None:
            self._dojo_sites = set()
            self._popen = _WatchedPopen(self._popen, self)

    def run(self):
        _family._in_kata_child = True
        try:
            super().run()
        finally:
            if self._dojo_gate is not None:
                if self._dojo_state is not None:
                    self._dojo_state.at_gate[self._dojo_index] = 1
                self._dojo_gate.acquire(timeout=GATE_TIMEOUT)

    def _dojo_parent(self) -> bool:
        return self._popen is not None and self._parent_pid == os.getpid() and self._dojo_gate is not None

    def _dojo_let_go(self, way: str, until_end: bool = False) -> None:
        """A real wait: open the gate and, when the child is held at it (or ``until_end``),
        return only once it has ended, so that what the kata reads next is its final state
        on any machine."""
        if not self._dojo_parent():
            return
        state = self._dojo_state
        if state is not None:
            state.waited(way)
        if self._dojo_opened:
            return
        self._dojo_opened = True
        index = self._dojo_index
        held = False
        if state is not None:
            if state.gates[index] == STARTED:
                state.gates[index] = WAITED
            held = bool(state.at_gate[index])
        self._dojo_gate.release()
        if held or until_end:
            if _connection.wait([self._sentinel], GATE_TIMEOUT):
                _until_reapable(self._popen.pid)

    def _dojo_look(self, timeout) -> None:
        """A look (poll() without waiting, or a short join): the first one from a place leaves
        the child held; the same look again from the same place is a loop, and waits."""
        if not self._dojo_parent() or self._dojo_opened:
            return
        site, way = _call_site()
        if site is None:
            return
        if site in self._dojo_sites:
            self._dojo_let_go(way)
            return
        self._dojo_sites.add(site)
        state = self._dojo_state
        if state is not None:
            index = self._dojo_index
            state.looks[index] += 1
            state.look_ways[index] |= 1 << WAYS.index(way)
            if timeout is not None:
                state.look_timeout[index] = max(state.look_timeout[index], timeout)

    @property
    def sentinel(self):
        # multiprocessing.connection.wait([p.sentinel, ...]) is a way of waiting, and this
        # context cannot see the wait's timeout: reading the sentinel lets the child go and
        # returns once it has ended, so that no verdict depends on how far it got meanwhile.
        if self._dojo_parent() and not self._dojo_opened:
            self._dojo_let_go("sentinel", until_end=True)
        return super().sentinel


_HELD = process_classes(_Held, "Held", globals())


def _look_text(way: str, timeout: float) -> str:
    if way == "join(timeout=...)":
        return f"join(timeout={timeout:g})"
    return way


class HeldChildrenContext(JoinGateContext):
    """A multiprocessing context whose children, once their target has returned, end only
    when their parent waits for them (see the module's docstring for what counts as
    waiting), and which records how the parent started, waited for and looked at them.
    Everything else is the real context's (queues and pipes as in JoinGateContext)."""

    def __init__(self, ctx, gates: int = GATES):
        _family._note_caller()
        self._ctx = ctx
        self._gates = [ctx.Semaphore(0) for _ in range(gates)]
        self._used = ctx.Value("i", 0)
        self._state = _State(ctx, gates)
        self._made = []

    def Process(self, *args, **kwargs):
        _family._note_caller()
        process = _HELD[self._ctx.get_start_method()](*args, **kwargs)
        with self._used.get_lock():
            index = self._used.value
            self._used.value += 1
        process._dojo_state = self._state
        if index < len(self._gates):  # past the last gate a child is simply not held
            process._dojo_gate = self._gates[index]
            process._dojo_index = index
        self._made.append(process)
        return process

    def __repr__(self):
        return f"<HeldChildrenContext {self._ctx.get_start_method()} made={self.made}>"

    # --- what the test reads ------------------------------------------------------------

    @property
    def first_wait(self):
        """``(started, way)``: how many processes had been started when the parent first
        waited (a wait, not a look), and how (one of WAYS); ``None`` if it never waited."""
        if self._state.first_wait.value < 0:
            return None
        return self._state.first_wait.value, WAYS[self._state.first_way.value]

    def looked_only(self):
        """How the kata looked at the let-go children that it had looked at without waiting
        for them: the ways, in the order of WAYS, as the kata wrote them
        (``["join(timeout=0.1)", "exitcode"]``; for short joins the longest timeout)."""
        state = self._state
        ways, timeout = 0, 0.0
        for index in range(min(self._used.value, len(self._gates))):
            if state.gates[index] == LET_GO and state.looks[index] > 0:
                ways |= state.look_ways[index]
                timeout = max(timeout, state.look_timeout[index])
        return [_look_text(way, timeout) for bit, way in enumerate(WAYS) if ways & (1 << bit)]

    @property
    def looked_at(self) -> int:
        """Let-go children that the kata had looked at (but not waited for)."""
        state = self._state
        return sum(
            1
            for index in range(min(self._used.value, len(self._gates)))
            if state.gates[index] == LET_GO and state.looks[index] > 0
        )
