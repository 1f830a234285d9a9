# right: each worker tallies its chunk privately and sends the list through a ctx.Queue; the parent adds them
# style: per-worker counts summed via a Queue
"""An Array is shared slot by slot, and `+= 1` on a slot is still read, add, write.

ctx.Array("i", n) is one block of numbers that every process sees. A process that writes
only its own slots needs no lock. But when several processes add to the same slot, two of
them can read the same count, and both write count + 1: one tally is lost. lock=False
takes away even the lock you would need to make that step whole.
"""


def tally(numbers, buckets, results):
    counts = [0] * buckets
    for n in numbers:
        counts[n % buckets] += 1
    results.put(counts)


def histogram(ctx, chunks, buckets):
    """Count every number by n % buckets, one process per chunk; return the counts as a list."""
    results = ctx.Queue()
    workers = [ctx.Process(target=tally, args=(chunk, buckets, results)) for chunk in chunks]
    for worker in workers:
        worker.start()
    totals = [0] * buckets
    for _ in workers:  # read before join: a child with unflushed queue data does not end
        for slot, count in enumerate(results.get()):
            totals[slot] += count
    for worker in workers:
        worker.join()
    return totals
