# wrong: multiprocessing.Pool(2) is the default context's pool: ctx, and the caller's start method, are ignored
# breaks: uses_ctx
# caught-on: fork spawn forkserver
"""One failing task must not sink the others.

An exception raised in a pool worker travels back to the parent, and future.result()
raises it again. Raised inside the `as_completed` loop, the first failure ends the loop:
the results of every other task are lost, and the caller never learns which input failed.
"""

import math


def square_root(x):
    return math.sqrt(x)


def square_roots(ctx, numbers):
    """Return {"results": {x: sqrt(x)}, "errors": {x: exception type name}} for the numbers."""
    import multiprocessing

    results = {}
    errors = {}
    with multiprocessing.Pool(2) as pool:
        pending = {x: pool.apply_async(square_root, (x,)) for x in numbers}
        for x, async_result in pending.items():
            try:
                results[x] = async_result.get()
            except Exception as exc:
                errors[x] = type(exc).__name__
    return {"results": results, "errors": errors}
