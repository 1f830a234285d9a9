# right: each worker sends back (input, result), so the label travels with the value
# style: ctx.Pool imap_unordered with labelled results
"""Know which input each finished future belongs to.

as_completed() hands out futures in the order they FINISH, not in the order they were
submitted: a slow first task comes out last. Pairing the inputs with that stream by
position files every result under whichever input happens to be next in line, so the
numbers look right and the labels are wrong. Keep the link from each future to its input.
"""

import functools


def _labelled(task, x):
    return x, task(x)


def results_by_input(ctx, task, inputs, workers=4):
    """Run task(x) for every x in `inputs` in a process pool; return {x: task(x)}."""
    results = {}
    with ctx.Pool(processes=workers) as pool:
        for x, value in pool.imap_unordered(functools.partial(_labelled, task), inputs):
            results[x] = value
    return results
