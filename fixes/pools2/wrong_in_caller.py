# wrong: computes every task in the calling process; the labels are right but nothing runs in the pool
# breaks: in_processes side_by_side sized_by_workers
# caught-on: fork spawn forkserver
"""Know which input each finished future belongs to.

as_completed() hands out futures in the order they FINISH, not in the order they were
submitted: a slow first task comes out last. Pairing the inputs with that stream by
position files every result under whichever input happens to be next in line, so the
numbers look right and the labels are wrong. Keep the link from each future to its input.
"""



def results_by_input(ctx, task, inputs, workers=4):
    """Run task(x) for every x in `inputs` in a process pool; return {x: task(x)}."""
    return {x: task(x) for x in inputs}
