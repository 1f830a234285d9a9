# wrong: the parent builds the "square-<n>" keys from the numbers; no process is ever named
# breaks: name_read_in_child
# caught-on: fork spawn forkserver
"""Name your processes."""


def square(n, results):
    results.put((n, n * n))


def squares_by_name(ctx, numbers):
    """Square every number in its own process, named "square-<n>"; return {name: square}."""
    results = ctx.Queue()
    workers = []
    for n in numbers:
        workers.append(ctx.Process(target=square, args=(n, results)))
    for worker in workers:
        worker.start()
    by_name = {}
    for _ in workers:
        n, value = results.get()
        by_name[f"square-{n}"] = value
    for worker in workers:
        worker.join()
    return by_name
