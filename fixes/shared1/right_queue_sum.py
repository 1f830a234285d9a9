# right: each worker counts privately and sends its count through a ctx.Queue; the parent adds them up
# style: per-worker counts summed via a Queue
"""Shared counters lose updates.

`counter.value += 1` is three steps: read the shared number, add one, write it back. Two
processes that read the same number both write number + 1, and one increment is gone.
Nine processes adding 1 fifty times each once ended at 320 instead of 450; the next run
may well say 450, which is what makes this bug so hard to see.
"""


def add_up(results, times):
    count = 0
    for _ in range(times):
        count += 1
    results.put(count)


def count_together(ctx, workers, times):
    """Start `workers` processes that each add 1 to one shared counter `times` times; return the total."""
    results = ctx.Queue()
    processes = [ctx.Process(target=add_up, args=(results, times)) for _ in range(workers)]
    for process in processes:
        process.start()
    # Read before joining: a child with unflushed queue data does not end.
    total = sum(results.get() for _ in processes)
    for process in processes:
        process.join()
    return total
