# wrong: a Pool() sized by the machine instead of one process per chunk; the tallies add up, the process count does not
# breaks: one_process_per_chunk
# caught-on: fork spawn forkserver
"""An Array is shared slot by slot, and `+= 1` on a slot is still read, add, write.

ctx.Array("i", n) is one block of numbers that every process sees. A process that writes
only its own slots needs no lock. But when several processes add to the same slot, two of
them can read the same count, and both write count + 1: one tally is lost. lock=False
takes away even the lock you would need to make that step whole.
"""


def tally(numbers, buckets):
    counts = [0] * buckets
    for n in numbers:
        counts[n % buckets] += 1
    return counts


def histogram(ctx, chunks, buckets):
    """Count every number by n % buckets, one process per chunk; return the counts as a list."""
    totals = [0] * buckets
    with ctx.Pool() as pool:
        for counts in pool.starmap(tally, [(chunk, buckets) for chunk in chunks]):
            totals = [a + b for a, b in zip(totals, counts)]
        pool.close()
        pool.join()
    return totals
