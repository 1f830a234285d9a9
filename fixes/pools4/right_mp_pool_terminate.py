# right: a multiprocessing Pool from ctx, one deadline for all AsyncResults, then terminate(): nothing queued starts, nobody waits
# style: ctx.Pool apply_async with terminate()
"""A timeout must not wait for the stragglers.

`as_completed(futures, timeout=...)` gives up by raising TimeoutError (on Python 3.10
concurrent.futures.TimeoutError, which is not the builtin one). The tasks that are still
running go on running, and leaving `with ProcessPoolExecutor(...)` calls shutdown(wait=True),
which waits for every one of them: the caller waits just as long as with no timeout at all.
"""

import time


def gather(ctx, fn, items, timeout):
    """Run fn(item) for every item in a pool of processes; give up after `timeout` seconds.

    Return {"results": {item: fn(item)}, "stragglers": [items not finished in time]}.
    """
    pool = ctx.Pool(processes=4)
    try:
        pending = [(item, pool.apply_async(fn, (item,))) for item in items]
        deadline = time.monotonic() + timeout
        results = {}
        stragglers = []
        for item, async_result in pending:
            async_result.wait(max(0.0, deadline - time.monotonic()))
            if async_result.ready():
                results[item] = async_result.get()
            else:
                stragglers.append(item)
    finally:
        # terminate() stops the workers (stragglers included) instead of waiting for them.
        pool.terminate()
        pool.join()
    return {"results": results, "stragglers": stragglers}
