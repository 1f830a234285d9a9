"""Telltale numbers: ints a test hands to kata code, which tell where and when they were used.

Standard library only; tests hand these to learner code, so nothing here imports pytest or
the plugin (a spawn child imports this module to unpickle them).

    Marked(n)             n * n  -> (n², pid of the process that squared it)
                          the result itself says which process did the work: no channel.
    Traced(n, ledger)     an int for code that only compares and divides it (Collatz);
                          its first use in a process appends that pid to `ledger`, a
                          Manager list (a proxy travels inside pool tasks; a ctx.Value
                          would not).
    held_back(manager, a, b) -> [A, B]:  A * A waits until B's square has come back to
                          the process that collects the results, so results reach the
                          caller B first, A second: a program that returns them in the
                          order they arrive returns them out of order, every time.

How `held_back` decides, without guessing from the clock where it can help it:

    worker squaring A                         elsewhere
    ─────────────────                         ─────────
    B was unpickled in this same process?     (a chunk [A, B]: B can only run after A)
      -> go at once: nothing to force
    B submitted yet?  (pickled by a process   B pickled by the caller, or B's square
      other than the test's, or started)        started in some process -> "submitted"
      no, after PROBE s -> go (flag "never_submitted": the caller hands out one task at a
                           time; its results cannot arrive out of order anyway)
    wait until B's result is unpickled        B's (n², pid) is wrapped in a _Receipt: pickling
      outside the process that squared it       it in B's worker records "sent", unpickling it
                                                elsewhere (the caller's result thread, its
                                                Queue.get, a Manager) records "received"
      B's result never sent, after PATIENCE s -> go (flag "never_sent": B waits in a queue
                           behind A, one process for both)
      sent but not taken in after GRACE s     -> go (flag "not_taken_in": the caller reads
                           results in a fixed order, A's first: already the right order)

Only programs that hand out one task at a time, read results in a fixed order, or keep B
waiting behind A in one process ever reach a timer, and their results come back in order
whatever happens. Every program that takes results as they come is forced B-first; it
escapes only if its caller stalls for GRACE (or PROBE) seconds between two steps.
"""

from __future__ import annotations

import os

PROBE = 0.5  # seconds A waits for B to be handed out at all (one-task-at-a-time callers)
GRACE = 0.3  # seconds A waits for B's result to be taken in once it has left its worker
PATIENCE = 5.0  # seconds A waits for B's result to leave a worker once B was handed out

# (key, pid) of held_back B numbers unpickled here (pid: a forked child inherits the set)
_unpickled_here: set = set()


class Marked(int):
    """An int whose square reports the process that computed it: ``(n * n, pid)``."""

    def __reduce__(self):
        return (Marked, (int(self),))

    def __mul__(self, other):
        if isinstance(other, int):
            return (int(self) * int(other), os.getpid())
        return NotImplemented

    __rmul__ = __mul__

    def __pow__(self, exponent, modulo=None):
        if exponent == 2 and modulo is None:
            return self * self
        return int(self).__pow__(exponent, modulo)

    def __repr__(self):
        return repr(int(self))


def square_and_pid(result):
    """Split what squares() returned for a Marked number: (value, pid) or (result, None)."""
    if isinstance(result, (tuple, list)) and len(result) == 2 and all(isinstance(x, int) for x in result):
        return int(result[0]), int(result[1])
    return result, None


class Traced(int):
    """An int that appends ``os.getpid()`` to ``ledger`` (a Manager list) when code
    compares, divides or multiplies it. Collatz turns it into plain ints after one step, so
    each Traced number reports once per use."""

    def __new__(cls, value, ledger):
        obj = int.__new__(cls, value)
        obj._ledger = ledger
        return obj

    def __reduce__(self):
        return (Traced, (int(self), self._ledger))

    def _used(self):
        try:
            self._ledger.append(os.getpid())
        except Exception:  # noqa: BLE001 - the test reads "no report" as "not seen"
            pass

    def __ne__(self, other):
        self._used()
        return int(self) != other

    def __eq__(self, other):
        self._used()
        return int(self) == other

    __hash__ = int.__hash__

    def __mod__(self, other):
        self._used()
        return int(self) % other

    def __floordiv__(self, other):
        self._used()
        return int(self) // other

    def __and__(self, other):
        self._used()
        return int(self) & other

    def __rshift__(self, other):
        self._used()
        return int(self) >> other

    def __mul__(self, other):
        self._used()
        return int(self) * other

    __rmul__ = __mul__

    def __repr__(self):
        return repr(int(self))


