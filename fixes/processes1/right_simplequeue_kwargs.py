# right: each Process is built from keyword arguments that include its name, results via SimpleQueue
# style: SimpleQueue, Process(**kwargs), start as created
"""Name your processes (SimpleQueue, keyword arguments)."""

from multiprocessing import current_process


def square(n, results):
    me = current_process()
    results.put((me.name, n * n))


def squares_by_name(ctx, numbers):
    """Square every number in its own process, named "square-<n>"; return {name: square}."""
    results = ctx.SimpleQueue()
    workers = []
    for n in numbers:
        options = {"target": square, "args": (n, results), "name": "square-%d" % n}
        worker = ctx.Process(**options)
        worker.start()
        workers.append(worker)
    pairs = [results.get() for _ in range(len(workers))]
    for worker in workers:
        worker.join()
    results.close()
    return {name: value for name, value in pairs}
