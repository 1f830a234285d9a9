# wrong: one ctx.Lock() per chunk, kept in a list; each worker holds only its own, which excludes nobody
# breaks: whole_step_locked counts_exact
# caught-on: fork spawn forkserver
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
    locks = [ctx.Lock() for _ in chunks]
    workers = [ctx.Process(target=tally, args=(chunk, counts, lock)) for chunk, lock in zip(chunks, locks)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return list(counts)