# --- held back: A's square comes back after B's ---------------------------------------------


class _Held(int):
    """One of the two numbers of `held_back`. ``role`` is "A" (held) or "B" (goes first)."""

    def __new__(cls, value, role, state, creator):
        obj = int.__new__(cls, value)
        obj._role, obj._state, obj._creator = role, state, creator
        return obj

    def __reduce__(self):
        if self._role == "B":
            # whoever pickles B hands it to another process: B is submitted
            _mark(self._state, "submitted")
        return (_rebuild_held, (int(self), self._role, self._state, self._creator))

    def __mul__(self, other):
        if not isinstance(other, int):
            return NotImplemented
        value = (int(self) * int(other), os.getpid())
        if self._role == "B":
            _mark(self._state, "submitted")
        elif os.getpid() != self._creator:
            _hold(self._state)
        return _Receipt(value, self._role, self._state)

    __rmul__ = __mul__

    def __pow__(self, exponent, modulo=None):
        if exponent == 2 and modulo is None:
            return self * self
        return int(self).__pow__(exponent, modulo)

    def __repr__(self):
        return repr(int(self))


def _rebuild_held(value, role, state, creator):
    if role == "B":
        _unpickled_here.add((_key(state), os.getpid()))
        if _in_grading_host():
            # the judge pickled B to hand it to the kata's own process: that was not the
            # kata handing it out; the kata's call has not even started
            _mark(state, "submitted", False)
    return _Held(value, role, state, creator)


def _key(state):
    return state[0]._id  # the proxy's id in the manager: the same in every process


def held_back(manager, a, b, until="received"):
    """``[A, B]``: two ints equal to ``a`` and ``b``; squaring A waits until B's square
    has been received outside the process that computed it (see the module docstring).
    With ``until="submitted"`` A only waits until B has been handed out (at most PROBE s):
    no result can come back before the caller has handed out B, so a pool that starts
    workers as tasks need them (ProcessPoolExecutor under spawn or forkserver) sees two
    tasks waiting and starts a second worker if it may, every time.
    Read what happened afterwards with ``held_back_report(numbers)``."""
    cond = manager.Condition()
    flags = manager.dict(submitted=False, sent=False, received=False, gave_up="", waited=False, until=until)
    state = (cond, flags)
    creator = os.getpid()
    return [_Held(a, "A", state, creator), _Held(b, "B", state, creator)]


def held_back_report(numbers) -> dict:
    """After the call: {"submitted", "received", "gave_up" ("" or why), "waited"}."""
    _cond, flags = numbers[0]._state
    return dict(flags.items())


def _in_grading_host() -> bool:
    import multiprocessing

    return multiprocessing.current_process().name.startswith("dojo-host-")


def _mark(state, what, value=True):
    cond, flags = state
    try:
        with cond:
            if flags.get(what) != value:
                flags[what] = value
            cond.notify_all()
    except Exception:  # noqa: BLE001 - a manager gone away: nothing to record
        pass


def _hold(state):
    cond, flags = state
    if (_key(state), os.getpid()) in _unpickled_here:
        return  # B is in this process's own queue behind A: holding A would deadlock it
    with cond:
        flags["waited"] = True
        if not cond.wait_for(lambda: flags.get("submitted") or flags.get("received"), PROBE):
            flags["gave_up"] = "never_submitted"
            return
        if flags.get("until") == "submitted":
            return
        if not cond.wait_for(lambda: flags.get("received") or flags.get("sent"), PATIENCE):
            flags["gave_up"] = "never_sent"
            return
        if not cond.wait_for(lambda: flags.get("received"), GRACE):
            flags["gave_up"] = "not_taken_in"


