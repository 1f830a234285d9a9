# wrong: runs the jobs in a pool and catches the exceptions: no process of its own per job, no exit codes
# breaks: own_process exit_code_decides
# caught-on: fork spawn forkserver
"""Reap your children, and ask each one how it ended.

An exception raised in a child never reaches its parent: the child prints a traceback and
ends with a non-zero exit code, and a message it sends from a `finally:` block still
arrives. A child that has ended stays in the process table as a zombie until its parent
waits for it. Waiting for each child both lets it go and tells you how it ended.
"""

import math


def failed_jobs(ctx, jobs):
    """Run every job in its own process; return the jobs whose process failed, sorted."""
    failed = []
    with ctx.Pool(len(jobs)) as pool:
        pending = {job: pool.apply_async(math.sqrt, (job,)) for job in jobs}
        for job, result in pending.items():
            try:
                result.get()
            except Exception:
                failed.append(job)
    return sorted(failed)
