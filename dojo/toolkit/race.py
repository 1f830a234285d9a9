"""A lost update every time the workers are not really kept apart; never a wait when they are.

    test:   race = RaceContext(mp_context, parties=N)     kata(race, ...)    race.report()
    kata:   counter = race.Value("i", 0)      a RaceValue: reads and writes go through
            counts  = race.Array("i", 4)      a RaceArray   the coordinator
            lock    = race.Lock()             a TrackedLock (also get_lock(), RLock,
                                              Semaphore, Condition, a Manager's locks)
            race.Process / Pool / Queue / ProcessPoolExecutor(mp_context=race): counted,
            and their internal locks tell the coordinator when a worker waits on them

The coordinator lives in shared memory that learner code is never handed. For every
worker (a process other than the one that made the object) it knows:

    pending read    the slot, the version and the value the worker last read
    activity        running | blocked on primitive P | idle (inside a queue or pool
                    wait) | done (the process has ended)
    holders         which worker holds each tracked primitive

Reads never wait. **A write waits** until every other worker is *settled*: done, idle,
blocked on a primitive someone holds, or holding a pending read of its own. Then the
write compares versions: if the slot changed since this worker read it, the worker's
read-add-write overwrote somebody's update, and the coordinator records a lost update
with who read what and who wrote in between.

    unlocked `+= 1`:   W1 reads v0; W1's write waits until W2 has read (v0 too); W1
                       writes v1; W2's write waits until W1 has read again; W2 writes
                       over v1 with what it computed from v0: lost, on every step.
    under one lock:    W1 holds L, reads, writes: W2 is blocked on L, which W1 holds, so
                       it is settled at once. Nobody waits for a timer.
    lock around the    W1 releases L after reading: W2 takes L and reads the same
    read only:         version; whichever writes second loses an update.
    a lock per worker: nobody is ever blocked on anybody's lock: as unlocked.

A worker that is stuck where the coordinator cannot see (a lock or pipe not made through
the RaceContext, a process that never started) would make a writer wait for ever: after
``fallback`` seconds without any change the writer gives up, the coordinator records why
and stops waiting altogether, and the test fails with that reason. A right program never
gets there. Calls from learner code to ``multiprocessing``'s own context (``multiprocessing
.Lock()``, ``get_context().Value(...)``) are recorded as escapes. Writes that bypass the
wrappers show up in ``report()["tampered"]``: the memory no longer holds what the
coordinator saw written.

Standard library only: this module is handed to learner code.
"""

from __future__ import annotations

import math
import os
import sys
import threading
import time
import weakref
from multiprocessing import context as _mpcontext
from multiprocessing import util as _mputil
from dojo.toolkit.per_method import process_classes

# --- the coordinator's memory layout (one array of doubles) ----------------------------

H_EPOCH, H_DEGRADED, H_PARTS, H_EXPECTED, H_NEXT_SLOT, H_NEXT_PRIM, H_SEQ, H_LOST, H_FALLBACKS, \
    H_ESCAPES, H_CREATED, H_CHILD_WRITES, H_FALLBACK_WHY, H_TAMPERED, H_STARTED, H_FALLBACK_STARTED, H_OWNER_WRITES, H_POOLS, H_POOLS_CLOSED, H_RAISED, H_SENDERS = range(21)
HEADER = 24
assert H_SENDERS < HEADER

PARTS = 32  # workers the coordinator can follow
P_PID, P_ACT, P_PRIM, P_SLOT, P_VERSION, P_VALUE, P_SEQ, P_IGNORED, P_WRITES = range(9)
P_SIZE = 9
RUNNING, BLOCKED, IDLE, DONE = 0, 1, 2, 3
ACTIVITY = {RUNNING: "running", BLOCKED: "blocked", IDLE: "idle", DONE: "done"}

PRIMS = 64
Q_HOLDER, Q_DEPTH = range(2)
Q_SIZE = 2
NOBODY, OUTSIDER = -1, -2  # holders: free, or a process that is not a worker (the parent)

SLOTS = 512
S_VERSION, S_WRITER, S_VALUE, S_WRITER_READ, S_WRITER_READ_SEQ, S_WRITE_SEQ = range(6)
S_SIZE = 6

LOSTS = 8
L_SLOT, L_LOSER, L_LOSER_READ, L_LOSER_READ_SEQ, L_LOSER_WROTE, L_LOSER_WRITE_SEQ, L_WINNER, L_WINNER_READ, \
    L_WINNER_READ_SEQ, L_WINNER_WROTE, L_WINNER_WRITE_SEQ = range(11)
L_SIZE = 11

FALLBACK_NOT_STARTED, FALLBACK_STUCK = 1, 2
ESCAPE_BYTES = 600

_P0 = HEADER
_Q0 = _P0 + PARTS * P_SIZE
_S0 = _Q0 + PRIMS * Q_SIZE
_L0 = _S0 + SLOTS * S_SIZE
_SIZE = _L0 + LOSTS * L_SIZE

_OUR_FILES = (os.path.dirname(os.path.dirname(os.path.abspath(__file__))),)  # the dojo package
_STDLIB_PARTS = (os.sep + "multiprocessing" + os.sep, os.sep + "concurrent" + os.sep)
_active = weakref.WeakSet()  # coordinators of RaceContexts alive in this process (escapes)


def _caller_is_learner(depth: int = 2) -> tuple[bool, str]:
    """Is the code that called us (``depth`` frames up) neither multiprocessing's, nor
    concurrent.futures', nor dojo's? Returns (answer, "file:line")."""
    frame = sys._getframe(depth)
    filename = frame.f_code.co_filename
    if filename.startswith(_OUR_FILES) or any(part in filename for part in _STDLIB_PARTS):
        return False, ""
    return True, f"{os.path.basename(filename)}:{frame.f_lineno}"


