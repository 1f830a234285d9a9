"""Which CPUs this process may run on, and confining it to fewer for a while.

Every use of the CPU affinity API (os.sched_getaffinity / os.sched_setaffinity: Linux,
some BSDs) by the tests is here, and asks the platform layer (``dojo.system``) whether
it exists: on macOS and Windows ``supported()`` is False and the tests that narrow the
mask say so. Standard library only.
"""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager

from dojo import system


def supported() -> bool:
    """Can this platform read and narrow a process's CPU affinity?"""
    return system.AFFINITY


def cpu_count_overridden() -> bool:
    """Python 3.13's PYTHON_CPU_COUNT / -X cpu_count replace every CPU count, affinity or not."""
    return bool(os.environ.get("PYTHON_CPU_COUNT")) or "cpu_count" in getattr(sys, "_xoptions", {})


def usable() -> set[int]:
    """The CPUs this process may run on now (the machine's, where there is no affinity)."""
    return system.cpu_set()


def highest(n: int) -> set[int] | None:
    """The `n` highest-numbered CPUs this process may use, or None if it may use fewer.

    The highest, not the lowest: a mask {1} tells a count from "highest CPU number + 1",
    which a mask {0} does not."""
    cpus = sorted(usable())
    return set(cpus[-n:]) if len(cpus) >= n else None


@contextmanager
def confined(ctx, cpus):
    """Run the body with this process (and the children it starts) allowed on `cpus` only.

    multiprocessing's helper processes (the resource tracker, the fork server) outlive the
    body, so they are started first, with the full mask; a forkserver child is forked by
    the server, so it gets the server's mask, not ours: kata code started from a test gets
    the narrowed mask through the grading host (which copies its judge's) or, in practice
    mode, by being this very process."""
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
