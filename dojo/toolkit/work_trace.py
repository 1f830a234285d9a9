"""Where was the work done? Numbers that record which process and thread read them.

Standard library only (learner code meets what is in here).

    test:   trace = Trace(ctx)                          shared records (ctx.Array), a gate
            numbers = trace.numbers([3, -1, 4])         TracedInts: ints that behave as ints
            tctx = TraceContext(ctx, trace)             a ctx whose Process class is traced
    kata:   tctx.Process / tctx.Pool / ProcessPoolExecutor(mp_context=tctx)
               └─ start() (caller): serial k from a shared counter, then the real start;
                  the serial and the trace travel inside the Process object (inherited
                  under fork, pickled with it under spawn and forkserver)
            any read of a number's value                in whatever process or thread:
            (n * n, n ** 2, pow(n, 2), int(n), float(n), operator.mul, math.prod,
             str(n) ...: every dunder of READS)
               └─ record (number, op, where): "child k" if current_process() is a traced
                  process; else the pid and thread, if this process can reach the trace
                  (the caller, or a process forked from it); else nothing is recorded
            a number in a traced child's hands          (its arguments, or unpickled
               └─ record (number, "received", child k)   there from a task, a Queue ...)
    test:   trace.records()  ->  plain dicts, read in the judge (the records are shared)
            work_seen(rows, caller) -> what the caller computed, what children had

So the judge does not depend on HOW a square is computed: int(n) ** 2 in a child reads
the number there (int(n)) as n * n does. In the caller, arithmetic or a conversion to a
plain number is the work being done there; formatting, hashing, comparing and pickling
(handing the number to a child) are not. CPython reads an int subclass's value without a
dunder in a few places (operator.index(n), struct.pack, ctypes, range(n)): a child that
does so still shows as having received the number; a caller that does so is not seen.

A square that came back although no traced child had its number was computed somewhere
the test could not see (the caller, a process made without the ctx) or not at all: the
test says what it saw, never more.

The gate (``Trace(ctx, gate=N)``) makes "side by side" visible without luck: each traced
child, when it first has a number in hand, waits until N traced children have arrived. A
program whose parts really run at the same time never waits on the timer; a program that
runs them one after another (or on fewer processes than parts) cannot fill the gate: once
a whole ``gate_wait()`` has passed in which no traced process was started, began to run
or arrived, the gate opens for good and records how many had arrived.

The finishing order (``Trace(ctx, order=True)``, ``trace.numbers(values, groups)``)
makes "in whatever order they finish" testable without luck: a traced child that reads a
number of group g waits until every number of a lower group is done with (the process
that read it has ended, after its exit functions flushed its Queues; or, a pool's or an
executor's worker, has put that task's result on its way back). Results then reach the
parent group by group, so a program that hands them on in arrival order does so in group
order, every time. It never waits for a program whose workers take the numbers in order;
one that cannot finish in that order (a small pool fed the numbers reordered) is let go
after a whole gate_wait() without progress, and the report says so.
"""

from __future__ import annotations

import ctypes
import os
import threading
from multiprocessing import context as _mpcontext
from dojo.toolkit.per_method import process_classes

SLOTS = 512
GATE_WAIT = 8.0  # seconds without progress before a child at the gate gives up, x DOJO_TIMEOUT_SCALE
# (3 s gave up once under a load of 15 on 2 cores, and a wrong program passed: only programs
# that wait for something the trace cannot see ever reach it, so its length costs no right one)

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
        ("op", ctypes.c_int),  # how the value was read: an index into OPS
        ("index", ctypes.c_int),  # the number's place in the test's list, -1 if unknown
    ]


