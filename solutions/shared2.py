"""An Array is shared slot by slot, and `+= 1` on a slot is still read, add, write.

ctx.Array("i", n) is one block of numbers that every process sees. A process that writes
only its own slots needs no lock. But when several processes add to the same slot, two of
them can read the same count, and both write count + 1: one tally is lost. lock=False
takes away even the lock you would need to make that step whole.
"""


def tally(numbers, counts):
    for n in numbers:
        # Every worker adds to the same slots, so the read, the add and the write must be
        # one step: while this process holds the Array's lock, no other process can read
        # a slot in between. (Indexing alone takes that lock for the read and again for
        # the write, never for both together.)
        with counts.get_lock():
            counts[n % len(counts)] += 1


def histogram(ctx, chunks, buckets):
    """Count every number by n % buckets, one process per chunk, all side by side; return the
    counts as a list. Everything shared or started comes from `ctx`."""
    # lock=True (the default) gives the Array a lock that get_lock() returns; lock=False
    # is only safe when each process writes slots that no other process touches.
    counts = ctx.Array("i", buckets)
    workers = [ctx.Process(target=tally, args=(chunk, counts)) for chunk in chunks]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return list(counts)
