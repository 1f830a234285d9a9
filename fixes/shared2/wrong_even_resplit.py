# wrong: re-splits all numbers into len(chunks) equal parts with floor division, dropping the remainder
# breaks: every_chunk counts_exact
# caught-on: fork spawn forkserver
"""An Array is shared slot by slot, and `+= 1` on a slot is still read, add, write.

ctx.Array("i", n) is one block of numbers that every process sees. A process that writes
only its own slots needs no lock. But when several processes add to the same slot, two of
them can read the same count, and both write count + 1: one tally is lost. lock=False
takes away even the lock you would need to make that step whole.
"""


def tally(numbers, counts):
    for n in numbers:
        with counts.get_lock():
            counts[n % len(counts)] += 1


def histogram(ctx, chunks, buckets):
    """Count every number by n % buckets, one process per chunk; return the counts as a list."""
    counts = ctx.Array("i", buckets)
    # Balance the load: every worker gets the same number of numbers.
    numbers = [n for chunk in chunks for n in chunk]
    size = len(numbers) // max(len(chunks), 1)
    parts = [numbers[i * size:(i + 1) * size] for i in range(len(chunks))]
    workers = [ctx.Process(target=tally, args=(part, counts)) for part in parts]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return list(counts)
