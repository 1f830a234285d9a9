# right: a Pool of parts workers, each worker replaced after one task; apply_async per slice, results read in slice order
# style: Pool apply_async, maxtasksperchild=1
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
    slices = []
    for i in range(parts):
        start = i * size + min(i, extra)
        slices.append(items[start:start + size + (i < extra)])
    return slices


def squares_in_parts(ctx, numbers, parts):
    """Square `numbers` in `parts` processes, one slice each; return the squares in input order."""
    with ctx.Pool(processes=parts, maxtasksperchild=1) as pool:
        pending = [pool.apply_async(square_slice, (chunk,)) for chunk in split(numbers, parts)]
        merged = []
        for result in pending:
            merged.extend(result.get())
        pool.close()
        pool.join()
    return merged
