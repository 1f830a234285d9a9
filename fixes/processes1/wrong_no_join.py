# wrong: named correctly, but the children are never joined: they may still run or stay zombies
# breaks: all_joined
# caught-on: fork spawn forkserver
"""Name your processes."""

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
    return dict(results.get() for _ in workers)