class Coordinator:
    """The shared bookkeeping. Created by the test through RaceContext; travels to the
    kata's processes by inheritance, like any multiprocessing object."""

    def __init__(self, ctx, parties: int, fallback: float):
        self._mem = ctx.Array("d", _SIZE, lock=False)
        self._escape = ctx.Array("c", ESCAPE_BYTES, lock=False)
        self._raised = ctx.Array("c", ESCAPE_BYTES, lock=False)
        self._cond = ctx.Condition(ctx.Lock())
        self._fallback = fallback
        m = self._mem
        m[H_EXPECTED] = parties
        for i in range(PRIMS):
            m[_Q0 + i * Q_SIZE + Q_HOLDER] = NOBODY
        for i in range(PARTS):
            m[_P0 + i * P_SIZE + P_SLOT] = -1
        for i in range(SLOTS):
            m[_S0 + i * S_SIZE + S_WRITER] = -1

    def __getstate__(self):
        return self._mem, self._escape, self._raised, self._cond, self._fallback

    def __setstate__(self, state):
        self._mem, self._escape, self._raised, self._cond, self._fallback = state

    # -- bookkeeping helpers, all called with self._cond held ------------------------

    def _p(self, idx: int, field: int) -> int:
        return _P0 + idx * P_SIZE + field

    def _q(self, prim: int, field: int) -> int:
        return _Q0 + prim * Q_SIZE + field

    def _s(self, slot: int, field: int) -> int:
        return _S0 + slot * S_SIZE + field

    def _changed(self) -> None:
        self._mem[H_EPOCH] += 1
        self._cond.notify_all()

    def _seq(self) -> int:
        self._mem[H_SEQ] += 1
        return int(self._mem[H_SEQ])

    def _me(self) -> int:
        """This process's worker index, registering it on first use (-1 if full)."""
        m, pid = self._mem, os.getpid()
        n = int(m[H_PARTS])
        for idx in range(n):
            if m[self._p(idx, P_PID)] == pid:
                return idx
        if n >= PARTS:
            return -1
        m[H_PARTS] = n + 1
        m[self._p(n, P_PID)] = pid
        m[self._p(n, P_ACT)] = RUNNING
        # Done when the process ends normally (also after an exception in its target):
        # multiprocessing runs finalizers in every child it started, on the way out.
        _mputil.Finalize(None, _mark_done, args=(self, pid), exitpriority=100)
        return n

    def _settled(self, idx: int) -> bool:
        m = self._mem
        if m[self._p(idx, P_IGNORED)]:
            return True
        act = m[self._p(idx, P_ACT)]
        if act in (DONE, IDLE):
            return True
        if act == BLOCKED:
            return m[self._q(int(m[self._p(idx, P_PRIM)]), Q_HOLDER)] != NOBODY
        return m[self._p(idx, P_SLOT)] >= 0  # running with a read it has not written back

    def _unsettled(self, me: int) -> list[int]:
        n = int(self._mem[H_PARTS])
        return [i for i in range(n) if i != me and not self._settled(i)]

    def _touch(self, idx: int) -> None:
        self._mem[self._p(idx, P_IGNORED)] = 0

    # -- what workers do ----------------------------------------------------------------

    def new_slots(self, count: int) -> int:
        with self._cond:
            first = int(self._mem[H_NEXT_SLOT])
            if first + count > SLOTS:
                return -1
            self._mem[H_NEXT_SLOT] = first + count
            return first

    def new_prim(self) -> int:
        with self._cond:
            prim = int(self._mem[H_NEXT_PRIM])
            if prim >= PRIMS:
                return -1
            self._mem[H_NEXT_PRIM] = prim + 1
            return prim

    def read(self, slot: int, owner: int, raw_read):
        with self._cond:
            value = raw_read()
            if slot < 0:
                return value
            if os.getpid() == owner:
                shadow = self._mem[self._s(slot, S_VALUE)]
                if not math.isnan(shadow) and _number(value) != shadow:
                    self._mem[H_TAMPERED] += 1  # written around the wrappers
                    self._mem[self._s(slot, S_VALUE)] = _number(value)
                return value
            me = self._me()
            if me < 0:
                return value
            m = self._mem
            self._touch(me)
            m[self._p(me, P_ACT)] = RUNNING
            m[self._p(me, P_SLOT)] = slot
            m[self._p(me, P_VERSION)] = m[self._s(slot, S_VERSION)]
            m[self._p(me, P_VALUE)] = _number(value)
            m[self._p(me, P_SEQ)] = self._seq()
            self._changed()
            return value

    def write(self, slot: int, owner: int, value, raw_write, initial: bool = False) -> None:
        with self._cond:
            if slot < 0 or os.getpid() == owner:
                raw_write(value)
                if slot >= 0:
                    self._mem[self._s(slot, S_VALUE)] = _number(value)
                    self._mem[self._s(slot, S_VERSION)] += 1
                    self._mem[H_OWNER_WRITES] += not initial
                return
            me = self._me()
            if me < 0:
                raw_write(value)
                return
            m = self._mem
            self._touch(me)
            m[self._p(me, P_ACT)] = RUNNING
            self._changed()
            self._wait_for_the_others(me)
            read_slot = int(m[self._p(me, P_SLOT)])
            if read_slot == slot and m[self._p(me, P_VERSION)] != m[self._s(slot, S_VERSION)]:
                self._lost(slot, me, value)
            raw_write(value)
            seq = self._seq()
            m[self._s(slot, S_VERSION)] += 1
            m[self._s(slot, S_WRITER)] = me
            m[self._s(slot, S_VALUE)] = _number(value)
            m[self._s(slot, S_WRITER_READ)] = m[self._p(me, P_VALUE)] if read_slot == slot else math.nan
            m[self._s(slot, S_WRITER_READ_SEQ)] = m[self._p(me, P_SEQ)] if read_slot == slot else 0
            m[self._s(slot, S_WRITE_SEQ)] = seq
            m[self._p(me, P_WRITES)] += 1
            m[H_CHILD_WRITES] += 1
            if read_slot == slot:
                m[self._p(me, P_SLOT)] = -1
            self._changed()

    def _wait_for_the_others(self, me: int) -> None:
        m = self._mem
        while not m[H_DEGRADED]:
            missing = int(m[H_EXPECTED]) - int(m[H_PARTS])
            unsettled = self._unsettled(me)
            if missing <= 0 and not unsettled:
                return
            if not self._wait_for_progress(FALLBACK_NOT_STARTED if missing > 0 else FALLBACK_STUCK):
                return

    def _wait_for_progress(self, why: int) -> bool:
        """Wait until anything changes; False (and no more waiting, for anyone) if nothing
        has for ``fallback`` seconds: somebody waits where we cannot see, or never started."""
        m = self._mem
        epoch = m[H_EPOCH]
        deadline = time.monotonic() + self._fallback
        while m[H_EPOCH] == epoch and not m[H_DEGRADED]:
            left = deadline - time.monotonic()
            if left <= 0:
                m[H_DEGRADED] = 1
                m[H_FALLBACKS] += 1
                m[H_FALLBACK_WHY] = why
                m[H_FALLBACK_STARTED] = m[H_STARTED]
                self._changed()
                return False
            self._cond.wait(left)
        return not m[H_DEGRADED]

    def gate(self) -> None:
        """A worker process has started: wait until ``parties`` of them have, so that they
        run side by side however slowly each one starts. A program that starts one and
        joins it before starting the next never gets there: after ``fallback`` seconds the
        gate opens for good and the report says so."""
        with self._cond:
            m = self._mem
            m[H_STARTED] += 1
            self._me()  # a worker from its first moment: writes wait for it to read or end
            self._changed()
            while m[H_STARTED] < m[H_EXPECTED] and not m[H_DEGRADED]:
                if not self._wait_for_progress(FALLBACK_NOT_STARTED):
                    return

    def _lost(self, slot: int, me: int, value) -> None:
        m = self._mem
        n = int(m[H_LOST])
        m[H_LOST] = n + 1
        if n >= LOSTS:
            return
        base = _L0 + n * L_SIZE
        row = {
            L_SLOT: slot,
            L_LOSER: me,
            L_LOSER_READ: m[self._p(me, P_VALUE)],
            L_LOSER_READ_SEQ: m[self._p(me, P_SEQ)],
            L_LOSER_WROTE: _number(value),
            L_LOSER_WRITE_SEQ: m[H_SEQ] + 1,
            L_WINNER: m[self._s(slot, S_WRITER)],
            L_WINNER_READ: m[self._s(slot, S_WRITER_READ)],
            L_WINNER_READ_SEQ: m[self._s(slot, S_WRITER_READ_SEQ)],
            L_WINNER_WROTE: m[self._s(slot, S_VALUE)],
            L_WINNER_WRITE_SEQ: m[self._s(slot, S_WRITE_SEQ)],
        }
        for field, item in row.items():
            m[base + field] = item

    def blocking(self, prim: int, activity: int) -> int:
        """A worker is about to wait on ``prim`` (BLOCKED) or inside a queue (IDLE).

        A worker that takes a lock while it holds a read it has not written back (it read
        under a lock, let go, and now takes it again to write) first waits like a write:
        until the others have had their chance to read. That is the gap in which a real
        machine loses the update, so the test opens it every time."""
        with self._cond:
            me = self._me()
            if me >= 0:
                self._touch(me)
                if activity == BLOCKED and self._mem[self._p(me, P_SLOT)] >= 0:
                    self._wait_for_the_others(me)
                self._mem[self._p(me, P_ACT)] = activity
                self._mem[self._p(me, P_PRIM)] = max(prim, 0)
                self._changed()
            return me

    def acquired(self, prim: int, got: bool, owner: int) -> None:
        with self._cond:
            m = self._mem
            worker = os.getpid() != owner
            me = self._me() if worker else OUTSIDER
            if worker and me >= 0:
                m[self._p(me, P_ACT)] = RUNNING
            if got and prim >= 0:
                m[self._q(prim, Q_HOLDER)] = me if me >= 0 else OUTSIDER
                m[self._q(prim, Q_DEPTH)] += 1
            self._changed()

    def releasing(self, prim: int) -> None:
        """Forget the holder *before* the real release: a worker that wakes up on it must
        never look blocked on a lock somebody holds."""
        with self._cond:
            if prim >= 0:
                m = self._mem
                m[self._q(prim, Q_DEPTH)] = max(0, m[self._q(prim, Q_DEPTH)] - 1)
                if m[self._q(prim, Q_DEPTH)] == 0:
                    m[self._q(prim, Q_HOLDER)] = NOBODY
            self._changed()

    def running(self) -> None:
        with self._cond:
            pid = os.getpid()
            m = self._mem
            for idx in range(int(m[H_PARTS])):
                if m[self._p(idx, P_PID)] == pid:
                    m[self._p(idx, P_ACT)] = RUNNING
                    self._changed()

    def done(self, pid: int) -> None:
        with self._cond:
            m = self._mem
            for idx in range(int(m[H_PARTS])):
                if m[self._p(idx, P_PID)] == pid:
                    m[self._p(idx, P_ACT)] = DONE
            self._changed()

    def count(self, field: int) -> None:
        with self._cond:
            self._mem[field] += 1

    def created(self) -> None:
        with self._cond:
            self._mem[H_CREATED] += 1

    def raised(self, what: str) -> None:
        """A worker's target raised: the first one is kept for the message."""
        with self._cond:
            self._mem[H_RAISED] += 1
            if self._mem[H_RAISED] == 1:
                data = what.encode("utf-8", "replace")[: ESCAPE_BYTES - 1]
                self._raised[: len(data)] = data

    def escaped(self, what: str) -> None:
        with self._cond:
            self._mem[H_ESCAPES] += 1
            if self._mem[H_ESCAPES] == 1:
                data = what.encode("utf-8", "replace")[: ESCAPE_BYTES - 1]
                self._escape[: len(data)] = data

    # -- what the test reads ----------------------------------------------------------

    def report(self) -> dict:
        with self._cond:
            m = self._mem
            parts = int(m[H_PARTS])
            pids = [int(m[self._p(i, P_PID)]) for i in range(parts)]
            lost = []
            for n in range(min(int(m[H_LOST]), LOSTS)):
                base = _L0 + n * L_SIZE
                row = [m[base + f] for f in range(L_SIZE)]
                winner = int(row[L_WINNER])
                lost.append({
                    "slot": int(row[L_SLOT]),
                    "loser": int(row[L_LOSER]) + 1,
                    "loser_pid": pids[int(row[L_LOSER])],
                    "loser_read": _plain(row[L_LOSER_READ]),
                    "loser_read_seq": int(row[L_LOSER_READ_SEQ]),
                    "loser_wrote": _plain(row[L_LOSER_WROTE]),
                    "loser_write_seq": int(row[L_LOSER_WRITE_SEQ]),
                    "winner": winner + 1 if winner >= 0 else 0,
                    "winner_pid": pids[winner] if 0 <= winner < parts else 0,
                    "winner_read": _plain(row[L_WINNER_READ]),
                    "winner_read_seq": int(row[L_WINNER_READ_SEQ]),
                    "winner_wrote": _plain(row[L_WINNER_WROTE]),
                    "winner_write_seq": int(row[L_WINNER_WRITE_SEQ]),
                })
            why = int(m[H_FALLBACK_WHY])
            escape = bytes(self._escape[:]).split(b"\0", 1)[0].decode("utf-8", "replace")
            raised = bytes(self._raised[:]).split(b"\0", 1)[0].decode("utf-8", "replace")
            return {
                "parties": int(m[H_EXPECTED]),
                "started": int(m[H_STARTED]),
                "started_at_fallback": int(m[H_FALLBACK_STARTED]),
                "fallback_seconds": self._fallback,
                "lost_updates": int(m[H_LOST]),
                "lost": lost,
                "fallback": {FALLBACK_NOT_STARTED: "not_side_by_side", FALLBACK_STUCK: "stuck"}.get(why, ""),
                "escapes": int(m[H_ESCAPES]),
                "escape": escape,
                "workers_raised": int(m[H_RAISED]),
                "raised": raised,
                "created": int(m[H_CREATED]),
                "workers_seen": parts,
                "child_writes": int(m[H_CHILD_WRITES]),
                "parent_writes": int(m[H_OWNER_WRITES]),
                "pools_left_open": int(m[H_POOLS] - m[H_POOLS_CLOSED]),
                "tampered": int(m[H_TAMPERED]),
                "senders": int(m[H_SENDERS]),
                "writes_per_worker": [int(m[self._p(i, P_WRITES)]) for i in range(parts)],
                "activity": [ACTIVITY.get(int(m[self._p(i, P_ACT)]), "?") for i in range(parts)],
            }