class Trace:
    """The shared part. Travels to hosts and children by inheritance (while starting)."""

    def __init__(self, ctx, gate: int = 0, order: bool = False):
        self.records_ = ctx.Array(Record, SLOTS)
        self.token = os.urandom(8).hex()  # names this trace in each process's memory of what it recorded
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
        # The finishing order (``order=True``): numbers belong to groups (``numbers(values,
        # groups)``; by default each number is its own group, in list order). A traced
        # child that reads a number of group g first waits until every number of a lower
        # group has been done with by the process that read it: that process ended, or it
        # is a pool's or executor's worker and put its task's result on the way back. So
        # the results reach the parent group by group, whatever the scheduler does, and a
        # program that hands them on in arrival order hands them on in group order.
        self.order = order
        if order:
            self.turn = ctx.Condition()
            self.groups = ctx.Array(ctypes.c_int, SLOTS, lock=False)
            self.done = ctx.Array(ctypes.c_byte, SLOTS, lock=False)
            self.placed = ctx.Value("i", 0, lock=False)  # how many numbers have a group
            self.moves = ctx.Value("i", 0, lock=False)  # reads and dones so far (under turn)
            self.order_gave_up = ctx.Value("i", 0, lock=False)
            self.holder = ctx.Array(ctypes.c_int, SLOTS, lock=False)  # serial + 1 of who holds number i
            self.waiting = ctx.Array(ctypes.c_int, [-1] * SLOTS, lock=False)  # per serial: group awaited
            self.ended = ctx.Value("i", 0, lock=False)  # traced processes past their exit functions
            self.let_go = ctx.Value("i", -1, lock=False)  # groups up to this one go on regardless
            # Set once the kata's own process first waits (a join, a get on a queue ctx made,
            # a Pool fully started): before that it may still start the process everybody
            # waits for, and nobody is stuck yet (a fork child can read its number before
            # its parent has started its siblings).
            self.parent_waited = ctx.Value("i", 0, lock=False)
        _remember(self)

    def __getstate__(self):
        return self.__dict__

    def __setstate__(self, state):
        self.__dict__.update(state)
        _remember(self)

    # in the processes that do the work

    def record(self, number: int, where: int, serial: int = -1, op: int = 0, index: int = -1) -> None:
        thread = threading.current_thread()
        key = (self.token, os.getpid(), _thread_serial(thread), number, index, where, op)
        if key in _recorded:
            return  # one record per number, op and thread: a loop of additions fills nothing
        _recorded.add(key)
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
                r.op = op
                r.index = index

    def read_in_child(self, n, op: int, serial: int) -> None:
        index = n._index
        if self.order and 0 <= index < self.placed.value and 0 <= serial < SLOTS:
            held = _held_here()
            if index not in held:
                held.add(index)
                self._wait_for_turn(index, serial)
        self.record(n._origin, CHILD, serial, op=op, index=index)

    def _ready(self, group: int, serial: int) -> bool:
        """(under turn) Whether a process may go on with a number of ``group``: every
        number of a lower group is done, or in this very process's hands."""
        if group <= self.let_go.value:
            return True
        return all(
            self.done[i] or self.holder[i] == serial + 1
            for i in range(self.placed.value)
            if self.groups[i] < group
        )

    def _stuck(self) -> bool:
        """(under turn) Every traced process alive is waiting here and none may go on: the
        program hands the numbers out in another order than they can finish in (a small
        pool fed them reordered; processes started one at a time). Nobody else can move."""
        started = min(self.started.value, SLOTS)
        if not self.parent_waited.value:
            return False  # the kata's process may still start the one everybody waits for
        if self.booted.value < started:
            return False  # one is still starting: it may be the one everybody waits for
        waiting = [(k, self.waiting[k]) for k in range(started) if self.waiting[k] >= 0]
        alive = started - self.ended.value
        return bool(waiting) and len(waiting) >= alive and not any(self._ready(g, k) for k, g in waiting)

    def _wait_for_turn(self, index: int, serial: int) -> None:
        group = self.groups[index]
        with self.turn:
            self.holder[index] = serial + 1
            self.moves.value += 1
            self.turn.notify_all()
            self.waiting[serial] = group
            try:
                seen = None
                while not self._ready(group, serial) and not self.order_gave_up.value:
                    if self._stuck():
                        # Let the lowest group waiting go on: the order is kept as far as
                        # this program allows it, and nobody waits on a timer.
                        lowest = min(self.waiting[k] for k in range(min(self.started.value, SLOTS)) if self.waiting[k] >= 0)
                        self.let_go.value = max(self.let_go.value, lowest)
                        self.moves.value += 1
                        self.turn.notify_all()
                        continue
                    now = (self.moves.value, self.started.value, self.booted.value)
                    if now == seen:
                        # A whole gate_wait() with no read, no result and no process
                        # started, and some traced process busy elsewhere (waiting for a
                        # task, say): let everybody go, and say so.
                        self.order_gave_up.value = 1
                        self.turn.notify_all()
                        break
                    seen = now
                    self.turn.wait(gate_wait())
            finally:
                self.waiting[serial] = -1

    def done_here(self, ended: bool = False) -> None:
        """This process is done with every number it read: they may be overtaken no more.
        ``ended``: and it is about to exit."""
        if not self.order:
            return
        held = _held_here()
        if not held and not ended:
            return
        with self.turn:
            for i in held:
                if 0 <= i < SLOTS:
                    self.done[i] = 1
                    self.holder[i] = 0
            if ended:
                self.ended.value += 1
            self.moves.value += 1
            self.turn.notify_all()
        held.clear()

    def parent_waits(self) -> None:
        """In the kata's own process (not a traced child): it is about to wait."""
        if not self.order or _in_traced_child or self.parent_waited.value:
            return
        with self.turn:
            self.parent_waited.value = 1
            self.moves.value += 1
            self.turn.notify_all()

    def ordering_report(self) -> dict:
        """gave_up: the finishing order was not forced all the way (a timer ran out, or
        processes that could only go on out of order were let go)."""
        if not self.order:
            return {"gave_up": False}
        return {"gave_up": bool(self.order_gave_up.value) or self.let_go.value >= 0}

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
                        "op": r.op,
                        "index": r.index,
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

    def numbers(self, values, groups=None) -> list:
        """TracedInts for ``values``. With ``order=True``, ``groups[i]`` is the group of
        the i-th number (lower groups finish first); by default its place in the list."""
        values = list(values)
        if self.order:
            for i in range(min(len(values), SLOTS)):
                self.groups[i] = i if groups is None else groups[i]
            self.placed.value = min(len(values), SLOTS)
        return [TracedInt(v, self, None, i) for i, v in enumerate(values)]


