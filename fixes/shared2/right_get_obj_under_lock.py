# right: the raw ctypes array behind the Array is changed only while get_lock() is held
# style: get_obj() under get_lock()
"""An Array is shared slot by slot, and `+= 1` on a slot is still read, add, write.

ctx.Array("i", n) is one block of numbers that every process sees. A process that writes
only its own slots needs no lock. But when several processes add to the same slot, two of
them can read the same count, and both write count + 1: one tally is lost. lock=False
takes away even the lock you would need to make that step whole.
"""


def tally(numbers, counts):
    raw = counts.get_obj()
    size = len(raw)
    for n in numbers:
        with counts.get_lock():
            raw[n % size] += 1


def histogram(ctx, chunks, buckets):
    """Count every number by n % buckets, one process per chunk; return the counts as a list."""
    counts = ctx.Array("i", buckets)
    workers = [ctx.Process(target=tally, args=(chunk, counts)) for chunk in chunks]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return list(counts)