def race_message(teach, report: dict, *, call: str, what, got, want) -> str:
    """The teaching message for the first problem in a RaceContext's ``report()``, or "".

    ``teach`` is the test's teach fixture; ``what(slot)`` names a shared slot ("counter",
    "counts[2]"). Every message states only what the coordinator saw, in this order:
    lost updates (with the timeline of the first one), calls to multiprocessing's own
    context, writes that waited in vain, memory written around the wrappers, and how
    many worker processes ctx started."""
    common = {"call": call, "got": got, "want": want, "parties": report["parties"]}
    if report["workers_raised"]:
        return teach("race_worker_raised", count=report["workers_raised"], raised=report["raised"], **common)
    if report["lost_updates"]:
        # The right answer in spite of lost updates cannot be what the workers counted.
        key = "race_lost_but_right" if got == want else "race_lost"
        return teach(key, lost=report["lost_updates"], timeline=_timeline(teach, report["lost"][0], what), **common)
    if report["escapes"]:
        return teach("race_escape", escape=report["escape"], **common)
    if report["fallback"] == "stuck":
        activity = ", ".join(f"{i + 1}: {a}" for i, a in enumerate(report["activity"]))
        return teach("race_stuck", seconds=report["fallback_seconds"], activity=activity, **common)
    if report["fallback"] == "not_side_by_side":
        return teach("race_not_side_by_side", seconds=report["fallback_seconds"],
                     started=report["started_at_fallback"], **common)
    if report["tampered"]:
        return teach("race_tampered", **common)
    if report["created"] != report["parties"]:
        return teach("race_processes", created=report["created"], **common)
    if report["pools_left_open"]:
        return teach("race_pool_open", pools=report["pools_left_open"], **common)
    if report["parent_writes"] > report["parties"]:
        return teach("race_parent_counted", writes=report["parent_writes"], children=report["child_writes"], **common)
    if _counts_something(want) and got == want and not report["child_writes"] and not report["senders"]:
        # Idle workers and an answer worked out by the parent: nothing came from a worker.
        return teach("race_nothing_from_workers", created=report["created"], **common)
    return ""


