# wrong: the child writes "square-<n>" itself; the processes keep their default names
# breaks: name_read_in_child
# caught-on: fork spawn forkserver
"""Name your processes."""


def square(n, results):
    results.put((f"square-{n}", n * n))


def squares_by_name(ctx, numbers):
    """Square every number in its own process, named "square-<n>"; return {name: square}."""
    results = ctx.Queue()
    workers = []
    for n in numbers:
        workers.append(ctx.Process(target=square, args=(n, results)))
    for worker in workers:
        worker.start()
    by_name = dict(results.get() for _ in workers)
    for worker in workers:
        worker.join()
    return by_name
