# wrong: the name is set after start(); the child already runs with its default name
# breaks: by_name named_by_work name_read_in_child
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
        workers.append(ctx.Process(target=square, args=(n, results)))
    for n, worker in zip(numbers, workers):
        worker.start()
        worker.name = f"square-{n}"
    by_name = dict(results.get() for _ in workers)
    for worker in workers:
        worker.join()
    return by_name
