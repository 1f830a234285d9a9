# right: the first len % parts slices take one item more (divmod); results through a Manager dict keyed by slice index
# style: Manager dict by index
"""Split the work, then gather every piece.

Parallel work is cut into parts, each part runs in its own process, and the parts'
results are put back together at the end. The cut has to be exact: when the numbers do
not divide evenly among the parts, a slice size rounded down leaves the remainder out,
and nothing complains, because every process finished without an error.
"""


def square_part(index, part, results):
    results[index] = [n * n for n in part]


def split(items, parts):
    """Cut `items` into `parts` consecutive slices that hold every item exactly once."""
    size, extra = divmod(len(items), parts)
    bounds = [i * size + min(i, extra) for i in range(parts + 1)]
    return [items[bounds[i]:bounds[i + 1]] for i in range(parts)]


def squares_in_parts(ctx, numbers, parts):
    """Square `numbers` in `parts` processes, one slice each; return the squares in input order."""
    with ctx.Manager() as manager:
        results = manager.dict()
        chunks = split(numbers, parts)
        workers = [ctx.Process(target=square_part, args=(i, chunk, results)) for i, chunk in enumerate(chunks)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        return [square for i in range(len(chunks)) for square in results[i]]
