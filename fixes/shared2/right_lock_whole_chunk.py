# right: get_lock() held around the whole chunk's loop: coarse, but no other worker touches a slot meanwhile
# style: one lock held around the whole loop
"""An Array is shared slot by slot, and `+= 1` on a slot is still read, add, write.

ctx.Array("i", n) is one block of numbers that every process sees. A process that writes
only its own slots needs no lock. But when several processes add to the same slot, two of
them can read the same count, and both write count + 1: one tally is lost. lock=False
takes away even the lock you would need to make that step whole.
"""


def tally(numbers, counts):
    with counts.get_lock():
        for n in numbers:
            counts[n % len(counts)] += 1


def histogram(ctx, chunks, buckets):
    """Count every number by n % buckets, one process per chunk; return the counts as a list."""
    counts = ctx.Array("i", buckets)
    workers = [ctx.Process(target=tally, args=(chunk, counts)) for chunk in chunks]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return list(counts)
