# right: reads and writes through cast memoryviews, released before close; unlink in finally
# style: memoryview cast with release
"""Shared memory outlives every process until someone unlinks it."""

from multiprocessing import shared_memory


def square_into(name, index, n):
    block = shared_memory.SharedMemory(name=name)
    try:
        with block.buf.cast("q") as view:
            view[index] = n * n
    finally:
        block.close()


def squares_in_shared_memory(ctx, numbers, name):
    """Square every number in its own process; the workers write into a block called `name`."""
    block = shared_memory.SharedMemory(name=name, create=True, size=8 * max(len(numbers), 1))
    try:
        workers = [ctx.Process(target=square_into, args=(name, i, n)) for i, n in enumerate(numbers)]
        try:
            for worker in workers:
                worker.start()
        finally:
            for worker in workers:
                if worker.pid is not None:
                    worker.join()
        bad = [w.exitcode for w in workers if w.exitcode != 0]
        if bad:
            raise RuntimeError(f"workers failed with exit codes {bad}")
        with block.buf.cast("q") as view:
            return view.tolist()[: len(numbers)]
    finally:
        block.close()
        block.unlink()
