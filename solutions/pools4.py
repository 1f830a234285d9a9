"""A timeout must not wait for the stragglers.

`as_completed(futures, timeout=...)` gives up by raising TimeoutError (on Python 3.10
concurrent.futures.TimeoutError, which is not the builtin one). The tasks that are still
running go on running, and leaving `with ProcessPoolExecutor(...)` calls shutdown(wait=True),
which waits for every one of them: the caller waits just as long as with no timeout at all.
"""

import concurrent.futures
from concurrent.futures import ProcessPoolExecutor, as_completed


def gather(ctx, fn, items, timeout):
    """Run fn(item) for every item in a pool made from ctx; give up after `timeout` seconds in all.

    Return {"results": {item: fn(item)}, "stragglers": [items not finished in time]}.
    """
    results = {}
    # No `with`: its exit is shutdown(wait=True), which would wait for the stragglers.
    executor = ProcessPoolExecutor(max_workers=4, mp_context=ctx)
    future_to_item = {}
    try:
        future_to_item = {executor.submit(fn, item): item for item in items}
        try:
            for future in as_completed(future_to_item, timeout=timeout):
                results[future_to_item[future]] = future.result()
        except concurrent.futures.TimeoutError:
            # concurrent.futures.TimeoutError, not the builtin: they are one class only
            # from Python 3.11 on. Whatever is not in `results` is reported below.
            pass
    finally:
        # Leave without waiting. cancel_futures=True cancels what is still queued, but
        # the pool's thread reads it only when it next wakes up, and forgets it if this
        # executor has been garbage-collected by then (this function returns at once),
        # so cancel the futures here too: that takes effect immediately. A task already
        # running cannot be stopped (3.14 adds terminate_workers()); its worker finishes
        # in the background and the pool's own thread then shuts the workers down.
        for future in future_to_item:
            future.cancel()
        executor.shutdown(wait=False, cancel_futures=True)
    stragglers = [item for item in items if item not in results]
    return {"results": results, "stragglers": stragglers}