# The trace this process can reach without a traced Process object: the one made or
# unpickled here last (a forked child inherits it; a spawned one that unpickled none has
# none). Each process has its own copy of this module.
_local: Trace | None = None
_threads = {"next": 1}
_recorded: set = set()  # (trace, pid, thread, number, index, where, op) recorded here already
_held = {"pid": None, "indexes": set()}  # numbers this process read and is not done with


def _held_here() -> set:
    if _held["pid"] != os.getpid():  # a forked child starts with nothing in hand
        _held["pid"] = os.getpid()
        _held["indexes"] = set()
    return _held["indexes"]
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

# What a TracedInt records: every way a program can get at its value, not only a product.
# int(n) ** 2, float(n) * float(n), operator.index(n) ** 2, math.prod((n, n)), pow(n, 2),
# int(str(n)) ** 2: each reads the number once through one of these, in the process that
# does it. Reading a value is not yet squaring it, so the judge weighs the ops: in a child,
# any read shows that the number reached the child and was used there; in the caller, an
# arithmetic op or a conversion to a plain number (COMPUTE) is the work done there, while
# formatting (a process name, a log line) is not. Hashing and comparing record nothing
# (dict keys, sorting), and neither does pickling (handing the number to a child).
OPS = (
    "n * m", "n ** m", "int(n)", "operator.index(n)", "float(n)", "n + m", "n - m",
    "n / m", "n // m", "n % m", "divmod(n, m)", "n << m", "n >> m", "n & m", "n | m",
    "n ^ m", "~n", "round(n)", "math.trunc(n)", "math.floor(n)", "math.ceil(n)",
    "n.bit_length()", "n.to_bytes()", "n.as_integer_ratio()", "n.real", "n.numerator",
    "n.conjugate()", "n.bit_count()", "str(n)", "repr(n)", "format(n)", "received",
)
OP = {name: code for code, name in enumerate(OPS)}
# "received": the number reached a traced child (in its arguments, or unpickled there from
# a pool's task, a Queue, a Manager). Some reads never reach a dunder: CPython takes an
# int subclass's value directly in operator.index(n), struct.pack, ctypes, range(n). So a
# child may square a number unseen; that it had the number is what can be seen.
FORMAT_OPS = frozenset({OP["str(n)"], OP["repr(n)"], OP["format(n)"], OP["received"]})


def is_compute(op: int) -> bool:
    """Whether op turns the number into arithmetic or a plain number (not formatting)."""
    return op not in FORMAT_OPS


def op_name(op: int) -> str:
    return OPS[op] if 0 <= op < len(OPS) else "?"


def _value(n) -> int:
    """The plain int inside a TracedInt, without recording a read."""
    return int.__int__(n)


