# wrong: ctx.Pool() with no size: the pool is as big as the machine has CPUs, not `workers`
# breaks: sized_by_workers side_by_side
# caught-on: fork spawn forkserver
"""Know which input each finished future belongs to.

as_completed() hands out futures in the order they FINISH, not in the order they were
submitted: a slow first task comes out last. Pairing the inputs with that stream by
position files every result under whichever input happens to be next in line, so the
numbers look right and the labels are wrong. Keep the link from each future to its input.
"""


def results_by_input(ctx, task, inputs, workers=4):
    """Run task(x) for every x in `inputs` in a pool of `workers` processes made from ctx;
    return {x: task(x)}."""
    pool = ctx.Pool()
    try:
        pending = {x: pool.apply_async(task, (x,)) for x in inputs}
        results = {x: r.get() for x, r in pending.items()}
    finally:
        pool.close()
        pool.join()
    return results
