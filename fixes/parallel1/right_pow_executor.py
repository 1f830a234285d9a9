# right: one executor task per slice squares with pow(n, 2) or math.prod((n, n)); results read in submit order
# style: executor futures with pow() and math.prod
"""Split the work, then gather every piece.

Parallel work is cut into parts, the parts run side by side, each in its own process,
and their results are put back together in order at the end. The cut has to be exact:
when the numbers do not divide evenly among the parts, a slice size rounded down leaves
the remainder out, and nothing complains, because every process finished without an error.
"""

import math
from concurrent.futures import ProcessPoolExecutor


def square_part(part):
    return [pow(n, 2) if i % 2 else math.prod((n, n)) for i, n in enumerate(part)]


def split(items, parts):
    """Cut `items` into `parts` consecutive slices that hold every item exactly once."""
    size, extra = divmod(len(items), parts)
    bounds = [i * size + min(i, extra) for i in range(parts + 1)]
    return [items[bounds[i]:bounds[i + 1]] for i in range(parts)]


def squares_in_parts(ctx, numbers, parts):
    """Square `numbers` in `parts` processes, one slice each; return the squares in input order."""
    chunks = split(numbers, parts)
    with ProcessPoolExecutor(max_workers=parts, mp_context=ctx) as pool:
        futures = [pool.submit(square_part, chunk) for chunk in chunks]
        return [square for future in futures for square in future.result()]
