# right: a bare Array (lock=False) plus one ctx.Lock() that every worker holds around each slot update
# style: Array(lock=False) guarded by a ctx.Lock() passed to the workers
"""An Array is shared slot by slot, and `+= 1` on a slot is still read, add, write.

ctx.Array("i", n) is one block of numbers that every process sees. A process that writes
only its own slots needs no lock. But when several processes add to the same slot, two of
them can read the same count, and both write count + 1: one tally is lost. lock=False
takes away even the lock you would need to make that step whole.
"""


def tally(numbers, counts, lock):
    for n in numbers:
        with lock:
            counts[n % len(counts)] += 1


def histogram(ctx, chunks, buckets):
    """Count every number by n % buckets, one process per chunk; return the counts as a list."""
    counts = ctx.Array("i", buckets, lock=False)
    lock = ctx.Lock()
    workers = [ctx.Process(target=tally, args=(chunk, counts, lock)) for chunk in chunks]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return list(counts)
