# right: a ProcessPoolExecutor (mp_context=ctx) of `workers` processes returns per-task counts; the parent sums
# style: per-worker counts from ProcessPoolExecutor futures
"""Shared counters lose updates.

`counter.value += 1` is three steps: read the shared number, add one, write it back. Two
processes that read the same number both write number + 1, and one increment is gone.
Nine processes adding 1 fifty times each once ended at 320 instead of 450; the next run
may well say 450, which is what makes this bug so hard to see.
"""

from concurrent.futures import ProcessPoolExecutor


def add_up(times):
    count = 0
    for _ in range(times):
        count += 1
    return count


def count_together(ctx, workers, times):
    """Start `workers` processes that each add 1 to one shared counter `times` times; return the total."""
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as executor:
        futures = [executor.submit(add_up, times) for _ in range(workers)]
        return sum(future.result() for future in futures)
