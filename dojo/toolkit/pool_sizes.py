"""A context that records the size every pool made through it was given. Standard library only.

    test:  ctx = PoolSizeContext(mp_context)
    kata:  ProcessPoolExecutor(max_workers=n, mp_context=ctx)   recorded: n (its _max_workers:
                                                                no max_workers = the CPU count)
           ctx.Pool(n)                                          recorded: n (its _processes:
                                                                no size = the CPU count)
    test:  ctx.sizes  [n, ...], in the order the pools were made (at most MOST_POOLS)
           ctx.created, ctx.pools, ctx.executors ...  (CountingContext: processes and pools
                                                       made through ctx)

Why the size the pool was given and not the processes it started: a ProcessPoolExecutor
under spawn or forkserver starts its workers only as tasks need them, and how many it has
started when the first task finishes depends on the scheduler. The size is fixed when the
pool is made, the same on every start method and every machine, and it bounds how many
tasks the pool can ever run at once. A program that made no pool through ctx has no size
here; ``created`` (0) says it ignored ctx.

Kept in shared memory, so that a pool made in a grading host (another process) is read here.
"""

from __future__ import annotations

import sys

from dojo.testing import CountingContext

MOST_POOLS = 16  # sizes beyond this many pools are not kept (the count still is)


class PoolSizeContext(CountingContext):
    def __init__(self, ctx):
        super().__init__(ctx)
        self._sizes = ctx.Array("i", MOST_POOLS + 1)  # [how many, size, size, ...]

    @property
    def sizes(self) -> list:
        """The size of every pool and executor made through this context, in order."""
        with self._sizes.get_lock():
            count = min(self._sizes[0], MOST_POOLS)
            return list(self._sizes[1 : 1 + count])

    def _record(self, size) -> None:
        with self._sizes.get_lock():
            count = self._sizes[0]
            if count < MOST_POOLS:
                self._sizes[1 + count] = int(size)
            self._sizes[0] = count + 1

    def Pool(self, processes=None, initializer=None, initargs=(), maxtasksperchild=None):
        pool = super().Pool(processes, initializer, initargs, maxtasksperchild)
        self._record(getattr(pool, "_processes", processes or 0))
        return pool

    def SimpleQueue(self):
        queue = super().SimpleQueue()
        # ProcessPoolExecutor.__init__ makes its result queue here, after it has settled
        # its _max_workers: the one moment its context sees the executor.
        frame = sys._getframe(1)
        for _ in range(3):
            if frame is None:
                break
            if frame.f_code.co_name == "__init__":
                executor = frame.f_locals.get("self")
                size = getattr(executor, "_max_workers", None)
                if getattr(executor, "_mp_context", None) is self and isinstance(size, int):
                    self._record(size)
                break
            frame = frame.f_back
        return queue

    def __repr__(self):
        return f"<PoolSizeContext {self._ctx.get_start_method()} sizes={self.sizes}>"
