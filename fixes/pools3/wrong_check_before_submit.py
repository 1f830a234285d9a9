# wrong: predicts ValueError and TypeError in the caller and never sends those numbers to the pool; an OverflowError it did not predict escapes
# breaks: in_workers returns
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
    good = []
    for x in numbers:
        if isinstance(x, bool) or not isinstance(x, (int, float)):
            errors[x] = "TypeError"
        elif x < 0:
            errors[x] = "ValueError"
        else:
            good.append(x)
    with ProcessPoolExecutor(max_workers=2, mp_context=ctx) as executor:
        future_to_number = {executor.submit(square_root, x): x for x in good}
        for future in as_completed(future_to_number):
            results[future_to_number[future]] = future.result()
    return {"results": results, "errors": errors}
