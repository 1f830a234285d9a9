import os

import pytest

from dojo.testing import KataRaised
from dojo.toolkit import affinity
from dojo.toolkit.poolsize import SizingContext
from dojo.toolkit.telltale import Traced, overtaken, overtaken_report

NUMBERS = [6, 7, 27, 97]
STEPS = [8, 16, 111, 118]


def cpus_to_allow(n):
    """The `n` highest-numbered CPUs this process may use; skip where that cannot be done."""
    if not affinity.supported():
        pytest.skip("not on this machine: this platform cannot narrow a process's CPU affinity")
    if affinity.cpu_count_overridden():
        pytest.skip("not on this machine: PYTHON_CPU_COUNT or -X cpu_count overrides every CPU count")
    cpus = affinity.highest(n)
    if cpus is None:
        pytest.skip(f"not on this machine: needs {n} CPUs this process may use; it may use {len(affinity.usable())}")
    return cpus


def call(kata, teach, ctx, numbers, cpus):
    """collatz_on_every_core(ctx, numbers) with this process confined to `cpus`; an
    exception is taught, never thrown bare."""
    if not isinstance(ctx, SizingContext):
        ctx = SizingContext(ctx)  # counts the pools made from it, and which were closed
    try:
        if cpus is None:
            got = kata.collatz_on_every_core(ctx, numbers)
        else:
            with affinity.confined(ctx, cpus):
                got = kata.collatz_on_every_core(ctx, numbers)
    except KataRaised as exc:
        pytest.fail(teach("raised", cpus=sorted(cpus or affinity.usable()), error=str(exc)))
    check_closed(teach, ctx)
    assert isinstance(got, dict) and {"workers", "steps"} <= set(got), teach("not_a_report", got=got)
    return got


def check_closed(teach, ctx):
    """A pool left to the garbage collector is shut down by CPython's finalizer only after
    the call: no process is left for the leak check to see, so the context's counts say."""
    if ctx.pools_left_open:
        pytest.fail(teach("pool_left_open", made=ctx.pools, left=ctx.pools_left_open))
    if ctx.executors_left_open:
        pytest.fail(teach("executor_left_open", made=ctx.executors, left=ctx.executors_left_open))


def same_counts(got, want):
    """The same step counts, in any order."""
    return isinstance(got, list) and sorted(map(repr, got)) == sorted(map(repr, want))


def check_pool(ctx, got, teach, want):
    """The pool really had the reported number of workers (and that is `want`)."""
    workers = got["workers"]
    if ctx.created == 0:
        return  # no pool through ctx: test_the_pool_is_made_from_the_given_ctx says so
    if ctx.pool_size is not None:
        # a Pool starts all its workers at once: its size is what it had
        assert ctx.pool_size == workers, teach("pool_size_differs", workers=workers, created=ctx.pool_size)
    else:
        # an executor under spawn or forkserver starts workers only as tasks need them
        assert ctx.created <= workers, teach("pool_size_differs", workers=workers, created=ctx.created)


@pytest.mark.clause("usable_cpus", "one_per_usable_cpu", "reports_pool_size", "pool_closed")
def test_the_pool_gets_one_worker_per_cpu_this_process_may_use(kata, mp_context, teach):
    if (os.cpu_count() or 1) < 2:
        pytest.skip("not on this machine: one CPU, so the machine's count and the usable count agree")
    cpus = cpus_to_allow(1)  # the highest CPU: {1}, not {0}, on a 2-core machine
    ctx = SizingContext(mp_context)
    got = call(kata, teach, ctx, NUMBERS, cpus)
    if got["workers"] != 1:
        key = "sized_by_machine" if got["workers"] == os.cpu_count() else "one_per_usable_cpu"
        pytest.fail(teach(key, cpus=sorted(cpus), workers=got["workers"], machine=os.cpu_count(), want=1))
    check_pool(ctx, got, teach, 1)


@pytest.mark.clause("usable_cpus", "one_per_usable_cpu", "reports_pool_size", "pool_closed")
def test_every_cpu_this_process_may_use_gets_a_worker(kata, mp_context, teach):
    # Two CPUs: on a bigger machine this narrows the mask too; on a 2-core machine it is
    # the whole mask, and checks that a fix does not simply start one worker.
    cpus = cpus_to_allow(2)
    ctx = SizingContext(mp_context)
    got = call(kata, teach, ctx, NUMBERS, cpus)
    want = len(cpus)
    assert got["workers"] == want, teach("one_per_usable_cpu", cpus=sorted(cpus), workers=got["workers"], want=want)
    check_pool(ctx, got, teach, want)


@pytest.mark.clause("one_per_usable_cpu", "reports_pool_size", "pool_closed")
def test_one_number_still_gets_a_pool_of_one_worker_per_usable_cpu(kata, mp_context, teach):
    cpus = cpus_to_allow(2)
    ctx = SizingContext(mp_context)
    got = call(kata, teach, ctx, [27], cpus)
    want = len(cpus)
    assert got["workers"] == want, teach("one_per_usable_cpu", cpus=sorted(cpus), workers=got["workers"], want=want)
    check_pool(ctx, got, teach, want)


@pytest.mark.clause("steps_right", "pool_closed")
def test_every_number_gets_its_step_count_in_the_order_given(kata, mp_context, teach):
    got = call(kata, teach, mp_context, NUMBERS, None)
    if same_counts(got["steps"], STEPS) and got["steps"] != STEPS:
        pytest.fail(teach("steps_reordered", numbers=NUMBERS, got=got["steps"], want=STEPS))
    assert got["steps"] == STEPS, teach("wrong_steps", numbers=NUMBERS, got=got["steps"], want=STEPS)


@pytest.mark.clause("steps_right", "pool_closed")
def test_the_steps_keep_the_order_of_numbers_when_workers_finish_in_another(kata, mp_context, teach):
    # Two usable CPUs, so a right pool has two workers: the first number's count is held
    # until the worker of the second has moved on to the third, so results arrive 7, 27, 6
    # or 7, 6, 27 and must still come back in the order 6, 7, 27.
    cpus = cpus_to_allow(2)
    with mp_context.Manager() as manager:
        numbers = overtaken(manager, 6, 7, 27)
        got = call(kata, teach, mp_context, numbers, cpus)
        seen = overtaken_report(numbers)
    want = [8, 16, 111]
    steps = got["steps"]
    if same_counts(steps, want) and steps != want:
        key = "steps_arrival_order" if seen.get("waited") and not seen.get("gave_up") else "steps_reordered"
        pytest.fail(teach(key, numbers=[6, 7, 27], got=steps, want=want))
    assert steps == want, teach("wrong_steps", numbers=[6, 7, 27], got=steps, want=want)


@pytest.mark.clause("work_in_workers", "pool_closed")
def test_the_steps_are_counted_in_the_pool_workers(kata, mp_context, teach, host):
    with mp_context.Manager() as manager:
        ledger = manager.list()
        got = call(kata, teach, mp_context, [Traced(n, ledger) for n in NUMBERS], None)
        where = list(ledger)
    caller = host.pid()
    assert caller not in where, teach("counted_in_caller", workers=got["workers"])


@pytest.mark.clause("pool_from_ctx", "pool_closed")
def test_the_pool_is_made_from_the_given_ctx(kata, mp_context, teach):
    ctx = SizingContext(mp_context)
    got = call(kata, teach, ctx, NUMBERS, None)
    assert ctx.created > 0, teach("no_process_through_ctx", workers=got["workers"])
