# right: the dict holds manager.list() proxies, so append on shared[job] is itself a message
# style: nested manager.list proxies
"""A Manager's dict hands out copies of what is nested inside it.

A Manager keeps the real dict in its own process; `shared[key] = value` and `shared[key]`
travel there as messages. But `shared[key]` sends back a copy of a nested list, so
`shared[key].append(x)` changes only that copy: the manager's list never grows, no error
is raised, and the work of every process is silently lost.
"""


def collect(shared, job, numbers):
    for n in numbers:
        shared[job].append(n * n)  # shared[job] is a ListProxy


def squares_by_job(ctx, jobs):
    """jobs maps a job name to its numbers; square each job's numbers in its own process.

    Returns {job name: [squares, in order]}.
    """
    with ctx.Manager() as manager:
        shared = manager.dict()
        for job in jobs:
            shared[job] = manager.list()
        workers = [ctx.Process(target=collect, args=(shared, job, numbers)) for job, numbers in jobs.items()]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        return {job: list(shared[job]) for job in jobs}
