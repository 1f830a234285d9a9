# wrong: named processes, but the parent pairs each result with a worker's name by position, as if results arrived in start order
# breaks: by_name
# caught-on: fork spawn forkserver
"""Name your processes."""


def square(n, results):
    results.put(n * n)


def squares_by_name(ctx, numbers):
    """Square every number in its own process, named "square-<n>"; return {name: square}."""
    results = ctx.Queue()
    workers = []
    for n in numbers:
        workers.append(ctx.Process(target=square, args=(n, results), name=f"square-{n}"))
    for worker in workers:
        worker.start()
    by_name = {}
    for worker in workers:
        by_name[worker.name] = results.get()
    for worker in workers:
        worker.join()
    return by_name
