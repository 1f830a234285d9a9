# wrong: a pool sized by the machine (ctx.Pool() with no size), not by parts: the slices share however many workers there are
# breaks: one_process_per_part side_by_side
# caught-on: fork spawn forkserver
"""Split the work, then gather every piece.

Parallel work is cut into parts, each part runs in its own process, and the parts'
results are put back together at the end. The cut has to be exact: when the numbers do
not divide evenly among the parts, a slice size rounded down leaves the remainder out,
and nothing complains, because every process finished without an error.
"""

def square_slice(part):
    return [n * n for n in part]

def split(items, parts):
    """Cut `items` into `parts` consecutive slices that hold every item exactly once."""
    size, extra = divmod(len(items), parts)
    bounds = [i * size + min(i, extra) for i in range(parts + 1)]
    return [items[bounds[i]:bounds[i + 1]] for i in range(parts)]


def squares_in_parts(ctx, numbers, parts):
    """Square `numbers` in `parts` processes, one slice each; return the squares in input order."""
    with ctx.Pool() as pool:
        pieces = pool.map(square_slice, split(numbers, parts))
    return [square for piece in pieces for square in piece]
