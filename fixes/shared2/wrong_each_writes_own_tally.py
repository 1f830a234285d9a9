# wrong: each worker tallies privately, then writes (not adds) its counts into the shared slots: last writer wins
# breaks: design counts_exact
# caught-on: fork spawn forkserver
"""An Array is shared slot by slot, and `+= 1` on a slot is still read, add, write.

ctx.Array("i", n) is one block of numbers that every process sees. A process that writes
only its own slots needs no lock. But when several processes add to the same slot, two of
them can read the same count, and both write count + 1: one tally is lost. lock=False
takes away even the lock you would need to make that step whole.
"""


def tally(numbers, counts):
    size = len(counts)
    mine = [0] * size
    for n in numbers:
        mine[n % size] += 1
    with counts.get_lock():
        for slot, count in enumerate(mine):
            counts[slot] = count


def histogram(ctx, chunks, buckets):
    """Count every number by n % buckets, one process per chunk; return the counts as a list."""
    counts = ctx.Array("i", buckets)
    workers = [ctx.Process(target=tally, args=(chunk, counts)) for chunk in chunks]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return list(counts)
