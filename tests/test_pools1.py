import os

import pytest

from dojo.testing import KataRaised
from dojo.toolkit.poolsize import SizingContext
from dojo.toolkit.telltale import Marked, held_back, held_back_report, square_and_pid

NUMBERS = [3, -2, 5, 3, 0, 1]  # unsorted, a repeat, a negative, a zero
WORKERS = 2


def call(kata, teach, ctx, numbers, workers):
    """squares(ctx, numbers, workers), with an exception taught, never thrown bare; and
    every pool it made from ctx closed before it returned (``ctx`` is wrapped in a
    SizingContext if it is not one: it counts the pools and which were closed)."""
    if not isinstance(ctx, SizingContext):
        ctx = SizingContext(ctx)
    try:
        got = kata.squares(ctx, numbers, workers)
    except KataRaised as exc:
        pytest.fail(teach("raised", numbers=[int(n) for n in numbers], workers=workers, error=str(exc)))
    check_closed(teach, ctx, numbers=[int(n) for n in numbers], workers=workers)
    return got


def check_closed(teach, ctx, **fields):
    """A pool left to the garbage collector is shut down by CPython's finalizer only after
    the call: no process is left for the leak check to see, so the context's counts say."""
    if ctx.pools_left_open:
        pytest.fail(teach("pool_left_open", made=ctx.pools, left=ctx.pools_left_open, **fields))
    if ctx.executors_left_open:
        pytest.fail(teach("executor_left_open", made=ctx.executors, left=ctx.executors_left_open, **fields))


def split(got):
    """[(square, pid)] from what squares() returned for Marked numbers."""
    return [square_and_pid(item) for item in got] if isinstance(got, list) else None


def machine_default():
    """How many processes Pool() and ProcessPoolExecutor() start when given no size, on
    this Python (3.13 made it the usable CPUs, before it was the machine's)."""
    if hasattr(os, "process_cpu_count"):
        return os.process_cpu_count() or 1
    return os.cpu_count() or 1


@pytest.mark.clause("squares_right", "input_order", "pool_closed")
def test_every_number_is_squared_in_the_order_given(kata, mp_context, teach):
    got = call(kata, teach, mp_context, NUMBERS, WORKERS)
    want = [n * n for n in NUMBERS]
    if isinstance(got, list) and sorted(map(repr, got)) == sorted(map(repr, want)) and got != want:
        pytest.fail(teach("squares_reordered", numbers=NUMBERS, workers=WORKERS, got=got, want=want))
    assert got == want, teach("wrong_squares", numbers=NUMBERS, workers=WORKERS, got=got, want=want)


@pytest.mark.clause("input_order", "pool_closed")
def test_squares_keep_the_order_of_numbers_when_the_workers_finish_in_another(kata, mp_context, teach):
    # A's square is held back until B's square has reached the caller: results arrive B
    # first, A second, and must still be returned A first.
    with mp_context.Manager() as manager:
        numbers = held_back(manager, 3, 4)
        got = call(kata, teach, mp_context, numbers, WORKERS)
        seen = held_back_report(numbers)
    values = [square for square, _pid in split(got) or []]
    want = [9, 16]
    if values == [16, 9] and seen.get("received") and seen.get("waited") and not seen.get("gave_up"):
        pytest.fail(teach("arrival_order", workers=WORKERS, got=values, want=want))
    assert values == want, teach("wrong_squares", numbers=[3, 4], workers=WORKERS, got=values, want=want)


@pytest.mark.clause("work_in_workers", "pool_closed")
def test_the_squares_are_computed_in_worker_processes(kata, mp_context, teach, host):
    numbers = [Marked(n) for n in range(1, 7)]
    got = split(call(kata, teach, mp_context, numbers, WORKERS))
    caller = host.pid()
    want = [n * n for n in range(1, 7)]
    # the order is another test's business: here only which process squared each number
    values = [sq for sq, _ in got or []]
    assert got is not None and sorted(map(repr, values)) == sorted(map(repr, want)), teach(
        "wrong_squares", numbers=list(range(1, 7)), workers=WORKERS, got=values, want=want
    )
    in_caller = [n for n, (_sq, pid) in zip(range(1, 7), got) if pid in (caller, None)]
    assert not in_caller, teach(
        "squared_in_caller", numbers=list(range(1, 7)), workers=WORKERS, count=len(in_caller), which=in_caller
    )


@pytest.mark.clause("pool_from_ctx", "pool_closed")
def test_the_worker_processes_come_from_the_given_ctx(kata, mp_context, teach, host):
    ctx = SizingContext(mp_context)
    numbers = [Marked(n) for n in range(1, 7)]
    got = split(call(kata, teach, ctx, numbers, WORKERS))
    caller = host.pid()
    workers_seen = {pid for _sq, pid in got or [] if pid not in (caller, None)}
    if ctx.created == 0 and workers_seen:
        pytest.fail(teach("not_through_ctx", numbers=list(range(1, 7)), workers=WORKERS, seen=len(workers_seen)))
    assert ctx.created > 0, teach("no_process_through_ctx", numbers=list(range(1, 7)), workers=WORKERS)


@pytest.mark.clause("reused", "at_most_workers", "pool_closed")
def test_workers_are_started_once_and_reused_for_every_number(kata, mp_context, teach, host):
    ctx = SizingContext(mp_context)
    numbers = [Marked(n) for n in range(1, 9)]
    got = split(call(kata, teach, ctx, numbers, WORKERS))
    # processes made through ctx, or (made some other way) the processes that squared
    pids = {pid for _sq, pid in got or [] if pid is not None}
    started = max(ctx.created, len(pids - {host.pid()}))
    fields = dict(numbers=list(range(1, 9)), workers=WORKERS, created=started, count=len(numbers))
    assert started < len(numbers), teach("process_per_task", **fields)
    assert started <= WORKERS, teach("more_than_workers", **fields)


@pytest.mark.clause("at_most_workers", "pool_closed")
def test_one_worker_means_one_process_whatever_the_machine(kata, mp_context, teach, host):
    # workers=1, fewer than any machine default of 2 or more CPUs: a pool sized by the
    # machine (Pool(), ProcessPoolExecutor() with no size) starts more than one.
    # The first square waits until the second number has been handed out, so no result is
    # back before two tasks wait: a ProcessPoolExecutor() under spawn or forkserver, which
    # starts workers only as tasks need them, starts a second one every time.
    ctx = SizingContext(mp_context)
    with mp_context.Manager() as manager:
        numbers = held_back(manager, 1, 2, until="submitted") + [Marked(n) for n in range(3, 7)]
        got = split(call(kata, teach, ctx, numbers, 1))
    fields = dict(numbers=list(range(1, 7)), workers=1, count=len(numbers))
    pids = {pid for _sq, pid in got or [] if pid is not None}
    started = max(ctx.created, len(pids - {host.pid()}))
    if started > 1:
        machine = machine_default()
        if ctx.pool_size is not None and ctx.pool_size > 1:
            key = "sized_by_machine" if ctx.pool_size == machine else "pool_bigger_than_workers"
            pytest.fail(teach(key, **fields, size=ctx.pool_size, cpus=machine))
        if started >= len(numbers):
            pytest.fail(teach("process_per_task", **fields, created=started))
        key = "sized_by_machine" if started == machine else "more_than_workers"
        pytest.fail(teach(key, **fields, size=started, cpus=machine, created=started))
    if machine_default() < 2:
        # Pool() and ProcessPoolExecutor() with no size would have started one process too
        pytest.skip("not on this machine: with one usable CPU, a pool sized by the machine also starts one process")
