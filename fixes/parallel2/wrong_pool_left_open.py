# wrong: counts the usable CPUs right but drops the with block: the pool is never closed
# breaks: pool_closed
# caught-on: fork spawn forkserver
"""Count the cores you may use, not the cores the machine has.

Parallel work only speeds up when every worker has a core of its own. os.cpu_count()
counts the machine's CPUs, but a container, a batch job or `taskset` may let this
process run on fewer of them: a pool sized by the machine then starts more workers than
there are cores to run them, and they only take turns.
"""

import os


def collatz_steps(n):
    steps = 0
    while n != 1:
        n = n // 2 if n % 2 == 0 else 3 * n + 1
        steps += 1
    return steps


def usable_cpus():
    """How many CPUs this process is allowed to run on."""
    return len(os.sched_getaffinity(0))


def collatz_on_every_core(ctx, numbers):
    """Count the Collatz steps of `numbers` with one worker per usable CPU.

    Returns {"workers": how many worker processes the pool had, "steps": [...]}.
    """
    workers = usable_cpus()
    pool = ctx.Pool(workers)
    steps = pool.map(collatz_steps, numbers)
    return {"workers": workers, "steps": steps}
