# wrong: a fresh lock is created for every increment, so it excludes nobody
# breaks: whole_step_locked total_exact uses_ctx
# caught-on: fork spawn forkserver
"""Shared counters lose updates.

`counter.value += 1` is three steps: read the shared number, add one, write it back. Two
processes that read the same number both write number + 1, and one increment is gone.
Nine processes adding 1 fifty times each once ended at 320 instead of 450; the next run
may well say 450, which is what makes this bug so hard to see.
"""

import multiprocessing


def increment(counter):
    with multiprocessing.Lock():
        counter.value += 1


def add_up(counter, times):
    for _ in range(times):
        increment(counter)


def count_together(ctx, workers, times):
    """Start `workers` processes that each add 1 to one shared counter `times` times; return the total."""
    counter = ctx.Value("i", 0)
    processes = [ctx.Process(target=add_up, args=(counter, times)) for _ in range(workers)]
    for process in processes:
        process.start()
    for process in processes:
        process.join()
    return counter.value
