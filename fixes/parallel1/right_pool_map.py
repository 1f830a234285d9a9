# right: bound i is i * len // parts, so the slices differ by at most one; a Pool of parts workers maps the slices in order
# style: proportional bounds, ctx.Pool map
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
    bounds = [i * len(items) // parts for i in range(parts + 1)]
    return [items[a:b] for a, b in zip(bounds, bounds[1:])]


def squares_in_parts(ctx, numbers, parts):
    """Square `numbers` in `parts` processes, one slice each; return the squares in input order."""
    with ctx.Pool(parts) as pool:
        pieces = pool.map(square_slice, split(numbers, parts), chunksize=1)
    return [square for piece in pieces for square in piece]
