# right: wait for every future, then read each one, catching its exception separately
# style: wait() then a try per future
"""One failing task must not sink the others.

An exception raised in a pool worker travels back to the parent, and future.result()
raises it again. Raised inside the `as_completed` loop, the first failure ends the loop:
the results of every other task are lost, and the caller never learns which input failed.
"""

import math


def square_root(x):
    return math.sqrt(x)

from concurrent.futures import ALL_COMPLETED, ProcessPoolExecutor, wait


def square_roots(ctx, numbers):
    """Return {"results": {x: sqrt(x)}, "errors": {x: exception type name}} for the numbers."""
    results = {}
    errors = {}
    with ProcessPoolExecutor(max_workers=2, mp_context=ctx) as executor:
        futures = {x: executor.submit(square_root, x) for x in numbers}
        wait(futures.values(), return_when=ALL_COMPLETED)
    for x, future in futures.items():
        try:
            results[x] = future.result()
        except Exception as exc:
            errors[x] = type(exc).__name__
    return {"results": results, "errors": errors}
