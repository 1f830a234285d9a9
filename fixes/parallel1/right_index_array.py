# right: a shared Array of slots; each part writes operator.index(n) ** 2 at its items' positions
# style: shared Array with operator.index
"""Split the work, then gather every piece.

Parallel work is cut into parts, the parts run side by side, each in its own process,
and their results are put back together in order at the end. The cut has to be exact:
when the numbers do not divide evenly among the parts, a slice size rounded down leaves
the remainder out, and nothing complains, because every process finished without an error.
"""


import operator


def square_part(start, part, shared):
    for offset, n in enumerate(part):
        shared[start + offset] = operator.index(n) ** 2


def split(items, parts):
    """Cut `items` into `parts` consecutive slices that hold every item exactly once."""
    size, extra = divmod(len(items), parts)
    bounds = [i * size + min(i, extra) for i in range(parts + 1)]
    return [items[bounds[i]:bounds[i + 1]] for i in range(parts)]


def squares_in_parts(ctx, numbers, parts):
    """Square `numbers` in `parts` processes, one slice each; return the squares in input order."""
    shared = ctx.Array("q", len(numbers), lock=False)
    workers, start = [], 0
    for chunk in split(numbers, parts):
        workers.append(ctx.Process(target=square_part, args=(start, chunk, shared)))
        start += len(chunk)
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return shared[:]
