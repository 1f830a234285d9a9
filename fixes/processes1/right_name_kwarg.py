# right: every Process gets name=f"square-{n}" when it is created; the child reads it back
# style: name keyword at creation, one shared Queue
"""Name your processes (fixed with the name= keyword)."""

from multiprocessing import current_process


def square(n, results):
    results.put((current_process().name, n * n))


def squares_by_name(ctx, numbers):
    """Square every number in its own process, named "square-<n>"; return {name: square}."""
    results = ctx.Queue()
    workers = []
    for n in numbers:
        workers.append(ctx.Process(target=square, args=(n, results), name=f"square-{n}"))
    for worker in workers:
        worker.start()
    by_name = dict(results.get() for _ in workers)
    for worker in workers:
        worker.join()
    return by_name
