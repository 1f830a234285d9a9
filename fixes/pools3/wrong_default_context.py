# wrong: the pool ignores ctx and uses the default start method (fork on Linux before 3.14)
# breaks: uses_ctx
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
    with ProcessPoolExecutor(max_workers=2) as executor:
        future_to_number = {executor.submit(square_root, x): x for x in numbers}
        for future in as_completed(future_to_number):
            x = future_to_number[future]
            try:
                results[x] = future.result()
            except Exception as exc:
                errors[x] = type(exc).__name__
    return {"results": results, "errors": errors}
