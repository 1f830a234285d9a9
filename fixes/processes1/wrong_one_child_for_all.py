# wrong: one child squares every number, renaming itself for each one
# breaks: own_child name_read_in_child
# caught-on: fork spawn forkserver
"""Name your processes."""

from multiprocessing import current_process


def square_all(numbers, results):
    for n in numbers:
        current_process().name = f"square-{n}"
        results.put((current_process().name, n * n))


def squares_by_name(ctx, numbers):
    """Square every number in its own process, named "square-<n>"; return {name: square}."""
    results = ctx.Queue()
    worker = ctx.Process(target=square_all, args=(list(numbers), results), name="squares")
    worker.start()
    by_name = dict(results.get() for _ in numbers)
    worker.join()
    return by_name
