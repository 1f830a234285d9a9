# right: a pool of len(chunks) processes tallies one chunk per task and returns it; the parent adds the lists
# style: per-chunk counts from Pool.map return values
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
    if not chunks:
        return totals
    with ctx.Pool(processes=len(chunks)) as pool:
        per_chunk = pool.starmap(tally, [(chunk, buckets) for chunk in chunks], chunksize=1)
        pool.close()
        pool.join()
    for counts in per_chunk:
        for slot, count in enumerate(counts):
            totals[slot] += count
    return totals
