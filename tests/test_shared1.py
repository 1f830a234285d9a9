"""shared1: every increment of a shared counter survives, because workers are really kept apart.

Each call gets a RaceContext (dojo/toolkit/race.py). Its coordinator makes every write of
the counter wait until the other workers have read it too, are done, or are blocked on a
lock somebody holds: an unprotected read-add-write then loses an update on every run and
start method, and a program whose workers share one lock never waits at all. What it saw
(lost updates with their timeline, calls to multiprocessing's own context, workers that
never ran side by side) becomes the message.
"""

import pytest

from dojo.testing import KataRaised, RaceContext, race_message

ALL_CLAUSES = (
    "total_exact", "design", "whole_step_locked", "counted_in_children", "workers_sized", "side_by_side", "uses_ctx",
    "all_joined",
)


def count(kata, mp_context, teach, workers, times):
    """Run count_together under a RaceContext; fail with what the coordinator saw."""
    race = RaceContext(mp_context, parties=workers)
    call = f"count_together(ctx, {workers}, {times})"
    try:
        got, raised = kata.count_together(race, workers, times), None
    except KataRaised as exc:
        raised = exc  # failed outside the except block: no chained traceback above the lesson
    if raised:
        pytest.fail(teach("raised", call=call, type=raised.type_name, message=raised.message), pytrace=False)
    want = workers * times
    problem = race_message(teach, race.report(), call=call, what=lambda slot: "counter", got=got, want=want)
    assert not problem, problem
    if got != want:
        key = "nothing_counted" if got == 0 else "wrong_total"
        pytest.fail(teach(key, call=call, workers=workers, times=times, got=got, want=want), pytrace=False)
    return race.report()


@pytest.mark.clause(*ALL_CLAUSES)
@pytest.mark.parametrize(("workers", "times"), [(3, 20), (2, 7)])
def test_no_increment_is_lost_when_every_write_waits_for_the_others_to_read(kata, mp_context, teach, workers, times):
    count(kata, mp_context, teach, workers, times)


@pytest.mark.clause("total_exact", "workers_sized", "counted_in_children", "uses_ctx", "all_joined", "side_by_side")
def test_one_worker_and_no_increments_are_counted_too(kata, mp_context, teach):
    count(kata, mp_context, teach, 1, 5)
    count(kata, mp_context, teach, 2, 0)
