# wrong: every chunk gets a process, but the processes only sort their chunk locally; the parent tallies the numbers itself
# breaks: counted_in_children
# caught-on: fork spawn forkserver
"""An Array is shared slot by slot (a learner who moved the counting to where it cannot race)."""


def tally(numbers, counts):
    ordered = sorted(numbers)  # the child works, but nothing it does leaves the child
    return len(ordered)


def histogram(ctx, chunks, buckets):
    """Count every number by n % buckets, one process per chunk, all side by side; return the
    counts as a list. Everything shared or started comes from `ctx`."""
    counts = ctx.Array("i", buckets, lock=False)
    workers = [ctx.Process(target=tally, args=(chunk, counts)) for chunk in chunks]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    result = [0] * buckets
    for chunk in chunks:
        for n in chunk:
            result[n % buckets] += 1
    return result
