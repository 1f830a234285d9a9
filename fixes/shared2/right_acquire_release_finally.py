# right: get_lock() acquired before the read and released after the write, in a finally
# style: acquire/release in try/finally
"""An Array is shared slot by slot, and `+= 1` on a slot is still read, add, write.

ctx.Array("i", n) is one block of numbers that every process sees. A process that writes
only its own slots needs no lock. But when several processes add to the same slot, two of
them can read the same count, and both write count + 1: one tally is lost. lock=False
takes away even the lock you would need to make that step whole.
"""


def tally(numbers, counts):
    lock = counts.get_lock()
    size = len(counts)
    for n in numbers:
        slot = n % size
        lock.acquire()
        try:
            counts[slot] = counts[slot] + 1
        finally:
            lock.release()


def histogram(ctx, chunks, buckets):
    """Count every number by n % buckets, one process per chunk; return the counts as a list."""
    counts = ctx.Array("i", buckets)
    workers = [ctx.Process(target=tally, args=(chunk, counts)) for chunk in chunks]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return list(counts)
