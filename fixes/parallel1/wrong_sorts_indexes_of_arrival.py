# wrong: sorts the list of (index, squares) pairs by the squares, not by the index: the merge follows the values
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
    pieces = [results.get() for _ in workers]
    for worker in workers:
        worker.join()
    pieces.sort(key=lambda piece: piece[1])
    return [square for _index, squares in pieces for square in squares]
