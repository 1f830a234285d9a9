# wrong: computes every square root in the calling process; the pool does nothing
# breaks: in_workers
# caught-on: fork spawn forkserver
"""One failing task must not sink the others.

An exception raised in a pool worker travels back to the parent, and future.result()
raises it again. Raised inside the `as_completed` loop, the first failure ends the loop:
the results of every other task are lost, and the caller never learns which input failed.
"""

import math
from concurrent.futures import ProcessPoolExecutor, as_completed


def square_root(x):
    return math.sqrt(x)


def square_roots(ctx, numbers):
    """Return {"results": {x: sqrt(x)}, "errors": {x: exception type name}} for the numbers."""
    results = {}
    errors = {}
    for x in numbers:
        try:
            results[x] = square_root(x)
        except Exception as exc:
            errors[x] = type(exc).__name__
    return {"results": results, "errors": errors}