class _Receipt(tuple):
    """``(n², pid)`` on its way back; unpickling it anywhere but where it was made records
    that B's result was received."""

    def __new__(cls, value, role, state):
        obj = tuple.__new__(cls, value)
        obj._role, obj._state, obj._made_in = role, state, os.getpid()
        return obj

    def __reduce__(self):
        if self._role == "B" and os.getpid() == self._made_in:
            _mark(self._state, "sent")
        return (_received, (tuple(self), self._role, self._state, self._made_in))


def _received(value, role, state, made_in):
    if role == "B" and os.getpid() != made_in:
        _mark(state, "received")
    return tuple(value)


# --- overtaken: for work whose result the test cannot tag (a count, a sum) ------------------
#
#   [A, B, C] = overtaken(manager, a, b, c), handed to a pool of exactly two workers:
#   the first arithmetic on A waits until C has been unpickled by another process. With two
#   workers and one task per number, that process is B's: it took C only after it had
#   finished B and written B's result to the pool's result pipe, which A's result can only
#   follow. Results that are taken as they come arrive B (C) A, every time.
#   The same timers as held_back: C never handed out (one task at a time) -> PROBE; C handed
#   out but never taken by another process (a single process) -> PATIENCE; C unpickled in
#   A's own process (a chunk) -> no wait.

_waited_here: set = set()  # (key, pid): A waits once per process


class _Overtaken(int):
    def __new__(cls, value, role, state):
        obj = int.__new__(cls, value)
        obj._role, obj._state = role, state
        return obj

    def __reduce__(self):
        if self._role == "C":
            _mark(self._state, "submitted")
        return (_rebuild_overtaken, (int(self), self._role, self._state))

    def _use(self):
        if self._role != "A":
            return
        key = (_key(self._state), os.getpid())
        if key in _waited_here:
            return
        _waited_here.add(key)
        cond, flags = self._state
        if (_key(self._state), os.getpid()) in _unpickled_here:
            return  # C waits behind A in this very process
        with cond:
            flags["waited"] = True
            if not cond.wait_for(lambda: flags.get("submitted") or flags.get("taken"), PROBE):
                flags["gave_up"] = "never_submitted"
                return
            if not cond.wait_for(lambda: flags.get("taken"), PATIENCE):
                flags["gave_up"] = "never_taken"

    def __ne__(self, other):
        self._use()
        return int(self) != other

    def __eq__(self, other):
        self._use()
        return int(self) == other

    __hash__ = int.__hash__

    def __mod__(self, other):
        self._use()
        return int(self) % other

    def __floordiv__(self, other):
        self._use()
        return int(self) // other

    def __and__(self, other):
        self._use()
        return int(self) & other

    def __rshift__(self, other):
        self._use()
        return int(self) >> other

    def __mul__(self, other):
        self._use()
        return int(self) * other

    __rmul__ = __mul__

    def __repr__(self):
        return repr(int(self))


def _rebuild_overtaken(value, role, state):
    if role == "C":
        _unpickled_here.add((_key(state), os.getpid()))
        if _in_grading_host():
            _mark(state, "submitted", False)  # the judge handing the numbers to the host
        else:
            _mark(state, "taken")
    return _Overtaken(value, role, state)


def overtaken(manager, a, b, c):
    """``[A, B, C]``, ints equal to ``a``, ``b``, ``c``; see the comment above."""
    state = (manager.Condition(), manager.dict(submitted=False, taken=False, gave_up="", waited=False))
    return [_Overtaken(a, "A", state), _Overtaken(b, "B", state), _Overtaken(c, "C", state)]


def overtaken_report(numbers) -> dict:
    return dict(numbers[0]._state[1].items())
