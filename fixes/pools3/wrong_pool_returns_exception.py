# wrong: ctx.Pool runs a wrapper that returns the exception instead of raising it; AsyncResult.get() hands it over as a value
# breaks: caught_in_caller
# caught-on: fork spawn forkserver
"""One failing task must not sink the others.

An exception raised in a pool worker travels back to the parent, and future.result()
raises it again. Raised inside the `as_completed` loop, the first failure ends the loop:
the results of every other task are lost, and the caller never learns which input failed.
"""

import math


def square_root(x):
    return math.sqrt(x)


def guarded(x):
    try:
        return square_root(x)
    except Exception as exc:
        return exc


def square_roots(ctx, numbers):
    """Return {"results": {x: sqrt(x)}, "errors": {x: exception type name}} for the numbers."""
    results = {}
    errors = {}
    with ctx.Pool(2) as pool:
        pending = {x: pool.apply_async(guarded, (x,)) for x in numbers}
        for x, async_result in pending.items():
            value = async_result.get()
            if isinstance(value, Exception):
                errors[x] = type(value).__name__
            else:
                results[x] = value
    return {"results": results, "errors": errors}
