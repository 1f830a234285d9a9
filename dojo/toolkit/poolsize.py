"""A context that also records the size of every Pool made through it. Standard library only.

CountingContext (dojo.testing) counts the processes created through ``ctx.Process``; a Pool
creates all of its workers at once, but a ProcessPoolExecutor under spawn or forkserver
starts them only as tasks need them, so a count alone cannot tell "a pool of 2" from "a pool
of 4 that needed 2". ``SizingContext`` also keeps, in shared memory (so that a call made in
a grading host is read here), how many ``ctx.Pool(...)`` were made and the size of the last
one as the Pool resolved it (``processes=None`` becomes the machine's default).
"""

from __future__ import annotations

from dojo.testing import CountingContext


class SizingContext(CountingContext):
    def __init__(self, ctx):
        super().__init__(ctx)
        self._pools = ctx.Value("i", 0)
        self._pool_size = ctx.Value("i", -1)

    @property
    def pools(self) -> int:
        """How many ``ctx.Pool(...)`` were made through this context."""
        return self._pools.value

    @property
    def pool_size(self) -> int | None:
        """The number of worker processes of the last ``ctx.Pool(...)``, None if none."""
        size = self._pool_size.value
        return None if size < 0 else size

    def Pool(self, processes=None, initializer=None, initargs=(), maxtasksperchild=None):
        pool = super().Pool(processes, initializer, initargs, maxtasksperchild)
        with self._pools.get_lock():
            self._pools.value += 1
            self._pool_size.value = int(getattr(pool, "_processes", processes if processes is not None else -1))
        return pool