def _counts_something(want) -> bool:
    return any(want) if isinstance(want, (list, tuple)) else bool(want)


def _timeline(teach, lost: dict, what) -> str:
    name = what(lost["slot"])
    steps = [(lost["loser_read_seq"], teach("race_step_read", seq=lost["loser_read_seq"], worker=lost["loser"],
                                            pid=lost["loser_pid"], what=name, value=lost["loser_read"]))]
    if lost["winner"]:
        if lost["winner_read"] is not None and lost["winner_read_seq"]:
            steps.append((lost["winner_read_seq"], teach(
                "race_step_read", seq=lost["winner_read_seq"], worker=lost["winner"], pid=lost["winner_pid"],
                what=name, value=lost["winner_read"])))
        steps.append((lost["winner_write_seq"], teach(
            "race_step_write", seq=lost["winner_write_seq"], worker=lost["winner"], what=name,
            value=lost["winner_wrote"])))
    steps.append((lost["loser_write_seq"], teach(
        "race_step_lost", seq=lost["loser_write_seq"], worker=lost["loser"], what=name, value=lost["loser_wrote"],
        read_seq=lost["loser_read_seq"], other=lost["winner"] or "?", other_seq=lost["winner_write_seq"])))
    return "\n".join("    " + text for _, text in sorted(steps))


