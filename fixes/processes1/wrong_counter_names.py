# wrong: names count positions ("square-1", "square-2", ...) instead of naming the number worked on
# breaks: named_by_work by_name
# caught-on: fork spawn forkserver
"""Name your processes."""

from multiprocessing import current_process


def square(n, results):
    results.put((current_process().name, n * n))


def squares_by_name(ctx, numbers):
    """Square every number in its own process, named "square-<n>"; return {name: square}."""
    results = ctx.Queue()
    workers = []
    for i, n in enumerate(numbers, start=1):
        workers.append(ctx.Process(target=square, args=(n, results), name=f"square-{i}"))
    for worker in workers:
        worker.start()
    by_name = dict(results.get() for _ in workers)
    for worker in workers:
        worker.join()
    return by_name
