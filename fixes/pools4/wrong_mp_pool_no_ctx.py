# wrong: multiprocessing.Pool is the default context's pool: ctx, and the caller's start method, are ignored
# breaks: in_processes
# caught-on: fork spawn forkserver
"""A timeout must not wait for the stragglers.

`as_completed(futures, timeout=...)` gives up by raising TimeoutError (on Python 3.10
concurrent.futures.TimeoutError, which is not the builtin one). The tasks that are still
running go on running, and leaving `with ProcessPoolExecutor(...)` calls shutdown(wait=True),
which waits for every one of them: the caller waits just as long as with no timeout at all.
"""

import multiprocessing
import time


def gather(ctx, fn, items, timeout):
    """Run fn(item) for every item in a pool of processes; give up after `timeout` seconds.

    Return {"results": {item: fn(item)}, "stragglers": [items not finished in time]}.
    """
    results = {}
    pool = multiprocessing.Pool(4)
    try:
        pending = {item: pool.apply_async(fn, (item,)) for item in items}
        deadline = time.monotonic() + timeout
        for item, async_result in pending.items():
            try:
                results[item] = async_result.get(max(0.0, deadline - time.monotonic()))
            except multiprocessing.TimeoutError:
                pass
    finally:
        pool.terminate()
    stragglers = [item for item in items if item not in results]
    return {"results": results, "stragglers": stragglers}