def _mark_done(coordinator: Coordinator, pid: int) -> None:
    if os.getpid() == pid:
        coordinator.done(pid)


def _number(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _plain(number: float):
    if math.isnan(number):
        return None
    return int(number) if number == int(number) else number


# --- tracked primitives ----------------------------------------------------------------


class _Wrapper:
    """What every wrapper shares: ``_dojo`` holds the real object first; every other
    attribute is the real object's. Dunders and ``_dojo`` itself are not looked up there,
    so that unpickling (which asks for ``__setstate__`` before ``_dojo`` exists) does not
    recurse."""

    _dojo: tuple

    def __getattr__(self, name):
        if name == "_dojo" or (name.startswith("__") and name.endswith("__")):
            raise AttributeError(name)
        return getattr(self._dojo[0], name)


class _Lockish(_Wrapper):
    def __enter__(self):
        self.acquire()
        return self

    def __exit__(self, *exc):
        self.release()


class TrackedLock(_Lockish):
    """A lock, RLock or semaphore (or a Manager's proxy of one) whose holder the
    coordinator knows. Everything else is the real object's."""

    def __init__(self, real, coordinator: Coordinator, prim: int, owner: int):
        self._dojo = (real, coordinator, prim, owner)

    def __reduce__(self):
        return (TrackedLock, self._dojo)

    def acquire(self, block=True, timeout=None):
        real, coordinator, prim, owner = self._dojo
        if os.getpid() != owner:
            coordinator.blocking(prim, BLOCKED)
        got = real.acquire(block, timeout) if timeout is not None else real.acquire(block)
        coordinator.acquired(prim, bool(got), owner)
        return got

    def release(self):
        real, coordinator, prim, _ = self._dojo
        coordinator.releasing(prim)
        real.release()


    def __repr__(self):
        return f"<TrackedLock {self._dojo[0]!r}>"


class QuietLock(_Lockish):
    """A lock or semaphore that multiprocessing itself made through the RaceContext (inside
    a Queue, a Pool, an Event...). A worker waiting on it, or holding it while it waits for
    data, is idle: it cannot touch a shared counter until somebody else acts."""

    def __init__(self, real, coordinator: Coordinator, owner: int):
        self._dojo = (real, coordinator, owner)

    def __reduce__(self):
        return (QuietLock, self._dojo)

    def _watched(self) -> bool:
        # Only a worker's main thread: a Queue's feeder thread takes these locks while the
        # main thread may be doing something else entirely.
        return os.getpid() != self._dojo[2] and threading.current_thread() is threading.main_thread()

    def acquire(self, block=True, timeout=None):
        real, coordinator, _ = self._dojo
        if self._watched():
            coordinator.blocking(-1, IDLE)
        return real.acquire(block, timeout) if timeout is not None else real.acquire(block)

    def release(self):
        real, coordinator, _ = self._dojo
        real.release()
        if self._watched():
            coordinator.running()



# --- shared values ---------------------------------------------------------------------


class _SharedMemory(_Wrapper):
    """RaceValue and RaceArray: their lock is tracked, get_obj() hands out the wrapper
    again, and ``with obj:`` holds the tracked lock."""

    def get_lock(self):
        real, coordinator, _, owner, prim = self._dojo
        # A raw one (lock=False, RawValue, RawArray) has no get_lock(): AttributeError, as for real.
        return TrackedLock(real.get_lock(), coordinator, prim, owner)

    def get_obj(self):
        if not hasattr(self._dojo[0], "get_obj"):
            raise AttributeError("get_obj")
        return self  # the wrapper again: going around it would go around the test

    def __enter__(self):
        self.get_lock().acquire()
        return self

    def __exit__(self, *exc):
        self.get_lock().release()


class RaceValue(_SharedMemory):
    """A ``ctx.Value`` (or ``RawValue``) whose reads and writes the coordinator sees."""

    def __init__(self, real, coordinator: Coordinator, lock_prim: int):
        slot = coordinator.new_slots(1)
        self._dojo = (real, coordinator, slot, os.getpid(), lock_prim)
        if slot >= 0:
            coordinator.write(slot, os.getpid(), _raw(real).value, lambda v: None, initial=True)

    def __reduce__(self):
        return (_rebuild, (RaceValue, self._dojo))

    @property
    def value(self):
        real, coordinator, slot, owner, _ = self._dojo
        raw = _raw(real)
        return coordinator.read(slot, owner, lambda: raw.value)

    @value.setter
    def value(self, new):
        real, coordinator, slot, owner, _ = self._dojo
        raw = _raw(real)
        coordinator.write(slot, owner, new, lambda v: setattr(raw, "value", v))

    def __repr__(self):
        return f"<RaceValue {self._dojo[0]!r}>"


class RaceArray(_SharedMemory):
    """A ``ctx.Array`` (or ``RawArray``) whose element reads and writes the coordinator
    sees. ``a[i]`` is one read or write; slices read or write every element."""

    def __init__(self, real, coordinator: Coordinator, lock_prim: int):
        raw = _raw(real)
        slot = coordinator.new_slots(len(raw))
        self._dojo = (real, coordinator, slot, os.getpid(), lock_prim)
        if slot >= 0:
            for i in range(len(raw)):
                coordinator.write(slot + i, os.getpid(), raw[i], lambda v: None, initial=True)

    def __reduce__(self):
        return (_rebuild, (RaceArray, self._dojo))

    def __len__(self):
        return len(_raw(self._dojo[0]))

    def __getitem__(self, key):
        real, coordinator, slot, owner, _ = self._dojo
        raw = _raw(real)
        if isinstance(key, slice):
            return [self[i] for i in range(*key.indices(len(raw)))]
        i = _index(key, len(raw))
        return coordinator.read(slot + i if slot >= 0 else -1, owner, lambda: raw[i])

    def __setitem__(self, key, new):
        real, coordinator, slot, owner, _ = self._dojo
        raw = _raw(real)
        if isinstance(key, slice):
            indices = range(*key.indices(len(raw)))
            values = list(new)
            if len(values) != len(indices):
                raise ValueError("can only assign a sequence of the same size")
            for i, item in zip(indices, values):
                self[i] = item
            return
        i = _index(key, len(raw))

        def put(v):
            raw[i] = v

        coordinator.write(slot + i if slot >= 0 else -1, owner, new, put)

    def __iter__(self):
        return iter(self[:])

    def __repr__(self):
        return f"<RaceArray {self._dojo[0]!r}>"


def _rebuild(cls, state):
    obj = cls.__new__(cls)
    obj._dojo = state
    return obj


def _raw(real):
    """The ctypes object under a synchronized wrapper: our own reads and writes must not
    take the Value's lock, which the learner's code may be holding."""
    return real.get_obj() if hasattr(real, "get_obj") else real


def _index(key, length: int) -> int:
    i = key.__index__()
    if i < 0:
        i += length
    if not 0 <= i < length:
        raise IndexError("invalid index")
    return i


class RaceManagerValue:
    """``manager.Value(...)``: a proxy whose ``.value`` reads and writes the coordinator sees."""

    def __init__(self, proxy, coordinator: Coordinator):
        slot = coordinator.new_slots(1)
        self._dojo = (proxy, coordinator, slot, os.getpid())

    def __reduce__(self):
        return (_rebuild, (RaceManagerValue, self._dojo))

    @property
    def value(self):
        proxy, coordinator, slot, owner = self._dojo
        return coordinator.read(slot, owner, lambda: proxy.value)

    @value.setter
    def value(self, new):
        proxy, coordinator, slot, owner = self._dojo
        coordinator.write(slot, owner, new, lambda v: setattr(proxy, "value", v))

    def get(self):
        return self.value

    def set(self, new):
        self.value = new


class RaceManagerList(_Wrapper):
    """``manager.list(...)``: a proxy whose item reads and writes (``l[i]``, ``l[i] = v``,
    so ``l[i] += 1`` too) the coordinator sees, for the items it had when it was made.
    Everything else (append, len, slices...) is the proxy's own."""

    def __init__(self, proxy, coordinator: Coordinator, size: int):
        slot = coordinator.new_slots(size) if size else -1
        self._dojo = (proxy, coordinator, slot, os.getpid(), size)
        for i in range(size if slot >= 0 else 0):
            coordinator.write(slot + i, os.getpid(), proxy[i], lambda v: None, initial=True)

    def __reduce__(self):
        return (_rebuild, (RaceManagerList, self._dojo))

    def _slot(self, key) -> int:
        _, _, slot, _, size = self._dojo
        if slot < 0 or isinstance(key, slice):
            return -1
        i = key.__index__()
        i = i + size if i < 0 else i
        return slot + i if 0 <= i < size else -1

    def __getitem__(self, key):
        proxy, coordinator, _, owner, _ = self._dojo
        slot = self._slot(key)
        if slot < 0:
            return proxy[key]
        return coordinator.read(slot, owner, lambda: proxy[key])

    def __setitem__(self, key, new):
        proxy, coordinator, _, owner, _ = self._dojo
        slot = self._slot(key)
        if slot < 0:
            proxy[key] = new
            return

        def put(v):
            proxy[key] = v

        coordinator.write(slot, owner, new, put)

    def __len__(self):
        return len(self._dojo[0])

    def __iter__(self):
        return iter([self[i] for i in range(len(self))])

    def __repr__(self):
        return repr(self._dojo[0])


class RaceManager(_Wrapper):
    """``race.Manager()``: the real context's manager, whose locks are tracked and whose
    ``Value`` is a race slot. Lists, dicts and the rest are the manager's own."""

    def __init__(self, manager, coordinator: Coordinator):
        self._dojo = (manager, coordinator)

    def _tracked(self, proxy):
        manager, coordinator = self._dojo
        return TrackedLock(proxy, coordinator, coordinator.new_prim(), os.getpid())

    def Lock(self):
        return self._tracked(self._dojo[0].Lock())

    def RLock(self):
        return self._tracked(self._dojo[0].RLock())

    def Semaphore(self, value=1):
        return self._tracked(self._dojo[0].Semaphore(value))

    def BoundedSemaphore(self, value=1):
        return self._tracked(self._dojo[0].BoundedSemaphore(value))

    def Value(self, typecode, value, lock=True):
        manager, coordinator = self._dojo
        return RaceManagerValue(manager.Value(typecode, value, lock), coordinator)

    def list(self, sequence=()):
        manager, coordinator = self._dojo
        items = list(sequence)
        return RaceManagerList(manager.list(items), coordinator, len(items))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._dojo[0].shutdown()



# --- the context -----------------------------------------------------------------------


class RaceContext(_Wrapper):
    """A multiprocessing context for race tests. Everything it hands out comes from it:
    values, arrays, locks, semaphores, conditions, managers, queues, pools, processes and
    ``get_context()``. Pass it where a kata takes ``ctx``; read ``report()`` afterwards."""

    def __init__(self, ctx, parties: int, timeout: float = 3.0):
        """``parties``: how many worker processes the kata should run at once.
        ``timeout``: seconds without progress before a waiting write gives up (the
        fallback, which only programs that wait where we cannot see ever reach)."""
        self._dojo = (ctx, Coordinator(ctx, parties, timeout))
        _watch_escapes(self._dojo[1])

    def __reduce__(self):
        return (_rebuild_context, self._dojo)

    # values and arrays
    def Value(self, typecode_or_type, *args, lock=True):
        ctx, coordinator = self._dojo
        real = ctx.Value(typecode_or_type, *args, lock=lock)
        return RaceValue(real, coordinator, coordinator.new_prim() if hasattr(real, "get_lock") else -1)

    def RawValue(self, typecode_or_type, *args):
        return self.Value(typecode_or_type, *args, lock=False)

    def Array(self, typecode_or_type, size_or_initializer, *, lock=True):
        ctx, coordinator = self._dojo
        real = ctx.Array(typecode_or_type, size_or_initializer, lock=lock)
        return RaceArray(real, coordinator, coordinator.new_prim() if hasattr(real, "get_lock") else -1)

    def RawArray(self, typecode_or_type, size_or_initializer):
        return self.Array(typecode_or_type, size_or_initializer, lock=False)

    # locks
    def _lock(self, real):
        ctx, coordinator = self._dojo
        learner, _ = _caller_is_learner(3)
        if learner or not _called_from_stdlib(3):
            return TrackedLock(real, coordinator, coordinator.new_prim(), os.getpid())
        return QuietLock(real, coordinator, os.getpid())  # inside a Queue, a Pool, an Event...

    def Lock(self):
        return self._lock(self._dojo[0].Lock())

    def RLock(self):
        return self._lock(self._dojo[0].RLock())

    def Semaphore(self, value=1):
        return self._lock(self._dojo[0].Semaphore(value))

    def BoundedSemaphore(self, value=1):
        return self._lock(self._dojo[0].BoundedSemaphore(value))

    def Condition(self, lock=None):
        from multiprocessing.synchronize import Condition

        if lock is None:
            ctx, coordinator = self._dojo
            lock = TrackedLock(ctx.RLock(), coordinator, coordinator.new_prim(), os.getpid())
        return Condition(lock, ctx=self)

    def Event(self):
        from multiprocessing.synchronize import Event

        return Event(ctx=self)

    def Barrier(self, parties, action=None, timeout=None):
        from multiprocessing.synchronize import Barrier

        return Barrier(parties, action, timeout, ctx=self)

    # channels
    def Queue(self, maxsize=0):
        from multiprocessing.queues import Queue

        return Queue(maxsize, ctx=self)

    def JoinableQueue(self, maxsize=0):
        from multiprocessing.queues import JoinableQueue

        return JoinableQueue(maxsize, ctx=self)

    def SimpleQueue(self):
        from multiprocessing.queues import SimpleQueue

        return SimpleQueue(ctx=self)

    # processes
    def Process(self, group=None, target=None, name=None, args=(), kwargs=None, *, daemon=None):
        ctx, coordinator = self._dojo
        coordinator.created()
        cls = _RACE_PROCESS.get(ctx.get_start_method())
        if cls is None:  # pragma: no cover  (a start method this Python does not have)
            return ctx.Process(group, target, name, args, kwargs or {}, daemon=daemon)
        process = cls(group, target, name, args, kwargs or {}, daemon=daemon)
        process._dojo_race = (coordinator, ctx.Semaphore(0))
        return process

    def Pool(self, processes=None, initializer=None, initargs=(), maxtasksperchild=None):
        pool = _race_pool_class()(processes, initializer, initargs, maxtasksperchild, context=self)
        pool._dojo_coordinator = self._dojo[1]
        self._dojo[1].count(H_POOLS)
        return pool

    def Manager(self):
        ctx, coordinator = self._dojo
        return RaceManager(ctx.Manager(), coordinator)

    # the context itself
    def get_start_method(self, allow_none=False):
        return self._dojo[0].get_start_method(allow_none)

    def get_context(self, method=None):
        if method is None or method == self.get_start_method():
            return self
        raise ValueError(
            f"this test runs the kata under {self.get_start_method()!r}; use the ctx it was given, "
            f"not get_context({method!r})"
        )

    def set_start_method(self, *args, **kwargs):
        raise RuntimeError("a kata never sets the start method: use the ctx it was given")

    def report(self) -> dict:
        """What the coordinator saw: lost updates (with the timeline of the first ones),
        whether a write had to give up waiting and why, escapes to multiprocessing's own
        context, processes created, writes made by workers."""
        return self._dojo[1].report()

    def __repr__(self):
        return f"<RaceContext {self.get_start_method()}>"


EXIT_GATE_TIMEOUT = 10.0  # a worker never waits longer than this for its parent's join


class _RaceProcess:
    """Mixed into each start method's Process class: what every process started through
    a RaceContext does besides its target.

    - At the start it waits at the coordinator's gate until ``parties`` workers have
      started (they run side by side however slowly each one starts).
    - At the end it waits until its parent waits for it (``join()``, ``is_alive()``,
      ``sentinel``): a worker nobody joins is still running when the call returns, on
      every start method, so the test's leak check names it every time. (Under
      forkserver a child that had already ended would be reaped by the fork server and
      never be seen.)
    """

    _dojo_race = None  # (coordinator, a ctx.Semaphore(0) the parent releases)
    _dojo_opened = False

    def _dojo_open(self):
        race = self._dojo_race
        if race is not None and not self._dojo_opened and self._parent_pid == os.getpid():
            self._dojo_opened = True
            race[1].release()

    def run(self):
        race = self._dojo_race
        if race is not None:
            _count_first_send(race[0])
            race[0].gate()
        try:
            super().run()
        except BaseException as exc:
            if race is not None and not isinstance(exc, SystemExit):
                race[0].raised(f"{type(exc).__name__}: {exc}")
            raise
        finally:
            if race is not None:
                race[0].done(os.getpid())  # its work is over, whatever comes next
                race[1].acquire(True, EXIT_GATE_TIMEOUT)

    def join(self, timeout=None):
        self._dojo_open()
        return super().join(timeout)

    def is_alive(self):
        self._dojo_open()
        return super().is_alive()

    def terminate(self):
        self._dojo_open()
        return super().terminate()

    def kill(self):
        self._dojo_open()
        return super().kill()

    @property
    def sentinel(self):
        self._dojo_open()
        return super().sentinel


def _count_first_send(coordinator: Coordinator) -> None:
    """In a worker process: the first message it sends through any multiprocessing
    connection (a Queue's or SimpleQueue's pipe, a Pipe, a pool's or executor's result
    queue, a Manager proxy's call) is counted once in the coordinator. So the test knows
    whether anything the parent received could have come from a worker."""
    from multiprocessing import connection

    sent = []
    for cls in (connection.Connection, getattr(connection, "PipeConnection", None)):  # Windows: PipeConnection
        original = getattr(cls, "_send_bytes", None)
        if original is None or getattr(original, "_dojo_counting", False):
            continue  # no such class here, or already counting in this process

        def _send_bytes(self, buf, _original=original):
            if not sent:
                sent.append(True)
                coordinator.count(H_SENDERS)
            return _original(self, buf)

        _send_bytes._dojo_counting = True
        cls._send_bytes = _send_bytes


# One subclass per start method, at module level so that spawn and forkserver children can
# unpickle them. Windows has only spawn.
_RACE_PROCESS = process_classes(_RaceProcess, "Race", globals())


_RacePool = None


def _race_pool_class():
    """A Pool that tells the coordinator when the program closes or terminates it (also
    through ``with``). One left to the garbage collector is still shut down by CPython's
    finalizer, so no process would be left to see: the flag is how the test knows."""
    global _RacePool
    if _RacePool is None:
        from multiprocessing.pool import Pool

        class RacePool(Pool):
            _dojo_coordinator = None
            _dojo_closed = False

            def _dojo_mark(self):
                if self._dojo_coordinator is not None and not self._dojo_closed:
                    self._dojo_closed = True
                    self._dojo_coordinator.count(H_POOLS_CLOSED)

            def close(self):
                self._dojo_mark()
                return super().close()

            def terminate(self):
                self._dojo_mark()
                return super().terminate()

        _RacePool = RacePool
    return _RacePool


def _rebuild_context(ctx, coordinator):
    race = RaceContext.__new__(RaceContext)
    race._dojo = (ctx, coordinator)
    _watch_escapes(coordinator)
    return race


def _called_from_stdlib(depth: int) -> bool:
    filename = sys._getframe(depth).f_code.co_filename
    return any(part in filename for part in _STDLIB_PARTS)


# --- escapes: learner code that calls multiprocessing's own contexts ----------------------

_WATCHED = (
    "Value", "Array", "RawValue", "RawArray", "Lock", "RLock", "Semaphore", "BoundedSemaphore", "Condition",
    "Manager", "Pool", "Queue", "SimpleQueue", "JoinableQueue", "Event", "Barrier",
)
_patched = False


def _watch_escapes(coordinator: Coordinator) -> None:
    _active.add(coordinator)


def _install_watchers() -> None:
    """Record, in every live coordinator of this process, calls that learner code makes to
    a real multiprocessing context (``multiprocessing.Lock()``, ``get_context().Value()``):
    what they make is invisible to the coordinator, and under another start method it is
    the wrong context's. The real object is still returned: this only watches. Installed
    when this module is imported, so before a kata module binds ``from multiprocessing
    import Lock``."""
    global _patched
    if _patched:
        return
    _patched = True
    import multiprocessing
    import types

    default = _mpcontext._default_context
    for name in _WATCHED:
        original = getattr(_mpcontext.BaseContext, name, None)
        if original is None or getattr(original, "__wrapped__", None) is not None:
            continue
        watched = _watcher(name, original)
        setattr(_mpcontext.BaseContext, name, watched)
        if getattr(getattr(multiprocessing, name, None), "__func__", None) is original:
            setattr(multiprocessing, name, types.MethodType(watched, default))


def _watcher(name, original):
    def watched(self, *args, **kwargs):
        learner, where = _caller_is_learner(2)
        if learner and _active:
            for coordinator in list(_active):
                try:
                    coordinator.escaped(f"multiprocessing's {name}() at {where}")
                except Exception:  # a coordinator whose memory is gone: its test is over
                    pass
        return original(self, *args, **kwargs)

    watched.__name__ = name
    watched.__qualname__ = f"BaseContext.{name}"
    watched.__wrapped__ = original
    return watched


_install_watchers()
