# wrong: the lock is released between the read-add and the write, so two workers can read the same number
# breaks: whole_step_locked total_exact
# caught-on: fork spawn forkserver
"""Shared counters lose updates.

`counter.value += 1` is three steps: read the shared number, add one, write it back. Two
processes that read the same number both write number + 1, and one increment is gone.
Nine processes adding 1 fifty times each once ended at 320 instead of 450; the next run
may well say 450, which is what makes this bug so hard to see.
"""


def add_up(counter, lock, times):
    for _ in range(times):
        lock.acquire()
        new = counter.value + 1
        lock.release()
        counter.value = new


def count_together(ctx, workers, times):
    """Start `workers` processes that each add 1 to one shared counter `times` times; return the total."""
    counter = ctx.Value("i", 0)
    lock = ctx.Lock()
    processes = [ctx.Process(target=add_up, args=(counter, lock, times)) for _ in range(workers)]
    for process in processes:
        process.start()
    for process in processes:
        process.join()
    return counter.value
