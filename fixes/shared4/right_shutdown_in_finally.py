# right: starts the manager by hand and shuts it down in a finally; workers assign their list back once
# style: explicit start, shutdown in finally
"""A Manager's dict hands out copies of what is nested inside it.

A Manager keeps the real dict in its own process; `shared[key] = value` and `shared[key]`
travel there as messages. But `shared[key]` sends back a copy of a nested list, so
`shared[key].append(x)` changes only that copy: the manager's list never grows, no error
is raised, and the work of every process is silently lost.
"""


def collect(shared, job, numbers):
    squares = []
    for n in numbers:
        squares.append(n * n)
    shared[job] = squares


def squares_by_job(ctx, jobs):
    """jobs maps a job name to its numbers; square each job's numbers in its own process.

    Returns {job name: [squares, in order]}.
    """
    manager = ctx.Manager()
    try:
        shared = manager.dict({job: [] for job in jobs})
        workers = [ctx.Process(target=collect, args=(shared, job, numbers)) for job, numbers in jobs.items()]
        try:
            for worker in workers:
                worker.start()
        finally:
            for worker in workers:
                if worker.pid is not None:
                    worker.join()
        return dict(shared.items())
    finally:
        manager.shutdown()
