# right: each future callback (run in the caller) files its outcome under its own number
# style: add_done_callback
"""One failing task must not sink the others.

An exception raised in a pool worker travels back to the parent, and future.result()
raises it again. Raised inside the `as_completed` loop, the first failure ends the loop:
the results of every other task are lost, and the caller never learns which input failed.
"""

import math


def square_root(x):
    return math.sqrt(x)

import functools
from concurrent.futures import ProcessPoolExecutor


def _file(results, errors, x, future):
    exc = future.exception()
    if exc is None:
        results[x] = future.result()
    else:
        errors[x] = type(exc).__name__


def square_roots(ctx, numbers):
    """Return {"results": {x: sqrt(x)}, "errors": {x: exception type name}} for the numbers."""
    results = {}
    errors = {}
    with ProcessPoolExecutor(max_workers=2, mp_context=ctx) as executor:
        for x in numbers:
            executor.submit(square_root, x).add_done_callback(functools.partial(_file, results, errors, x))
    return {"results": results, "errors": errors}
