# right: the name attribute is set on each Process before start(), so the child inherits it
# style: name attribute assigned before start
"""Name your processes (fixed by setting .name before start)."""

from multiprocessing import current_process


def square(n, results):
    results.put((current_process().name, n * n))


def squares_by_name(ctx, numbers):
    """Square every number in its own process, named "square-<n>"; return {name: square}."""
    results = ctx.Queue()
    workers = []
    for n in numbers:
        worker = ctx.Process(target=square, args=(n, results))
        worker.name = "square-" + str(n)
        workers.append(worker)
    for worker in workers:
        worker.start()
    by_name = {}
    for _ in workers:
        name, value = results.get()
        by_name[name] = value
    for worker in workers:
        worker.join()
    return by_name
