# right: each future's callback knows its own input, so the label cannot be mixed up
# style: add_done_callback with the input bound
"""Know which input each finished future belongs to.

as_completed() hands out futures in the order they FINISH, not in the order they were
submitted: a slow first task comes out last. Pairing the inputs with that stream by
position files every result under whichever input happens to be next in line, so the
numbers look right and the labels are wrong. Keep the link from each future to its input.
"""

import functools
from concurrent.futures import ProcessPoolExecutor, wait


def _store(results, x, future):
    results[x] = future.result()


def results_by_input(ctx, task, inputs, workers=4):
    """Run task(x) for every x in `inputs` in a process pool; return {x: task(x)}."""
    results = {}
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as executor:
        futures = []
        for x in inputs:
            future = executor.submit(task, x)
            future.add_done_callback(functools.partial(_store, results, x))
            futures.append(future)
        wait(futures)
    return results
