# right: one deadline; wait(FIRST_COMPLETED) gets only the time left each round, so the rounds cannot add up
# style: wait(return_when=FIRST_COMPLETED) loop against a monotonic deadline
"""A timeout must not wait for the stragglers.

`as_completed(futures, timeout=...)` gives up by raising TimeoutError (on Python 3.10
concurrent.futures.TimeoutError, which is not the builtin one). The tasks that are still
running go on running, and leaving `with ProcessPoolExecutor(...)` calls shutdown(wait=True),
which waits for every one of them: the caller waits just as long as with no timeout at all.
"""

import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait


def gather(ctx, fn, items, timeout):
    """Run fn(item) for every item in a pool of processes; give up after `timeout` seconds.

    Return {"results": {item: fn(item)}, "stragglers": [items not finished in time]}.
    """
    results = {}
    executor = ProcessPoolExecutor(max_workers=4, mp_context=ctx)
    future_to_item = {}
    try:
        future_to_item = {executor.submit(fn, item): item for item in items}
        deadline = time.monotonic() + timeout
        pending = set(future_to_item)
        while pending:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            done, pending = wait(pending, timeout=left, return_when=FIRST_COMPLETED)
            for future in done:
                results[future_to_item[future]] = future.result()
    finally:
        for future in future_to_item:
            future.cancel()
        executor.shutdown(wait=False, cancel_futures=True)
    stragglers = [item for item in items if item not in results]
    return {"results": results, "stragglers": stragglers}
