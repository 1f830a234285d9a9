# wrong: one child tallies every chunk, so no slot is shared, but it is not one process per chunk
# breaks: one_process_per_chunk side_by_side
# caught-on: fork spawn forkserver
"""An Array is shared slot by slot, and `+= 1` on a slot is still read, add, write.

ctx.Array("i", n) is one block of numbers that every process sees. A process that writes
only its own slots needs no lock. But when several processes add to the same slot, two of
them can read the same count, and both write count + 1: one tally is lost. lock=False
takes away even the lock you would need to make that step whole.
"""


def tally(numbers, counts):
    for n in numbers:
        counts[n % len(counts)] += 1


def histogram(ctx, chunks, buckets):
    """Count every number by n % buckets, one process per chunk; return the counts as a list."""
    counts = ctx.Array("i", buckets, lock=False)
    everything = [n for chunk in chunks for n in chunk]
    worker = ctx.Process(target=tally, args=(everything, counts))
    worker.start()
    worker.join()
    return list(counts)
