# right: get_lock() acquired before the read and released after the write, in a finally
# style: acquire/release in try/finally
"""Shared counters lose updates.

`counter.value += 1` is three steps: read the shared number, add one, write it back. Two
processes that read the same number both write number + 1, and one increment is gone.
Nine processes adding 1 fifty times each once ended at 320 instead of 450; the next run
may well say 450, which is what makes this bug so hard to see.
"""


def add_up(counter, times):
    lock = counter.get_lock()
    for _ in range(times):
        lock.acquire()
        try:
            counter.value = counter.value + 1
        finally:
            lock.release()


def count_together(ctx, workers, times):
    """Start `workers` processes that each add 1 to one shared counter `times` times; return the total."""
    counter = ctx.Value("i", 0)
    processes = [ctx.Process(target=add_up, args=(counter, times)) for _ in range(workers)]
    for process in processes:
        process.start()
    for process in processes:
        process.join()
    return counter.value
