# wrong: named processes, but from multiprocessing's default context instead of the ctx passed in
# breaks: uses_ctx
# caught-on: fork spawn forkserver
"""Name your processes."""

import multiprocessing
from multiprocessing import current_process


def square(n, results):
    results.put((current_process().name, n * n))


def squares_by_name(ctx, numbers):
    """Square every number in its own process, named "square-<n>"; return {name: square}."""
    results = multiprocessing.Queue()
    workers = []
    for n in numbers:
        workers.append(multiprocessing.Process(target=square, args=(n, results), name=f"square-{n}"))
    for worker in workers:
        worker.start()
    by_name = dict(results.get() for _ in workers)
    for worker in workers:
        worker.join()
    return by_name
