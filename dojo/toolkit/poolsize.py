"""A context that also records the size of every Pool made through it. Standard library only.

CountingContext (dojo.testing) counts the processes created through ``ctx.Process``; a Pool
creates all of its workers at once, but a ProcessPoolExecutor under spawn or forkserver
starts them only as tasks need them, so a count alone cannot tell "a pool of 2" from "a pool
of 4 that needed 2". ``SizingContext`` also keeps, in shared memory (so that a call made in
a grading host is read here), the size of the last ``ctx.Pool(...)`` as the Pool resolved it
(``processes=None`` becomes the machine's default). How many pools were made, and which
were left open, CountingContext counts (``pools``, ``pools_left_open``, ...).
"""

from __future__ import annotations

from dojo.testing import CountingContext


class SizingContext(CountingContext):
    def __init__(self, ctx):
        super().__init__(ctx)
        self._pool_size = ctx.Value("i", -1)

    @property
    def pool_size(self) -> int | None:
        """The number of worker processes of the last ``ctx.Pool(...)``, None if none."""
        size = self._pool_size.value
        return None if size < 0 else size

    def Pool(self, processes=None, initializer=None, initargs=(), maxtasksperchild=None):
        pool = super().Pool(processes, initializer, initargs, maxtasksperchild)
        with self._pool_size.get_lock():
            self._pool_size.value = int(getattr(pool, "_processes", processes if processes is not None else -1))
        return pool
