# wrong: the worker returns (ok, value-or-exception) pairs: failures arrive as values, and the caller re-raises them itself
# breaks: caught_in_caller
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


def outcome(x):
    try:
        return True, square_root(x)
    except Exception as exc:
        return False, exc


def square_roots(ctx, numbers):
    """Return {"results": {x: sqrt(x)}, "errors": {x: exception type name}} for the numbers."""
    results = {}
    errors = {}
    with ProcessPoolExecutor(max_workers=2, mp_context=ctx) as executor:
        future_to_number = {executor.submit(outcome, x): x for x in numbers}
        for future in as_completed(future_to_number):
            x = future_to_number[future]
            ok, value = future.result()
            try:
                if not ok:
                    raise value
                results[x] = value
            except Exception as exc:
                errors[x] = type(exc).__name__
    return {"results": results, "errors": errors}
