"""A Manager's dict hands out copies of what is nested inside it.

A Manager keeps the real dict in its own process; `shared[key] = value` and `shared[key]`
travel there as messages. But `shared[key]` sends back a copy of a nested list, so
`shared[key].append(x)` changes only that copy: the manager's list never grows, no error
is raised, and the work of every process is silently lost.
"""


def collect(shared, job, numbers):
    for n in numbers:
        # shared[job] is a proxy for a manager.list() (see below), so append() is a
        # message to the manager, which changes its own list.
        shared[job].append(n * n)


def squares_by_job(ctx, jobs):
    """jobs maps a job name to its numbers; square each job's numbers in its own process.

    Returns {job name: [squares, in order]}.
    """
    with ctx.Manager() as manager:
        # Nest manager lists, not plain ones: the dict then holds proxies, and what a
        # worker gets from shared[job] is a proxy to the same list, not a copy of it.
        shared = manager.dict({job: manager.list() for job in jobs})
        workers = [ctx.Process(target=collect, args=(shared, job, numbers)) for job, numbers in jobs.items()]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        # list(...) copies each manager list out while the manager is still running.
        return {job: list(squares) for job, squares in shared.items()}
