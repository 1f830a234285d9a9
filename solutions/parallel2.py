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
    # The affinity mask is the set of CPUs the scheduler may run this process on; it is
    # what taskset, cgroup cpusets and batch schedulers narrow. (Python 3.13's
    # os.process_cpu_count() gives the same number.) Platforms without an affinity API,
    # such as macOS, fall back to the machine's count.
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count()


def collatz_on_every_core(ctx, numbers):
    """Count the Collatz steps of `numbers` with one worker per usable CPU.

    Returns {"workers": how many worker processes the pool had, "steps": the step count
    of each number, in the order of `numbers`}. The pool is made from `ctx`.
    """
    workers = usable_cpus()
    with ctx.Pool(workers) as pool:
        steps = pool.map(collatz_steps, numbers)
    return {"workers": workers, "steps": steps}
