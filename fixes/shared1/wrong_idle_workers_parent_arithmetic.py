# wrong: the workers are started and joined but count nothing; the parent returns workers * times
# breaks: counted_in_children
# caught-on: fork spawn forkserver
"""Shared counters lose updates (a learner who gave up on the lock and did the maths)."""


def add_up(counter, times):
    total = 0
    for _ in range(times):
        total += 1  # counted, but kept to itself: never written anywhere


def count_together(ctx, workers, times):
    """Start `workers` processes, side by side, that each add 1 to one shared counter `times`
    times; return the total. Everything shared or started comes from `ctx`."""
    counter = ctx.Value("i", 0)
    processes = [ctx.Process(target=add_up, args=(counter, times)) for _ in range(workers)]
    for process in processes:
        process.start()
    for process in processes:
        process.join()
    return workers * times
