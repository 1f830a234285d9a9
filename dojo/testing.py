"""What kata tests import: the call contract and the determinism toolkit.

Workers that tests hand to learner code live in modules like this one, never in test
modules: a spawn or forkserver child imports the module that defines its target, and a
test module would drag pytest into every child.
"""

from __future__ import annotations

import sys
import weakref

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


# --- race amplification: dojo/toolkit/race.py ------------------------------------------

from dojo.toolkit.race import RaceContext, race_message  # noqa: E402,F401  (what race tests import)


# --- counting processes ------------------------------------------------------------------


class CountingContext:
    """A multiprocessing context that counts the processes and the pools made through it.

    ``ctx.Process(...)``, ``ctx.Pool(...)`` and ``ProcessPoolExecutor(mp_context=ctx)`` all
    create their workers through ``ctx.Process``, so ``ctx.created`` counts them from the
    outside, with no timing involved. Everything else is the real context's.

    It also counts the pools (``ctx.Pool(...)``) and executors (``ProcessPoolExecutor(
    mp_context=ctx)``) made through it, and which of them the program closed, terminated
    or shut down (a ``with`` block does too). A pool left to the garbage collector is shut
    down by CPython's finalizer after the call, so no process is left behind to see:
    ``pools_left_open`` and ``executors_left_open`` are how a test knows.
    """

    def __init__(self, ctx):
        self._ctx = ctx
        # Shared, so that a count made in a grading host (another process) is read here.
        self._created = ctx.Value("i", 0)
        self._pool_counts = ctx.Array("i", _COUNTS)

    @property
    def created(self) -> int:
        return self._created.value

    @property
    def pools(self) -> int:
        """How many ``ctx.Pool(...)`` were made through this context."""
        return self._pool_counts[_POOLS]

    @property
    def pools_left_open(self) -> int:
        """Pools made through ``ctx.Pool(...)`` that were never closed nor terminated."""
        counts = self._pool_counts
        return counts[_POOLS] - counts[_POOLS_CLOSED]

    @property
    def executors(self) -> int:
        """How many ``ProcessPoolExecutor(mp_context=ctx)`` were made with this context."""
        return self._pool_counts[_EXECUTORS]

    @property
    def executors_left_open(self) -> int:
        """Executors made with this context whose ``shutdown()`` was never called."""
        counts = self._pool_counts
        return counts[_EXECUTORS] - counts[_EXECUTORS_SHUT]

    def Process(self, *args, **kwargs):
        with self._created.get_lock():
            self._created.value += 1
        return self._ctx.Process(*args, **kwargs)

    def Pool(self, processes=None, initializer=None, initargs=(), maxtasksperchild=None):
        pool = _counted_pool_class()(processes, initializer, initargs, maxtasksperchild, context=self)
        pool._dojo_counts = self._pool_counts
        _count(self._pool_counts, _POOLS)
        return pool

    def SimpleQueue(self):
        queue = self._ctx.SimpleQueue()
        # ProcessPoolExecutor.__init__ makes its result queue here: the one moment its
        # context sees the executor.
        _watch_executor(sys._getframe(1), self, self._pool_counts)
        return queue

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


_POOLS, _POOLS_CLOSED, _EXECUTORS, _EXECUTORS_SHUT = range(4)
_COUNTS = 4


def _count(counts, index: int) -> None:
    with counts.get_lock():
        counts[index] += 1


_CountedPool = None


def _counted_pool_class():
    """A Pool that counts, once, its close() or terminate() (``with`` calls terminate())."""
    global _CountedPool
    if _CountedPool is None:
        from multiprocessing.pool import Pool

        class CountedPool(Pool):
            _dojo_counts = None
            _dojo_closed = False

            def _dojo_mark(self):
                if self._dojo_counts is not None and not self._dojo_closed:
                    self._dojo_closed = True
                    _count(self._dojo_counts, _POOLS_CLOSED)

            def close(self):
                self._dojo_mark()
                return super().close()

            def terminate(self):
                self._dojo_mark()
                return super().terminate()

        _CountedPool = CountedPool
    return _CountedPool


def _watch_executor(frame, ctx, counts) -> None:
    """If ``frame`` (or one of its callers) is a ProcessPoolExecutor being made with
    ``ctx``, count it, and have its ``shutdown()`` (which ``with`` calls) counted too."""
    from concurrent.futures import ProcessPoolExecutor

    for _ in range(3):
        if frame is None:
            return
        if frame.f_code.co_name == "__init__":
            executor = frame.f_locals.get("self")
            if isinstance(executor, ProcessPoolExecutor):
                if getattr(executor, "_mp_context", None) is ctx and "shutdown" not in vars(executor):
                    _count(counts, _EXECUTORS)
                    executor.shutdown = _CountedShutdown(executor, counts)
                return
        frame = frame.f_back


class _CountedShutdown:
    """Stands in for one executor's ``shutdown``: counts the first call, then shuts down.
    Holds the executor only weakly, so that a forgotten executor is still collected as it
    would be without the test."""

    def __init__(self, executor, counts):
        self._executor = weakref.ref(executor)
        self._counts = counts
        self._marked = False

    def __call__(self, *args, **kwargs):
        executor = self._executor()
        if not self._marked:
            self._marked = True
            _count(self._counts, _EXECUTORS_SHUT)
        if executor is None:  # pragma: no cover  (a bound call keeps it alive)
            return None
        return type(executor).shutdown(executor, *args, **kwargs)
