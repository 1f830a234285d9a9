# wrong: drops the Manager for a Queue: right numbers, but the kata's lesson (a Manager dict) is gone
# breaks: via_manager
# caught-on: fork spawn forkserver
"""A Manager's dict hands out copies of what is nested inside it.

A Manager keeps the real dict in its own process; `shared[key] = value` and `shared[key]`
travel there as messages. But `shared[key]` sends back a copy of a nested list, so
`shared[key].append(x)` changes only that copy: the manager's list never grows, no error
is raised, and the work of every process is silently lost.
"""


def collect(results, job, numbers):
    results.put((job, [n * n for n in numbers]))


def squares_by_job(ctx, jobs):
    """jobs maps a job name to its numbers; square each job's numbers in its own process.

    Returns {job name: [squares, in order]}.
    """
    results = ctx.Queue()
    workers = [ctx.Process(target=collect, args=(results, job, numbers)) for job, numbers in jobs.items()]
    for worker in workers:
        worker.start()
    got = dict(results.get() for _ in workers)
    for worker in workers:
        worker.join()
    return {job: got[job] for job in jobs}
