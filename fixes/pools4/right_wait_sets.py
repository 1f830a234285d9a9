# right: concurrent.futures.wait(timeout=) splits done / not_done with one deadline and never raises; the pool is shut down without waiting
# style: wait() with done and not_done sets
"""A timeout must not wait for the stragglers.

`as_completed(futures, timeout=...)` gives up by raising TimeoutError (on Python 3.10
concurrent.futures.TimeoutError, which is not the builtin one). The tasks that are still
running go on running, and leaving `with ProcessPoolExecutor(...)` calls shutdown(wait=True),
which waits for every one of them: the caller waits just as long as with no timeout at all.
"""

from concurrent.futures import ProcessPoolExecutor, wait


def gather(ctx, fn, items, timeout):
    """Run fn(item) for every item in a pool of processes; give up after `timeout` seconds.

    Return {"results": {item: fn(item)}, "stragglers": [items not finished in time]}.
    """
    executor = ProcessPoolExecutor(max_workers=4, mp_context=ctx)
    try:
        futures = {item: executor.submit(fn, item) for item in items}
        done, not_done = wait(futures.values(), timeout=timeout)
    finally:
        executor.shutdown(wait=False, cancel_futures=True)
    results = {item: f.result() for item, f in futures.items() if f in done}
    stragglers = [item for item, f in futures.items() if f in not_done]
    return {"results": results, "stragglers": stragglers}
