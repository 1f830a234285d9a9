"""What kata tests import: the call contract and the determinism toolkit.

Workers that tests hand to learner code live in modules like this one, never in test
modules: a spawn or forkserver child imports the module that defines its target, and a
test module would drag pytest into every child.
"""

from __future__ import annotations

import os
import threading

PLAIN_SCALARS = (type(None), bool, int, float, str)


class KataRaised(Exception):
    """The kata function raised; carries only its type name and message (plain data),
    as a grading host would send them back."""

    def __init__(self, type_name: str, message: str):
        super().__init__(f"{type_name}: {message}")
        self.type_name = type_name
        self.message = message


def check_plain(value, what: str, _depth: int = 0) -> None:
    """Refuse results that are not plain data (numbers, strings, lists, tuples, dicts)."""
    if _depth > 50:
        raise TypeError(f"{what} returned data nested deeper than 50 levels")
    if isinstance(value, PLAIN_SCALARS):
        return
    if isinstance(value, (list, tuple)):
        for item in value:
            check_plain(item, what, _depth + 1)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, PLAIN_SCALARS):
                raise TypeError(f"{what} returned a dict with a {type(key).__name__} key; use plain keys")
            check_plain(item, what, _depth + 1)
        return
    raise TypeError(
        f"{what} returned a {type(value).__module__}.{type(value).__qualname__}; "
        "kata functions return plain data (numbers, strings, lists, tuples, dicts), "
        "so that the result can travel between processes as JSON"
    )


# --- race amplification ---------------------------------------------------------------
#
#   parent: ctx = RaceContext(mp_context, parties=N)
#           counter = ctx.Value("i", 0)   ──> RendezvousValue(real Value, Barrier(N))
#           counts = ctx.Array("i", 4)    ──> RendezvousArray(real Array, Barrier(N))
#           (RawValue / RawArray / lock=False too: same wrappers around the raw object)
#           lock = ctx.Lock()             ──> TrackedLock(real Lock)
#   child:  counter.value, counts[i]  (read) -> read the real value, then wait at the
#                                     Barrier until all N workers have read: every worker
#                                     reads the same number, so every unlocked `+= 1`
#                                     round on a slot they share loses N - 1 updates,
#                                     every time.
#           any read while this process holds the object's get_lock() (or `with obj:`)
#           or a lock made by the RaceContext skips the Barrier: a fixed kata never waits.
#
# Writes go straight through. Reads in the process that created the object (the kata's
# parent, reading the result) never wait. The wrappers pickle like the objects they wrap
# (only while a process is being started), so they travel to workers by inheritance.

_held = 0  # locks from this module held by this process (each process has its own copy)


def _rendezvous(barrier, owner) -> None:
    """An unlocked read in a worker: wait until every party has made its read too."""
    if _held == 0 and os.getpid() != owner and not barrier.broken:
        try:
            barrier.wait()
        except threading.BrokenBarrierError:
            pass


class TrackedLock:
    """A multiprocessing lock that tells RendezvousValue and RendezvousArray when this
    process holds it."""

    def __init__(self, lock):
        self._lock = lock

    def acquire(self, *args, **kwargs):
        global _held
        got = self._lock.acquire(*args, **kwargs)
        if got:
            _held += 1
        return got

    def release(self):
        global _held
        self._lock.release()
        _held -= 1

    def __enter__(self):
        self.acquire()
        return self

    def __exit__(self, *exc):
        self.release()

    def __getattr__(self, name):
        # Unpickling (spawn, forkserver) looks up __setstate__ before _lock exists: answer
        # dunders and _lock here instead of recursing through self._lock forever.
        if name == "_lock" or (name.startswith("__") and name.endswith("__")):
            raise AttributeError(name)
        return getattr(self._lock, name)


class RendezvousValue:
    """A ``ctx.Value`` whose unlocked reads in worker processes meet at a Barrier.

    Reads in the process that created it (the kata's parent, reading the result) never
    wait. If the workers do not all read the same number of times, the Barrier times out
    once, breaks, and from then on reads go straight through.
    """

    def __init__(self, ctx, typecode_or_type, *args, parties: int, timeout: float = 10.0, lock=True):
        self._value = ctx.Value(typecode_or_type, *args, lock=lock)
        self._barrier = ctx.Barrier(parties, timeout=timeout)
        self._owner = os.getpid()

    @property
    def value(self):
        current = self._value.value
        _rendezvous(self._barrier, self._owner)
        return current

    @value.setter
    def value(self, new):
        self._value.value = new

    def get_lock(self):
        # A raw value (lock=False, RawValue) has no get_lock(): AttributeError, as for real.
        return TrackedLock(self._value.get_lock())

    def get_obj(self):
        return self._value.get_obj()

    def __enter__(self):
        global _held
        self._value.__enter__()
        _held += 1
        return self

    def __exit__(self, *exc):
        global _held
        _held -= 1
        return self._value.__exit__(*exc)

    def __repr__(self):
        return f"<RendezvousValue {self._value!r}>"


