# right: drains the reports, joins every child, and counts any non-zero exit code as a failure
# style: join loop, exitcode != 0
"""Reap your children, and ask each one how it ended.

An exception raised in a child never reaches its parent: the child prints a traceback and
ends with a non-zero exit code, and a message it sends from a `finally:` block still
arrives. A child that has ended stays in the process table as a zombie until its parent
waits for it. Waiting for each child both lets it go and tells you how it ended.
"""

import math


def run_job(job, done):
    try:
        math.sqrt(job)  # stands in for real work: raises ValueError for a negative job
    finally:
        done.put(job)  # report in whatever happened, so the parent never waits forever



def failed_jobs(ctx, jobs):
    """Run every job in its own process; return the jobs whose process failed, sorted."""
    done = ctx.Queue()
    workers = {job: ctx.Process(target=run_job, args=(job, done)) for job in jobs}
    for worker in workers.values():
        worker.start()
    for _ in workers:
        done.get()
    for worker in workers.values():
        worker.join()
    return sorted(job for job, worker in workers.items() if worker.exitcode != 0)
