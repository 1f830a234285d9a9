# right: a ProcessPoolExecutor (mp_context=ctx) with one process per chunk returns per-chunk tallies; the parent sums
# style: per-chunk counts from ProcessPoolExecutor futures
"""An Array is shared slot by slot, and `+= 1` on a slot is still read, add, write.

ctx.Array("i", n) is one block of numbers that every process sees. A process that writes
only its own slots needs no lock. But when several processes add to the same slot, two of
them can read the same count, and both write count + 1: one tally is lost. lock=False
takes away even the lock you would need to make that step whole.
"""

from concurrent.futures import ProcessPoolExecutor


def tally(numbers, buckets):
    counts = [0] * buckets
    for n in numbers:
        counts[n % buckets] += 1
    return counts


def histogram(ctx, chunks, buckets):
    """Count every number by n % buckets, one process per chunk; return the counts as a list."""
    totals = [0] * buckets
    if not chunks:
        return totals
    with ProcessPoolExecutor(max_workers=len(chunks), mp_context=ctx) as executor:
        for counts in executor.map(tally, chunks, [buckets] * len(chunks)):
            totals = [a + b for a, b in zip(totals, counts)]
    return totals
