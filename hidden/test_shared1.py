"""shared1, hidden: the instructor's extra case (graded by `dojo grade`, left out by
`dojo release`). Written like a visible test: through the `kata` fixture only."""

import pytest

from dojo.testing import KataRaised, RaceContext, race_message


@pytest.mark.clause("total_exact", "whole_step_locked", "counted_in_children", "workers_sized", "side_by_side",
                    "uses_ctx", "all_joined", "design")
def test_four_workers_lose_nothing_either(kata, mp_context, teach):
    workers, times = 4, 5
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
    assert got == want, teach("wrong_total", call=call, workers=workers, times=times, got=got, want=want)
