# wrong: the child reports whether its job raised and the parent trusts that instead of the exit code
# breaks: exit_code_decides zero_is_success any_nonzero_is_failure
# caught-on: fork spawn forkserver
"""Reap your children, and ask each one how it ended.

An exception raised in a child never reaches its parent: the child prints a traceback and
ends with a non-zero exit code, and a message it sends from a `finally:` block still
arrives. A child that has ended stays in the process table as a zombie until its parent
waits for it. Waiting for each child both lets it go and tells you how it ended.
"""

import math


def run_job(job, done):
    ok = False
    try:
        math.sqrt(job)  # stands in for real work: raises ValueError for a negative job
        ok = True
    finally:
        done.put((job, ok))  # report in whatever happened, and whether it worked


def failed_jobs(ctx, jobs):
    """Run every job in its own process; return the jobs whose process failed, sorted."""
    done = ctx.Queue()
    workers = {job: ctx.Process(target=run_job, args=(job, done)) for job in jobs}
    for worker in workers.values():
        worker.start()
    reports = dict(done.get() for _ in workers)
    for worker in workers.values():
        worker.join()
    return sorted(job for job, ok in reports.items() if not ok)
