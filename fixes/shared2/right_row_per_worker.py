# right: each worker owns one row of slots in a lock-free Array; no slot is shared, the parent sums the rows
# style: per-worker rows in a ctx.Array
"""An Array is shared slot by slot, and `+= 1` on a slot is still read, add, write.

ctx.Array("i", n) is one block of numbers that every process sees. A process that writes
only its own slots needs no lock. But when several processes add to the same slot, two of
them can read the same count, and both write count + 1: one tally is lost. lock=False
takes away even the lock you would need to make that step whole.
"""


def tally(numbers, rows, row, buckets):
    start = row * buckets
    for n in numbers:
        rows[start + n % buckets] += 1


def histogram(ctx, chunks, buckets):
    """Count every number by n % buckets, one process per chunk; return the counts as a list."""
    # Row w (buckets slots) belongs to worker w alone: nobody else writes there, so no lock.
    rows = ctx.Array("i", len(chunks) * buckets, lock=False)
    workers = [
        ctx.Process(target=tally, args=(chunk, rows, w, buckets)) for w, chunk in enumerate(chunks)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return [sum(rows[w * buckets + b] for w in range(len(chunks))) for b in range(buckets)]
