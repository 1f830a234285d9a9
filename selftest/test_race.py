"""The race toolkit (dojo/toolkit/race.py): a lost update whenever workers are not really
kept apart, and no wait at all when they are, on every start method."""

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import pytest

from dojo.testing import CountingContext, RaceContext, race_message
from selftest import race_workers as rw

METHODS = multiprocessing.get_all_start_methods()
WORKERS, TIMES = 3, 20
NEVER = 600.0  # a fallback no right program may reach: the test's own timeout ends first

RIGHT = [
    ("get_lock", None),
    ("own_lock", "Lock"),
    ("own_lock", "RLock"),
    ("own_lock", "Semaphore"),
    ("own_lock", "Condition"),
    ("own_lock", "manager"),
    ("whole_loop", "Lock"),
    ("acquire_release", "Lock"),
]
WRONG = [
    ("unlocked", None),
    ("read_only_locked", "Lock"),
    ("write_only_locked", "Lock"),
    ("read_and_write_locked_apart", "Lock"),
    ("per_worker_lock", None),
    ("thread_lock", None),
]


def count(race, worker, lock_kind, workers=WORKERS, times=TIMES):
    counter = race.Value("i", 0)
    manager = race.Manager() if lock_kind == "manager" else None
    lock = manager.Lock() if manager else getattr(race, lock_kind)() if lock_kind else None
    try:
        processes = [race.Process(target=getattr(rw, worker), args=(counter, times, lock)) for _ in range(workers)]
        for p in processes:
            p.start()
        for p in processes:
            p.join()
        return counter.value, [p.exitcode for p in processes]
    finally:
        if manager:
            manager.shutdown()


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(("worker", "lock_kind"), RIGHT, ids=[f"{w}-{k}" for w, k in RIGHT])
def test_real_exclusion_counts_everything_and_never_waits_for_the_fallback(method, worker, lock_kind):
    race = RaceContext(multiprocessing.get_context(method), parties=WORKERS, timeout=NEVER)
    got, exits = count(race, worker, lock_kind)
    report = race.report()
    assert (got, exits) == (WORKERS * TIMES, [0] * WORKERS)
    assert (report["lost_updates"], report["fallback"], report["escapes"]) == (0, "", 0)
    assert report["child_writes"] == WORKERS * TIMES


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(("worker", "lock_kind"), WRONG, ids=[f"{w}-{k}" for w, k in WRONG])
def test_partial_or_private_exclusion_loses_an_update_every_time(method, worker, lock_kind):
    race = RaceContext(multiprocessing.get_context(method), parties=WORKERS, timeout=NEVER)
    got, exits = count(race, worker, lock_kind)
    report = race.report()
    assert exits == [0] * WORKERS
    assert report["lost_updates"] >= WORKERS - 1 and got < WORKERS * TIMES
    assert report["fallback"] == ""
    first = report["lost"][0]
    assert first["loser_read_seq"] < first["winner_write_seq"] < first["loser_write_seq"]


@pytest.mark.parametrize("method", METHODS)
def test_designs_that_count_apart_pass_through_pools_executors_and_queues(method):
    ctx = multiprocessing.get_context(method)
    for design in (rw.pool_sum, rw.exec_sum, rw.queue_sum, rw.pool_shared, rw.exec_shared):
        race = RaceContext(ctx, parties=WORKERS, timeout=NEVER)
        assert design(race, WORKERS, TIMES) == WORKERS * TIMES, design.__name__
        report = race.report()
        assert (report["lost_updates"], report["fallback"], report["created"]) == (0, "", WORKERS), design.__name__
        assert report["pools_left_open"] == 0
        # pool_shared and exec_shared write the counter; the others send counts back
        assert report["senders"] > 0 or report["child_writes"] == WORKERS * TIMES, design.__name__
        assert not race_message(lambda key, **_: key, report, call="", what=str, got=WORKERS * TIMES,
                                want=WORKERS * TIMES), design.__name__


@pytest.mark.parametrize("method", METHODS)
def test_workers_that_send_nothing_and_write_nothing_cannot_be_the_source_of_the_answer(method):
    race = RaceContext(multiprocessing.get_context(method), parties=WORKERS, timeout=NEVER)
    got = rw.idle_workers_and_arithmetic(race, WORKERS, TIMES)
    report = race.report()
    assert (got, report["created"], report["senders"], report["child_writes"]) == (WORKERS * TIMES, WORKERS, 0, 0)
    said = race_message(lambda key, **_: key, report, call="", what=str, got=got, want=WORKERS * TIMES)
    assert said == "race_nothing_from_workers"
    # Nothing to count is no evidence against anybody.
    assert not race_message(lambda key, **_: key, report, call="", what=str, got=0, want=0)


