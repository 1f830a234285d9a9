# right: each worker counts into its own slot of a lock-free Array; no slot is shared, the parent sums
# style: per-worker slots in a ctx.Array
"""Shared counters lose updates.

`counter.value += 1` is three steps: read the shared number, add one, write it back. Two
processes that read the same number both write number + 1, and one increment is gone.
Nine processes adding 1 fifty times each once ended at 320 instead of 450; the next run
may well say 450, which is what makes this bug so hard to see.
"""


def add_up(slots, index, times):
    for _ in range(times):
        slots[index] += 1


def count_together(ctx, workers, times):
    """Start `workers` processes that each add 1 to one shared counter `times` times; return the total."""
    # Slot i belongs to worker i alone, so no two processes ever write the same number.
    slots = ctx.Array("i", workers, lock=False)
    processes = [ctx.Process(target=add_up, args=(slots, i, times)) for i in range(workers)]
    for process in processes:
        process.start()
    for process in processes:
        process.join()
    return sum(slots)
