# right: ctx.Pool(processes=workers).map returns the results in the order of the inputs, so zip labels them right
# style: ctx.Pool map in a with block
"""Know which input each finished future belongs to.

as_completed() hands out futures in the order they FINISH, not in the order they were
submitted: a slow first task comes out last. Pairing the inputs with that stream by
position files every result under whichever input happens to be next in line, so the
numbers look right and the labels are wrong. Keep the link from each future to its input.
"""


def results_by_input(ctx, task, inputs, workers=4):
    """Run task(x) for every x in `inputs` in a pool of `workers` processes made from ctx;
    return {x: task(x)}."""
    inputs = list(inputs)
    with ctx.Pool(processes=workers) as pool:
        values = pool.map(task, inputs, chunksize=1)
    return dict(zip(inputs, values))
