# right: named processes write {their name: square} into a Manager dict, joined before reading
# style: Manager dict
"""Name your processes (results in a Manager dict)."""

from multiprocessing import current_process


def square(n, results):
    results[current_process().name] = n * n


def squares_by_name(ctx, numbers):
    """Square every number in its own process, named "square-<n>"; return {name: square}."""
    with ctx.Manager() as manager:
        results = manager.dict()
        workers = [
            ctx.Process(target=square, args=(n, results), name=f"square-{n}") for n in numbers
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        return dict(results)