@pytest.mark.parametrize("method", METHODS)
def test_array_slots_shared_unlocked_lose_tallies_and_locked_ones_do_not(method):
    ctx = multiprocessing.get_context(method)
    for lock, lost in (("raw", True), ("Lock", False), ("get_lock", False)):
        race = RaceContext(ctx, parties=3, timeout=NEVER)
        counts = rw.hist(race, lock)
        report = race.report()
        assert (report["lost_updates"] > 0) is lost, lock
        assert (sum(counts) == 24) is not lost, lock


def test_workers_run_one_after_another_are_reported_not_side_by_side():
    race = RaceContext(multiprocessing.get_context("fork"), parties=WORKERS, timeout=0.5)
    assert rw.sequential(race, WORKERS, 2) == WORKERS * 2
    report = race.report()
    assert report["fallback"] == "not_side_by_side" and report["started_at_fallback"] == 1


def test_a_lock_from_multiprocessing_itself_is_an_escape_and_a_stuck_wait():
    race = RaceContext(multiprocessing.get_context("fork"), parties=WORKERS, timeout=0.5)
    counter = race.Value("i", 0)
    lock = multiprocessing.Lock()  # the default context's: the coordinator cannot see it
    processes = [race.Process(target=rw.own_lock, args=(counter, 5, lock)) for _ in range(WORKERS)]
    for p in processes:
        p.start()
    for p in processes:
        p.join()
    report = race.report()
    assert report["escapes"] == 1 and "Lock()" in report["escape"] and "test_race.py" in report["escape"]
    assert report["fallback"] in ("stuck", "not_side_by_side")


def test_a_worker_nobody_joins_is_still_running_when_the_call_returns():
    race = RaceContext(multiprocessing.get_context("forkserver"), parties=1, timeout=NEVER)
    p = race.Process(target=rw.count_alone, args=(3,))
    p.start()
    try:
        assert p.exitcode is None  # it waits at its exit gate until somebody joins it
    finally:
        p.join()
    assert p.exitcode == 0


def test_a_pool_left_to_the_garbage_collector_is_reported_open():
    race = RaceContext(multiprocessing.get_context("fork"), parties=2, timeout=NEVER)
    pool = race.Pool(2)
    assert pool.map(rw.count_alone, [1, 2]) == [1, 2]
    assert race.report()["pools_left_open"] == 1
    pool.terminate()
    assert race.report()["pools_left_open"] == 0


def test_messages_tell_the_timeline_of_the_first_lost_update():
    race = RaceContext(multiprocessing.get_context("fork"), parties=2, timeout=NEVER)
    got, _ = count(race, "unlocked", None, workers=2, times=3)
    said = []

    def teach(key, **fields):
        said.append(key)
        return f"{key}:{fields.get('timeline', '')}"

    text = race_message(teach, race.report(), call="count(...)", what=lambda slot: "counter", got=got, want=6)
    assert text.startswith("race_lost:")
    assert said.count("race_step_lost") == 1 and "race_step_read" in said


def test_get_context_and_get_obj_hand_out_the_wrapper_again():
    race = RaceContext(multiprocessing.get_context("spawn"), parties=1)
    assert race.get_context() is race and race.get_context("spawn") is race
    with pytest.raises(ValueError):
        race.get_context("fork")
    counter = race.Value("i", 0)
    assert counter.get_obj() is counter
    with pytest.raises(RuntimeError):
        race.set_start_method("fork")


@pytest.mark.parametrize("method", METHODS)
def test_counting_context_counts_processes_of_pools_and_executors(method):
    ctx = CountingContext(multiprocessing.get_context(method))
    with ProcessPoolExecutor(max_workers=2, mp_context=ctx) as pool:
        assert sorted(pool.map(abs, [-1, -2, -3])) == [1, 2, 3]
    with ctx.Pool(2) as pool:
        assert pool.map(abs, [-4]) == [4]
        pool.close()
        pool.join()
    assert ctx.created == 4


@pytest.mark.parametrize("method", METHODS)
def test_counting_context_tells_pools_and_executors_left_to_the_garbage_collector(method):
    ctx = CountingContext(multiprocessing.get_context(method))
    with ctx.Pool(1) as pool:
        assert pool.map(abs, [-1]) == [1]
    with ProcessPoolExecutor(max_workers=1, mp_context=ctx) as executor:
        assert executor.submit(abs, -2).result() == 2
    assert (ctx.pools, ctx.pools_left_open, ctx.executors, ctx.executors_left_open) == (1, 0, 1, 0)
    forgotten = ctx.Pool(1)
    assert forgotten.map(abs, [-3]) == [3]
    assert ctx.pools_left_open == 1
    forgotten.terminate()
    assert ctx.pools_left_open == 0
