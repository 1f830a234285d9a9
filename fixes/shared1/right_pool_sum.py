# right: a pool of `workers` processes returns each task's own count; the parent sums them
# style: per-worker counts from Pool.map return values
"""Shared counters lose updates.

`counter.value += 1` is three steps: read the shared number, add one, write it back. Two
processes that read the same number both write number + 1, and one increment is gone.
Nine processes adding 1 fifty times each once ended at 320 instead of 450; the next run
may well say 450, which is what makes this bug so hard to see.
"""


def add_up(times):
    count = 0
    for _ in range(times):
        count += 1
    return count


def count_together(ctx, workers, times):
    """Start `workers` processes that each add 1 to one shared counter `times` times; return the total."""
    with ctx.Pool(processes=workers) as pool:
        counts = pool.map(add_up, [times] * workers, chunksize=1)
        pool.close()
        pool.join()
    return sum(counts)
