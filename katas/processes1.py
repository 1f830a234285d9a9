"""Name your processes.

Unless you name it, a process is called something like "SpawnProcess-7", and the number
only counts how many processes this program started before it. Give each process a name
that says what it works on (`Process(name=...)`): the child reads it with
`current_process().name`, and a log line or a result can then be traced back to its
piece of work.
"""

from multiprocessing import current_process


def square(n, results):
    results.put((current_process().name, n * n))


def squares_by_name(ctx, numbers):
    """Square every number in its own process, named "square-<n>"; return {name: square}."""
    results = ctx.Queue()
    workers = []
    for n in numbers:
        # TODO: each process should be named "square-<n>", so its result can be told apart.
        workers.append(ctx.Process(target=square, args=(n, results)))
    for worker in workers:
        worker.start()
    # Drain the queue before joining: a child exits only once what it put is delivered.
    by_name = dict(results.get() for _ in workers)
    for worker in workers:
        worker.join()
    return by_name
