# wrong: reports as stragglers only the futures still running at the timeout: the items that never left the queue vanish from the report
# breaks: stragglers_reported
# caught-on: fork spawn forkserver
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
        future_to_item = {executor.submit(fn, item): item for item in items}
        done, not_done = wait(future_to_item, timeout=timeout)
        stragglers = [future_to_item[f] for f in not_done if f.running()]
    finally:
        executor.shutdown(wait=False, cancel_futures=True)
    results = {future_to_item[f]: f.result() for f in done}
    return {"results": results, "stragglers": stragglers}
