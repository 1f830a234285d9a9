# right: a pool of ctx runs collect for every job; with-blocks shut the pool and the manager down; lists are assigned back
# style: ctx.Pool starmap with a Manager dict
"""A Manager's dict hands out copies of what is nested inside it.

A Manager keeps the real dict in its own process; `shared[key] = value` and `shared[key]`
travel there as messages. But `shared[key]` sends back a copy of a nested list, so
`shared[key].append(x)` changes only that copy: the manager's list never grows, no error
is raised, and the work of every process is silently lost.
"""


def collect(shared, job, numbers):
    for n in numbers:
        squares = shared[job]  # a copy
        squares.append(n * n)
        shared[job] = squares  # the assignment is what reaches the manager


def squares_by_job(ctx, jobs):
    """jobs maps a job name to its numbers; square each job's numbers in its own process.

    Returns {job name: [squares, in order]}.
    """
    with ctx.Manager() as manager:
        shared = manager.dict({job: [] for job in jobs})
        if jobs:
            with ctx.Pool(len(jobs)) as pool:
                pool.starmap(collect, [(shared, job, numbers) for job, numbers in jobs.items()])
        return {job: list(squares) for job, squares in shared.items()}

