# wrong: the parts' results are merged in the order they come off the Queue, not by slice index
# breaks: merged_in_order
# caught-on: fork spawn forkserver
"""Split the work, then gather every piece.

Parallel work is cut into parts, the parts run side by side, each in its own process,
and their results are put back together in order at the end. The cut has to be exact:
when the numbers do not divide evenly among the parts, a slice size rounded down leaves
the remainder out, and nothing complains, because every process finished without an error.
"""


def square_part(index, part, results):
    results.put((index, [n * n for n in part]))


def split(items, parts):
    """Cut `items` into `parts` consecutive slices that hold every item exactly once."""
    size, extra = divmod(len(items), parts)
    bounds = [i * size + min(i, extra) for i in range(parts + 1)]
    return [items[bounds[i]:bounds[i + 1]] for i in range(parts)]


def squares_in_parts(ctx, numbers, parts):
    """Square `numbers` in `parts` processes, one slice each; return the squares in input order."""
    chunks = split(numbers, parts)
    results = ctx.Queue()
    workers = [ctx.Process(target=square_part, args=(i, chunk, results)) for i, chunk in enumerate(chunks)]
    for worker in workers:
        worker.start()
    merged = []
    for _ in workers:
        _index, squares = results.get()
        merged.extend(squares)
    for worker in workers:
        worker.join()
    return merged
