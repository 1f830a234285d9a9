# right: future.exception() hands back the worker exception without raising it
# style: future.exception()
"""One failing task must not sink the others.

An exception raised in a pool worker travels back to the parent, and future.result()
raises it again. Raised inside the `as_completed` loop, the first failure ends the loop:
the results of every other task are lost, and the caller never learns which input failed.
"""

import math


def square_root(x):
    return math.sqrt(x)

from concurrent.futures import ProcessPoolExecutor, as_completed


def square_roots(ctx, numbers):
    """Return {"results": {x: sqrt(x)}, "errors": {x: exception type name}} for the numbers."""
    results = {}
    errors = {}
    with ProcessPoolExecutor(max_workers=2, mp_context=ctx) as executor:
        future_to_number = {executor.submit(square_root, x): x for x in numbers}
        for future in as_completed(future_to_number):
            x = future_to_number[future]
            exc = future.exception()
            if exc is None:
                results[x] = future.result()
            else:
                errors[x] = type(exc).__name__
    return {"results": results, "errors": errors}
