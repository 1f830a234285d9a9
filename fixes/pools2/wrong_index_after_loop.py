# wrong: collects the values as they finish, then labels them by submission position
# breaks: labelled
# caught-on: fork spawn forkserver
"""Know which input each finished future belongs to.

as_completed() hands out futures in the order they FINISH, not in the order they were
submitted: a slow first task comes out last. Pairing the inputs with that stream by
position files every result under whichever input happens to be next in line, so the
numbers look right and the labels are wrong. Keep the link from each future to its input.
"""

from concurrent.futures import ProcessPoolExecutor, as_completed


def results_by_input(ctx, task, inputs, workers=4):
    """Run task(x) for every x in `inputs` in a process pool; return {x: task(x)}."""
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as executor:
        futures = [executor.submit(task, x) for x in inputs]
        values = [future.result() for future in as_completed(futures)]
    return {x: values[i] for i, x in enumerate(inputs)}
