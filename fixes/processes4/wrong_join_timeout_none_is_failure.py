# wrong: join(timeout=0) then counts every child whose exit code is still unknown (None) as failed
# breaks: all_reaped exit_code_decides zero_is_success
# caught-on: fork spawn forkserver
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
    """Run every job in its own process; return the jobs whose process failed, sorted.

    A job failed when its process ended with any exit code but 0.
    """
    done = ctx.Queue()
    workers = {job: ctx.Process(target=run_job, args=(job, done)) for job in jobs}
    for worker in workers.values():
        worker.start()
    # Drain the queue before joining: a child exits only once what it put is delivered.
    for _ in workers:
        done.get()
    for worker in workers.values():
        worker.join(timeout=0)
    # Reporting in says nothing about success: a child that raised exits with 1 (and one
    # killed by a signal with -N), so anything but 0 is a failure.
    return sorted(job for job, worker in workers.items() if worker.exitcode != 0)
