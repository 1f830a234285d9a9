# wrong: ctx.Pool with AsyncResult.get(timeout) for each item: every late item costs a whole timeout of its own
# breaks: bounded_total
# caught-on: fork spawn forkserver
"""A timeout must not wait for the stragglers.

`as_completed(futures, timeout=...)` gives up by raising TimeoutError (on Python 3.10
concurrent.futures.TimeoutError, which is not the builtin one). The tasks that are still
running go on running, and leaving `with ProcessPoolExecutor(...)` calls shutdown(wait=True),
which waits for every one of them: the caller waits just as long as with no timeout at all.
"""

import multiprocessing


def gather(ctx, fn, items, timeout):
    """Run fn(item) for every item in a pool of processes; give up after `timeout` seconds.

    Return {"results": {item: fn(item)}, "stragglers": [items not finished in time]}.
    """
    results = {}
    pool = ctx.Pool(4)
    try:
        pending = {item: pool.apply_async(fn, (item,)) for item in items}
        for item, async_result in pending.items():
            try:
                results[item] = async_result.get(timeout)
            except multiprocessing.TimeoutError:
                pass
    finally:
        pool.terminate()
    stragglers = [item for item in items if item not in results]
    return {"results": results, "stragglers": stragglers}
