# wrong: the workers run, but the parent returns [int(n) ** 2 for n in numbers] instead of reading the block
# breaks: in_children
# caught-on: fork spawn forkserver
"""Shared memory outlives every process until someone unlinks it.

A SharedMemory block is a file in /dev/shm, outside all your processes. close() only
unmaps this process's view of it; the block itself stays until unlink() is called, so a
program that only closes leaves a block behind on every run, and one that crashes halfway
leaves one too. Every process closes its view; the owner that created it unlinks it, once.
"""

import struct
from multiprocessing import shared_memory

SLOT = struct.Struct("q")  # one signed 64-bit integer per number


def square_into(name, index, n):
    block = shared_memory.SharedMemory(name=name)  # attach to the parent's block
    try:
        SLOT.pack_into(block.buf, index * SLOT.size, n * n)
    finally:
        block.close()


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
        return [int(n) ** 2 for n in numbers]
    finally:
        block.close()
        block.unlink()
