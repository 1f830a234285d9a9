"""The determinism toolkit: a lost update every time, and fixed code that never waits."""

import multiprocessing

import pytest

from dojo.testing import CountingContext, RaceContext
from selftest import helpers

METHODS = multiprocessing.get_all_start_methods()
WORKERS, TIMES = 3, 20


def run(ctx, target, *args):
    workers = [ctx.Process(target=target, args=args) for _ in range(WORKERS)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return [w.exitcode for w in workers]


@pytest.mark.parametrize("method", METHODS)
def test_unlocked_increments_lose_exactly_the_updates_of_all_but_one_worker(method):
    ctx = RaceContext(multiprocessing.get_context(method), parties=WORKERS, timeout=30)
    counter = ctx.Value("i", 0)
    assert run(ctx, helpers.unlocked_increments, counter, TIMES) == [0] * WORKERS
    assert counter.value == TIMES


@pytest.mark.parametrize("method", METHODS)
def test_get_lock_makes_every_increment_count_without_waiting(method):
    ctx = RaceContext(multiprocessing.get_context(method), parties=WORKERS, timeout=30)
    counter = ctx.Value("i", 0)
    assert run(ctx, helpers.locked_increments, counter, TIMES) == [0] * WORKERS
    assert counter.value == WORKERS * TIMES
    assert not counter._barrier.broken, "a fixed kata must never reach the barrier"


@pytest.mark.parametrize("method", METHODS)
def test_an_own_lock_from_the_context_counts_as_a_fix(method):
    ctx = RaceContext(multiprocessing.get_context(method), parties=WORKERS, timeout=30)
    counter = ctx.Value("i", 0)
    lock = ctx.Lock()
    assert run(ctx, helpers.own_lock_increments, counter, lock, TIMES) == [0] * WORKERS
    assert counter.value == WORKERS * TIMES
    assert not counter._barrier.broken


def test_reads_in_the_process_that_made_the_value_never_wait():
    ctx = RaceContext(multiprocessing.get_context("fork"), parties=5, timeout=30)
    counter = ctx.Value("i", 7)
    assert counter.value == 7


@pytest.mark.parametrize("method", METHODS)
def test_counting_context_counts_processes_of_pools_and_executors(method):
    from concurrent.futures import ProcessPoolExecutor

    ctx = CountingContext(multiprocessing.get_context(method))
    with ProcessPoolExecutor(max_workers=2, mp_context=ctx) as pool:
        assert sorted(pool.map(abs, [-1, -2, -3])) == [1, 2, 3]
    with ctx.Pool(2) as pool:
        assert pool.map(abs, [-4]) == [4]
        pool.close()
        pool.join()
    assert ctx.created == 4


@pytest.mark.parametrize("method", METHODS)
def test_unlocked_array_slots_lose_updates_exactly_and_locked_ones_never_wait(method):
    ctx = RaceContext(multiprocessing.get_context(method), parties=WORKERS, timeout=30)
    racy = ctx.Array("i", 2)
    assert run(ctx, helpers.unlocked_slot_increments, racy, TIMES) == [0] * WORKERS
    assert racy[0] == TIMES
    safe = ctx.Array("i", 2)
    assert run(ctx, helpers.locked_slot_increments, safe, TIMES) == [0] * WORKERS
    assert safe[0] == WORKERS * TIMES
    assert not safe._barrier.broken
