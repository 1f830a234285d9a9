"""A timeout must not wait for the stragglers.

`as_completed(futures, timeout=...)` gives up by raising TimeoutError (on Python 3.10
concurrent.futures.TimeoutError, which is not the builtin one). The tasks that are still
running go on running, and leaving `with ProcessPoolExecutor(...)` calls shutdown(wait=True),
which waits for every one of them: the caller waits just as long as with no timeout at all.
"""

from concurrent.futures import ProcessPoolExecutor, as_completed


def gather(ctx, fn, items, timeout):
    """Run fn(item) for every item in a pool made from ctx; give up after `timeout` seconds in all.

    Return {"results": {item: fn(item)}, "stragglers": [items not finished in time]}.
    """
    results = {}
    with ProcessPoolExecutor(max_workers=4, mp_context=ctx) as executor:
        future_to_item = {executor.submit(fn, item): item for item in items}
        # TODO: when the timeout strikes, report what is unfinished and leave without waiting for it.
        for future in as_completed(future_to_item, timeout=timeout):
            results[future_to_item[future]] = future.result()
    stragglers = [item for item in items if item not in results]
    return {"results": results, "stragglers": stragglers}