def _plain(value):
    return int.__int__(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _rebuild(value, trace, origin=None, index=-1):
    n = TracedInt(value, trace, origin, index)
    _received(n)
    return n


def _received(n) -> None:
    """Record that ``n`` is in a traced child's hands (nothing if this is not one)."""
    from multiprocessing import current_process

    process = current_process()
    trace = getattr(process, "_dojo_trace", None)
    if trace is not None:
        _at_work(process, trace)
        trace.record(n._origin, CHILD, process._dojo_trace_serial, op=OP["received"], index=n._index)


def _at_work(process, trace) -> None:
    """A traced child with a number in hand is at work: the side-by-side gate counts it."""
    if getattr(process, "_dojo_trace_arrived", None) != os.getpid():
        process._dojo_trace_arrived = os.getpid()
        trace.arrive()


def _received_in(value, depth: int = 0) -> None:
    """Every TracedInt in a child's arguments (lists, tuples, dicts, sets), as received."""
    if isinstance(value, TracedInt):
        _received(value)
    elif depth < 4 and isinstance(value, (list, tuple, set, frozenset)):
        for item in list(value)[:SLOTS]:
            _received_in(item, depth + 1)
    elif depth < 4 and isinstance(value, dict):
        for key, item in list(value.items())[:SLOTS]:
            _received_in(key, depth + 1)
            _received_in(item, depth + 1)


def _reading(op, compute):
    def method(self, *args, **kwargs):
        self._note(OP[op])
        return compute(_value(self), *(_plain(a) for a in args), **kwargs)

    return method


def _reading_property(op):
    def getter(self):
        self._note(OP[op])
        return _value(self)

    return property(getter)


# (method, op, what it computes from the plain value): every read a TracedInt records.
READS = [
    ("__mul__", "n * m", lambda a, b: a * b),
    ("__rmul__", "n * m", lambda a, b: b * a),
    ("__pow__", "n ** m", lambda a, b, m=None: pow(a, b, m)),
    ("__rpow__", "n ** m", lambda a, b, m=None: pow(b, a, m)),
    ("__add__", "n + m", lambda a, b: a + b),
    ("__radd__", "n + m", lambda a, b: b + a),
    ("__sub__", "n - m", lambda a, b: a - b),
    ("__rsub__", "n - m", lambda a, b: b - a),
    ("__truediv__", "n / m", lambda a, b: a / b),
    ("__rtruediv__", "n / m", lambda a, b: b / a),
    ("__floordiv__", "n // m", lambda a, b: a // b),
    ("__rfloordiv__", "n // m", lambda a, b: b // a),
    ("__mod__", "n % m", lambda a, b: a % b),
    ("__rmod__", "n % m", lambda a, b: b % a),
    ("__divmod__", "divmod(n, m)", lambda a, b: divmod(a, b)),
    ("__rdivmod__", "divmod(n, m)", lambda a, b: divmod(b, a)),
    ("__lshift__", "n << m", lambda a, b: a << b),
    ("__rlshift__", "n << m", lambda a, b: b << a),
    ("__rshift__", "n >> m", lambda a, b: a >> b),
    ("__rrshift__", "n >> m", lambda a, b: b >> a),
    ("__and__", "n & m", lambda a, b: a & b),
    ("__rand__", "n & m", lambda a, b: b & a),
    ("__or__", "n | m", lambda a, b: a | b),
    ("__ror__", "n | m", lambda a, b: b | a),
    ("__xor__", "n ^ m", lambda a, b: a ^ b),
    ("__rxor__", "n ^ m", lambda a, b: b ^ a),
    ("__invert__", "~n", lambda a: ~a),
    ("__int__", "int(n)", lambda a: a),
    ("__index__", "operator.index(n)", lambda a: a),
    ("__float__", "float(n)", lambda a: float(a)),
    ("__round__", "round(n)", lambda a, *nd: round(a, *nd)),
    ("__trunc__", "math.trunc(n)", lambda a: a),
    ("__floor__", "math.floor(n)", lambda a: a),
    ("__ceil__", "math.ceil(n)", lambda a: a),
    ("bit_length", "n.bit_length()", lambda a: a.bit_length()),
    ("to_bytes", "n.to_bytes()", lambda a, *args, **kwargs: a.to_bytes(*args, **kwargs)),
    ("as_integer_ratio", "n.as_integer_ratio()", lambda a: a.as_integer_ratio()),
    ("conjugate", "n.conjugate()", lambda a: a),
    ("__str__", "str(n)", lambda a: str(a)),
    ("__repr__", "repr(n)", lambda a: repr(a)),
    ("__format__", "format(n)", lambda a, spec: format(a, spec)),
]
if hasattr(int, "bit_count"):
    READS.append(("bit_count", "n.bit_count()", lambda a: a.bit_count()))
READ_PROPERTIES = [("real", "n.real"), ("numerator", "n.numerator")]


def install_reads(cls):
    """Give an int subclass every read of READS; each calls ``self._note(op)`` first."""
    for name, op, compute in READS:
        method = _reading(op, compute)
        method.__name__ = name
        setattr(cls, name, method)
    for name, op in READ_PROPERTIES:
        setattr(cls, name, _reading_property(op))
    return cls


@install_reads
class TracedInt(int):
    """An int that records, in whatever process or thread reads its value, where that was.

    Every result is a plain int (or float, str ...), so whatever a program does with a
    square (a Queue, a Pipe, a shared Array, a Manager) works exactly as with an int.
    ``index`` is the number's place in the test's list (``Trace.numbers``): a number given
    twice is two numbers."""

    def __new__(cls, value, trace=None, origin=None, index=-1):
        self = super().__new__(cls, _plain(value))
        self._trace = trace
        self._origin = _plain(value) if origin is None else origin  # the number the test passed
        self._index = index
        return self

    def __reduce__(self):
        # Synchronized objects pickle only while a process is being started; elsewhere (a
        # Queue, a Pool's pipe) the number travels bare and finds the trace where it lands.
        trace = self._trace if _mpcontext.get_spawning_popen() is not None else None
        return _rebuild, (_value(self), trace, self._origin, self._index)

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self

    # abs(n) ** 2, -n * -n: still the test's number, read when it is used.

    def __abs__(self):
        return TracedInt(abs(_value(self)), self._trace, self._origin, self._index)

    def __neg__(self):
        return TracedInt(-_value(self), self._trace, self._origin, self._index)

    def __pos__(self):
        return self

    def _note(self, op: int) -> None:
        from multiprocessing import current_process

        process = current_process()
        trace = getattr(process, "_dojo_trace", None)
        if trace is not None:
            _at_work(process, trace)
            trace.read_in_child(self, op, process._dojo_trace_serial)
            return
        trace = self._trace or _local
        if trace is not None:
            trace.record(self._origin, OTHER, op=op, index=self._index)


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
        global _in_traced_child
        _in_traced_child = True
        trace = self._dojo_trace
        if trace is not None:
            with trace.booted.get_lock():
                trace.booted.value += 1
            if trace.order:
                _note_results_of_workers(self, trace)
            try:
                _received_in(tuple(getattr(self, "_args", ())) + tuple(getattr(self, "_kwargs", {}).values()))
            except Exception:
                pass
        return super().run()

    def _bootstrap(self, *args, **kwargs):
        # Returns once run() has ended and multiprocessing's exit functions have run: a
        # Queue's feeder thread has delivered what this process put, a Manager's calls
        # have returned. Only then are its numbers done.
        code = super()._bootstrap(*args, **kwargs)
        trace = self._dojo_trace
        if trace is not None:
            try:
                trace.done_here(ended=True)
            except Exception:
                pass
        return code

    def join(self, timeout=None):
        self._dojo_parent_waits()
        super().join(timeout)
        self._dojo_seen_end()

    def is_alive(self):
        self._dojo_parent_waits()
        alive = super().is_alive()
        if not alive:
            self._dojo_seen_end()
        return alive

    def close(self):
        super().close()  # raises while the process runs; after it, exitcode is unreadable
        self._dojo_mark_joined()

    @property
    def sentinel(self):
        self._dojo_parent_waits()
        return super().sentinel

    def _dojo_parent_waits(self):
        if self._dojo_trace is not None:
            try:
                self._dojo_trace.parent_waits()
            except Exception:  # noqa: BLE001 - a trace whose memory is gone: nothing to record
                pass

    def _dojo_seen_end(self):
        if self._popen is not None and self.exitcode is not None:
            self._dojo_mark_joined()

    def _dojo_mark_joined(self):
        trace, serial = self._dojo_trace, self._dojo_trace_serial
        if trace is not None and 0 <= serial < SLOTS:
            trace.joined[serial] = 1


class _DoneAfterPut:
    """A pool's or executor's result queue, seen from its worker: once a task's result is
    on its way back (put returns after the bytes are in the pipe), the numbers that task
    read are done."""

    def __init__(self, queue, trace):
        self._queue = queue
        self._trace = trace

    def put(self, obj, *args, **kwargs):
        result = self._queue.put(obj, *args, **kwargs)
        self._trace.done_here()
        return result

    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return getattr(self._queue, name)


def _note_results_of_workers(process, trace) -> None:
    target = getattr(process, "_target", None)
    where = (getattr(target, "__module__", ""), getattr(target, "__name__", ""))
    if where in (("multiprocessing.pool", "worker"), ("concurrent.futures.process", "_process_worker")):
        args = list(process._args)
        if len(args) > 1:
            args[1] = _DoneAfterPut(args[1], trace)  # (inqueue, outqueue, ...), (call_queue, result_queue, ...)
            process._args = tuple(args)


def _is_manager_server(process) -> bool:
    target = getattr(process, "_target", None)
    return getattr(target, "__name__", "") == "_run_server"


_CLASSES = process_classes(_Traced, "Traced", globals())


# The trace of the TraceContext whose Process class was asked for last, in this process:
# ``ctx.Process`` hands out a class (so that ``class Worker(ctx.Process)`` works too), and
# the instance picks the trace up here when it is made.
_pending = {"trace": None}
_in_traced_child = False  # set in a traced process's run(): a wait there is not the parent's


def _queue_classes():
    from multiprocessing import queues

    class _CarriesTrace:
        """The trace travels with the queue to the processes it is pickled to."""

        def __getstate__(self):
            return (*super().__getstate__(), self._dojo_trace)

        def __setstate__(self, state):
            super().__setstate__(state[:-1])
            self._dojo_trace = state[-1]

    class _ParentWaitQueue(_CarriesTrace, queues.Queue):
        """A Queue whose get() in the kata's own process tells the trace it waits."""

        def __init__(self, maxsize=0, *, ctx, trace):
            super().__init__(maxsize, ctx=ctx)
            self._dojo_trace = trace

        def get(self, block=True, timeout=None):
            if block:
                self._dojo_trace.parent_waits()
            return super().get(block, timeout)

    class _ParentWaitSimpleQueue(_CarriesTrace, queues.SimpleQueue):
        def __init__(self, *, ctx, trace):
            super().__init__(ctx=ctx)
            self._dojo_trace = trace

        def get(self):
            self._dojo_trace.parent_waits()
            return super().get()

    _ParentWaitQueue.__qualname__ = _ParentWaitQueue.__name__ = "_ParentWaitQueue"
    _ParentWaitSimpleQueue.__qualname__ = _ParentWaitSimpleQueue.__name__ = "_ParentWaitSimpleQueue"
    return _ParentWaitQueue, _ParentWaitSimpleQueue


_ParentWaitQueue, _ParentWaitSimpleQueue = _queue_classes()


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

        pool = Pool(processes, initializer, initargs, maxtasksperchild, context=self)
        self._trace.parent_waits()  # every worker is started: the pool starts no more
        return pool

    def Queue(self, maxsize=0):
        return _ParentWaitQueue(maxsize, ctx=self._ctx, trace=self._trace)

    def SimpleQueue(self):
        return _ParentWaitSimpleQueue(ctx=self._ctx, trace=self._trace)

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


# --- reading the records (in the judge) ---------------------------------------------------


def work_seen(rows: list, caller: int) -> dict:
    """What the records show, as plain data, per number the test passed:

    in_caller   {number: [ops]}  arithmetic or conversions in the process that called the
                                 kata (formatting it is not counted: a name, a log line)
    elsewhere   {number: [ops]}  the same in processes not started through the ctx
    other_pids  [pid]            those processes
    in_children {number}         numbers a traced child read in any way at all
    """
    in_caller: dict = {}
    elsewhere: dict = {}
    other_pids: set = set()
    in_children: set = set()
    for r in rows:
        if r["child"]:
            in_children.add(r["number"])
            continue
        if not is_compute(r["op"]):
            continue
        where = in_caller if r["pid"] == caller else elsewhere
        if r["pid"] != caller:
            other_pids.add(r["pid"])
        ops = where.setdefault(r["number"], [])
        if op_name(r["op"]) not in ops:
            ops.append(op_name(r["op"]))
    return {"in_caller": in_caller, "elsewhere": elsewhere, "other_pids": sorted(other_pids), "in_children": in_children}


def how_text(by_number: dict, numbers) -> str:
    """``{3: ["int(n)"], 4: ["n * m"]}`` -> ``"int(n) on 3; n * m on 4"``, in the test's order."""
    by_op: dict = {}
    for n in dict.fromkeys(numbers):
        for op in by_number.get(n, []):
            by_op.setdefault(op, []).append(n)
    return "; ".join(f"{op} on {', '.join(map(str, ns))}" for op, ns in by_op.items())
