# wrong: gives as_completed twice the timeout "so that slow items get a fair chance": the wait is bounded, but by 2 x timeout
# breaks: bounded_total
# caught-on: fork spawn forkserver
"""A timeout must not wait for the stragglers.

`as_completed(futures, timeout=...)` gives up by raising TimeoutError (on Python 3.10
concurrent.futures.TimeoutError, which is not the builtin one). The tasks that are still
running go on running, and leaving `with ProcessPoolExecutor(...)` calls shutdown(wait=True),
which waits for every one of them: the caller waits just as long as with no timeout at all.
"""

import concurrent.futures
from concurrent.futures import ProcessPoolExecutor, as_completed


def gather(ctx, fn, items, timeout):
    """Run fn(item) for every item in a pool of processes; give up after `timeout` seconds.

    Return {"results": {item: fn(item)}, "stragglers": [items not finished in time]}.
    """
    results = {}
    executor = ProcessPoolExecutor(max_workers=4, mp_context=ctx)
    future_to_item = {}
    try:
        future_to_item = {executor.submit(fn, item): item for item in items}
        try:
            for future in as_completed(future_to_item, timeout=2 * timeout):
                results[future_to_item[future]] = future.result()
        except concurrent.futures.TimeoutError:
            pass
    finally:
        for future in future_to_item:
            future.cancel()
        executor.shutdown(wait=False, cancel_futures=True)
    stragglers = [item for item in items if item not in results]
    return {"results": results, "stragglers": stragglers}
