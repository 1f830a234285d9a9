# right: the parent writes the numbers into the block, each worker squares its slot in place; the creator unlinks once, in finally
# style: squares in place
"""Shared memory outlives every process until someone unlinks it."""

import struct
from multiprocessing import shared_memory

SLOT = struct.Struct("q")


def square_in_place(name, index):
    block = shared_memory.SharedMemory(name=name)
    try:
        (n,) = SLOT.unpack_from(block.buf, index * SLOT.size)
        SLOT.pack_into(block.buf, index * SLOT.size, n * n)
    finally:
        block.close()


def squares_in_shared_memory(ctx, numbers, name):
    """Square every number in its own process; the workers write into a block called `name`."""
    block = shared_memory.SharedMemory(name=name, create=True, size=SLOT.size * max(len(numbers), 1))
    try:
        for i, n in enumerate(numbers):
            SLOT.pack_into(block.buf, i * SLOT.size, n)
        workers = [ctx.Process(target=square_in_place, args=(name, i)) for i in range(len(numbers))]
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
