# wrong: Pool.imap_unordered over the slices: the pieces come back as the parts finish and are joined so
# breaks: merged_in_order
# caught-on: fork spawn forkserver
"""Split the work, then gather every piece.

Parallel work is cut into parts, the parts run side by side, each in its own process,
and their results are put back together in order at the end. The cut has to be exact:
when the numbers do not divide evenly among the parts, a slice size rounded down leaves
the remainder out, and nothing complains, because every process finished without an error.
"""


def square_part(part):
    return [n * n for n in part]


def split(items, parts):
    """Cut `items` into `parts` consecutive slices that hold every item exactly once."""
    size, extra = divmod(len(items), parts)
    bounds = [i * size + min(i, extra) for i in range(parts + 1)]
    return [items[bounds[i]:bounds[i + 1]] for i in range(parts)]


def squares_in_parts(ctx, numbers, parts):
    """Square `numbers` in `parts` processes, one slice each; return the squares in input order."""
    with ctx.Pool(parts) as pool:
        pieces = list(pool.imap_unordered(square_part, split(numbers, parts)))
    return [square for piece in pieces for square in piece]
