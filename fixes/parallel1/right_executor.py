# right: sizes from divmod, a running start; a ProcessPoolExecutor of parts workers, futures read in slice order
# style: running offsets, ProcessPoolExecutor
"""Split the work, then gather every piece.

Parallel work is cut into parts, each part runs in its own process, and the parts'
results are put back together at the end. The cut has to be exact: when the numbers do
not divide evenly among the parts, a slice size rounded down leaves the remainder out,
and nothing complains, because every process finished without an error.
"""

from concurrent.futures import ProcessPoolExecutor


def square_slice(part):
    return [n * n for n in part]


def split(items, parts):
    """Cut `items` into `parts` consecutive slices that hold every item exactly once."""
    size, extra = divmod(len(items), parts)
    slices, start = [], 0
    for i in range(parts):
        end = start + size + (1 if i < extra else 0)
        slices.append(items[start:end])
        start = end
    return slices


def squares_in_parts(ctx, numbers, parts):
    """Square `numbers` in `parts` processes, one slice each; return the squares in input order."""
    with ProcessPoolExecutor(max_workers=parts, mp_context=ctx) as pool:
        futures = [pool.submit(square_slice, chunk) for chunk in split(numbers, parts)]
        return [square for future in futures for square in future.result()]
