# right: ProcessPoolExecutor(workers, ctx) positionally, executor.map keeps the input order
# style: executor.map with positional arguments, shutdown in finally
"""Know which input each finished future belongs to.

as_completed() hands out futures in the order they FINISH, not in the order they were
submitted: a slow first task comes out last. Pairing the inputs with that stream by
position files every result under whichever input happens to be next in line, so the
numbers look right and the labels are wrong. Keep the link from each future to its input.
"""

from concurrent.futures import ProcessPoolExecutor


def results_by_input(ctx, task, inputs, workers=4):
    """Run task(x) for every x in `inputs` in a pool of `workers` processes made from ctx;
    return {x: task(x)}."""
    inputs = list(inputs)
    executor = ProcessPoolExecutor(workers, ctx)
    try:
        return {x: value for x, value in zip(inputs, executor.map(task, inputs))}
    finally:
        executor.shutdown()