class RendezvousArray:
    """A ``ctx.Array`` whose unlocked element reads in worker processes meet at a Barrier.

    ``a[i]`` and ``a[i:j]`` are reads (one meeting each); ``len(a)`` is not. Iterating
    reads the whole array once. Everything else behaves as in RendezvousValue: reads in
    the creating process, and reads while a tracked lock or ``get_lock()`` is held, never
    wait; uneven reads break the Barrier once and then go straight through.
    """

    def __init__(self, ctx, typecode_or_type, size_or_initializer, *, parties: int, timeout: float = 10.0, lock=True):
        self._array = ctx.Array(typecode_or_type, size_or_initializer, lock=lock)
        self._barrier = ctx.Barrier(parties, timeout=timeout)
        self._owner = os.getpid()

    def __getitem__(self, key):
        current = self._array[key]
        _rendezvous(self._barrier, self._owner)
        return current

    def __setitem__(self, key, new):
        self._array[key] = new

    def __len__(self):
        return len(self._array)

    def __iter__(self):
        return iter(self[:])

    def get_lock(self):
        # A raw array (lock=False, RawArray) has no get_lock(): AttributeError, as for real.
        return TrackedLock(self._array.get_lock())

    def get_obj(self):
        return self._array.get_obj()

    def __enter__(self):
        global _held
        self._array.__enter__()
        _held += 1
        return self

    def __exit__(self, *exc):
        global _held
        _held -= 1
        return self._array.__exit__(*exc)

    def __repr__(self):
        return f"<RendezvousArray {self._array!r}>"


class RaceContext:
    """A multiprocessing context whose ``Value`` and ``Array`` (and their raw forms) race
    on purpose and whose locks are tracked; everything else is the real context's. Pass it
    where a kata takes ``ctx``."""

    def __init__(self, ctx, parties: int, timeout: float = 10.0):
        self._ctx = ctx
        self._parties = parties
        self._timeout = timeout

    def Value(self, typecode_or_type, *args, lock=True):
        return RendezvousValue(self._ctx, typecode_or_type, *args, parties=self._parties, timeout=self._timeout, lock=lock)

    def RawValue(self, typecode_or_type, *args):
        # Amplified too: switching to a raw value must not escape the test's amplifier.
        return self.Value(typecode_or_type, *args, lock=False)

    def Array(self, typecode_or_type, size_or_initializer, *, lock=True):
        return RendezvousArray(
            self._ctx, typecode_or_type, size_or_initializer, parties=self._parties, timeout=self._timeout, lock=lock
        )

    def RawArray(self, typecode_or_type, size_or_initializer):
        return self.Array(typecode_or_type, size_or_initializer, lock=False)

    def Lock(self):
        return TrackedLock(self._ctx.Lock())

    def RLock(self):
        return TrackedLock(self._ctx.RLock())

    def get_start_method(self, allow_none=False):
        return self._ctx.get_start_method(allow_none)

    def get_context(self, method=None):
        return self._ctx if method is None else self._ctx.get_context(method)

    def __getattr__(self, name):
        if name == "_ctx" or (name.startswith("__") and name.endswith("__")):
            raise AttributeError(name)  # see TrackedLock.__getattr__: keeps it picklable
        return getattr(self._ctx, name)

    def __repr__(self):
        return f"<RaceContext {self._ctx.get_start_method()} parties={self._parties}>"


# --- counting processes ------------------------------------------------------------------


class CountingContext:
    """A multiprocessing context that counts the processes created through it.

    ``ctx.Process(...)``, ``ctx.Pool(...)`` and ``ProcessPoolExecutor(mp_context=ctx)`` all
    create their workers through ``ctx.Process``, so ``ctx.created`` counts them from the
    outside, with no timing involved. Everything else is the real context's.
    """

    def __init__(self, ctx):
        self._ctx = ctx
        # Shared, so that a count made in a grading host (another process) is read here.
        self._created = ctx.Value("i", 0)

    @property
    def created(self) -> int:
        return self._created.value

    def Process(self, *args, **kwargs):
        with self._created.get_lock():
            self._created.value += 1
        return self._ctx.Process(*args, **kwargs)

    def Pool(self, processes=None, initializer=None, initargs=(), maxtasksperchild=None):
        from multiprocessing.pool import Pool

        return Pool(processes, initializer, initargs, maxtasksperchild, context=self)

    def get_start_method(self, allow_none=False):
        return self._ctx.get_start_method(allow_none)

    def get_context(self, method=None):
        return self if method is None else self._ctx.get_context(method)

    def __getattr__(self, name):
        if name == "_ctx" or (name.startswith("__") and name.endswith("__")):
            raise AttributeError(name)  # see TrackedLock.__getattr__: keeps it picklable
        return getattr(self._ctx, name)

    def __repr__(self):
        return f"<CountingContext {self._ctx.get_start_method()} created={self.created}>"
