# wrong: per-worker rows, but the parent stops summing at the first empty chunk and drops the rows after it
# breaks: every_chunk counts_exact
# caught-on: fork spawn forkserver
"""An Array is shared slot by slot, and `+= 1` on a slot is still read, add, write.

ctx.Array("i", n) is one block of numbers that every process sees. A process that writes
only its own slots needs no lock. But when several processes add to the same slot, two of
them can read the same count, and both write count + 1: one tally is lost. lock=False
takes away even the lock you would need to make that step whole.
"""


def tally(numbers, rows, row, buckets):
    for n in numbers:
        rows[row * buckets + n % buckets] += 1


def histogram(ctx, chunks, buckets):
    """Count every number by n % buckets, one process per chunk; return the counts as a list."""
    rows = ctx.Array("i", len(chunks) * buckets, lock=False)
    workers = [
        ctx.Process(target=tally, args=(chunk, rows, w, buckets)) for w, chunk in enumerate(chunks)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    totals = [0] * buckets
    for w, chunk in enumerate(chunks):
        if not chunk:
            break  # no more work after an empty chunk
        for b in range(buckets):
            totals[b] += rows[w * buckets + b]
    return totals
