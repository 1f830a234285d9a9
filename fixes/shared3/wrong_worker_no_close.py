# wrong: the worker never closes its view (the parent cleans up anyway): a worker that fails keeps it mapped
# breaks: workers_close
# caught-on: fork spawn forkserver
"""Shared memory outlives every process until someone unlinks it."""

import struct
from multiprocessing import shared_memory

SLOT = struct.Struct("q")  # one signed 64-bit integer per number


def square_into(name, index, n):
    block = shared_memory.SharedMemory(name=name)  # the parent closes and unlinks it
    SLOT.pack_into(block.buf, index * SLOT.size, n * n)


def squares_in_shared_memory(ctx, numbers, name):
    """Square every number in its own process; the workers write into a block called `name`."""
    block = shared_memory.SharedMemory(name=name, create=True, size=SLOT.size * max(len(numbers), 1))
    try:
        workers = [ctx.Process(target=square_into, args=(name, i, n)) for i, n in enumerate(numbers)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        failed = sum(worker.exitcode != 0 for worker in workers)
        if failed:
            raise RuntimeError(f"{failed} of {len(workers)} workers failed")
        return [SLOT.unpack_from(block.buf, i * SLOT.size)[0] for i in range(len(numbers))]
    finally:
        block.close()
        block.unlink()
