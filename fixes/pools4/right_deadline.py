# right: one deadline computed up front; each future gets only the time that is left, so the waits cannot add up
# style: time.monotonic deadline, future.result(timeout=remaining) in submission order
"""A timeout must not wait for the stragglers.

`as_completed(futures, timeout=...)` gives up by raising TimeoutError (on Python 3.10
concurrent.futures.TimeoutError, which is not the builtin one). The tasks that are still
running go on running, and leaving `with ProcessPoolExecutor(...)` calls shutdown(wait=True),
which waits for every one of them: the caller waits just as long as with no timeout at all.
"""

import concurrent.futures
import time
from concurrent.futures import ProcessPoolExecutor


def gather(ctx, fn, items, timeout):
    """Run fn(item) for every item in a pool of processes; give up after `timeout` seconds.

    Return {"results": {item: fn(item)}, "stragglers": [items not finished in time]}.
    """
    results = {}
    stragglers = []
    executor = ProcessPoolExecutor(max_workers=4, mp_context=ctx)
    try:
        futures = [(item, executor.submit(fn, item)) for item in items]
        deadline = time.monotonic() + timeout
        for item, future in futures:
            remaining = max(0.0, deadline - time.monotonic())
            try:
                results[item] = future.result(timeout=remaining)
            except concurrent.futures.TimeoutError:
                stragglers.append(item)
    finally:
        executor.shutdown(wait=False, cancel_futures=True)
    return {"results": results, "stragglers": stragglers}
