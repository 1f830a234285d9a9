# wrong: shuts down without waiting but never catches the timeout: gather raises instead of returning its report
# breaks: timeout_caught
# caught-on: fork spawn forkserver
"""A timeout must not wait for the stragglers.

`as_completed(futures, timeout=...)` gives up by raising TimeoutError (on Python 3.10
concurrent.futures.TimeoutError, which is not the builtin one). The tasks that are still
running go on running, and leaving `with ProcessPoolExecutor(...)` calls shutdown(wait=True),
which waits for every one of them: the caller waits just as long as with no timeout at all.
"""

from concurrent.futures import ProcessPoolExecutor, as_completed


def gather(ctx, fn, items, timeout):
    """Run fn(item) for every item in a pool of processes; give up after `timeout` seconds.

    Return {"results": {item: fn(item)}, "stragglers": [items not finished in time]}.
    """
    results = {}
    executor = ProcessPoolExecutor(max_workers=4, mp_context=ctx)
    try:
        future_to_item = {executor.submit(fn, item): item for item in items}
        for future in as_completed(future_to_item, timeout=timeout):
            results[future_to_item[future]] = future.result()
    finally:
        executor.shutdown(wait=False, cancel_futures=True)
    stragglers = [item for item in items if item not in results]
    return {"results": results, "stragglers": stragglers}
