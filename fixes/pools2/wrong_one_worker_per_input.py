# wrong: one worker per input so that nothing ever queues: the pool ignores `workers`
# breaks: sized_by_workers
# caught-on: fork spawn forkserver
"""Know which input each finished future belongs to.

as_completed() hands out futures in the order they FINISH, not in the order they were
submitted: a slow first task comes out last. Pairing the inputs with that stream by
position files every result under whichever input happens to be next in line, so the
numbers look right and the labels are wrong. Keep the link from each future to its input.
"""

from concurrent.futures import ProcessPoolExecutor, as_completed


def results_by_input(ctx, task, inputs, workers=4):
    """Run task(x) for every x in `inputs` in a pool of `workers` processes made from ctx;
    return {x: task(x)}."""
    results = {}
    with ProcessPoolExecutor(max_workers=len(inputs), mp_context=ctx) as executor:
        future_to_input = {executor.submit(task, x): x for x in inputs}
        for future in as_completed(future_to_input):
            results[future_to_input[future]] = future.result()
    return results
