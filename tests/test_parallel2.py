import os
import sys
from contextlib import contextmanager

import pytest

from dojo.testing import CountingContext

NUMBERS = [6, 7, 27, 97]
STEPS = [8, 16, 111, 118]


def cpu_count_is_overridden():
    # Python 3.13's PYTHON_CPU_COUNT / -X cpu_count replace every CPU count, affinity or not.
    return bool(os.environ.get("PYTHON_CPU_COUNT")) or "cpu_count" in getattr(sys, "_xoptions", {})


def allowed_cpus(n):
    """`n` of the CPUs this process may use; skip where the affinity cannot be set to them."""
    if not (hasattr(os, "sched_getaffinity") and hasattr(os, "sched_setaffinity")):
        pytest.skip("this platform cannot narrow a process's CPU affinity (no os.sched_setaffinity)")
    if cpu_count_is_overridden():
        pytest.skip("PYTHON_CPU_COUNT or -X cpu_count overrides the CPU count here")
    allowed = os.sched_getaffinity(0)
    if len(allowed) < n:
        pytest.skip(f"needs {n} CPUs this process may use; it may use {len(allowed)}")
    return set(sorted(allowed)[:n])


@contextmanager
def running_on(ctx, cpus):
    """Run the body with this process (and the children it starts) confined to `cpus`."""
    # Start the session's helper processes first, so that they keep the full mask:
    # the forkserver and the resource tracker outlive this test.
    method = ctx.get_start_method()
    if method in ("spawn", "forkserver"):
        from multiprocessing import resource_tracker

        resource_tracker.ensure_running()
    if method == "forkserver":
        from multiprocessing import forkserver

        forkserver.ensure_running()
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, cpus)
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


def test_the_pool_gets_one_worker_per_cpu_this_process_may_use(kata, mp_context, teach):
    if (os.cpu_count() or 1) < 2:
        pytest.skip("one CPU: the affinity cannot be narrowed below os.cpu_count(), so both counts agree")
    cpus = allowed_cpus(1)
    ctx = CountingContext(mp_context)
    with running_on(mp_context, cpus):
        got = kata.collatz_on_every_core(ctx, NUMBERS)
    assert got["workers"] == 1, teach(
        "sized_by_machine", cpus=sorted(cpus), workers=got["workers"], machine=os.cpu_count(), want=1
    )
    assert ctx.created == 1, teach("pool_size_differs", workers=got["workers"], created=ctx.created)
    assert got["steps"] == STEPS, teach("wrong_steps", got=got["steps"], want=STEPS)


def test_every_cpu_this_process_may_use_gets_a_worker(kata, mp_context, teach):
    # Two CPUs: on a bigger machine this narrows the mask too; on a 2-core machine it is
    # the whole mask, and checks that a fix does not simply start one worker.
    cpus = allowed_cpus(2)
    ctx = CountingContext(mp_context)
    with running_on(mp_context, cpus):
        got = kata.collatz_on_every_core(ctx, NUMBERS)
    want = len(cpus)
    assert got["workers"] == want, teach(
        "one_per_usable_cpu", cpus=sorted(cpus), workers=got["workers"], want=want
    )
    assert ctx.created == want, teach("pool_size_differs", workers=got["workers"], created=ctx.created)
    assert got["steps"] == STEPS, teach("wrong_steps", got=got["steps"], want=STEPS)
