# wrong: threads named "square-<n>" instead of processes: the work never leaves the caller
# breaks: own_child uses_ctx
# caught-on: fork spawn forkserver
"""Name your processes."""

import queue
import threading


def square(n, results):
    results.put((threading.current_thread().name, n * n))


def squares_by_name(ctx, numbers):
    """Square every number in its own process, named "square-<n>"; return {name: square}."""
    results = queue.Queue()
    workers = [threading.Thread(target=square, args=(n, results), name=f"square-{n}") for n in numbers]
    for worker in workers:
        worker.start()
    by_name = dict(results.get() for _ in workers)
    for worker in workers:
        worker.join()
    return by_name
