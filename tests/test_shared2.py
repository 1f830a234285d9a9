"""shared2: every tally in a shared Array survives, because workers are really kept apart.

Each call gets a RaceContext (dojo/toolkit/race.py): every write of a slot waits until the
other workers have read too, are done, or are blocked on a lock somebody holds. Workers
whose `counts[i] += 1` is not one protected step then lose a tally on every run and start
method; workers that share one lock, or count in slots of their own, never wait.
"""

import pytest

from dojo.testing import KataRaised, RaceContext, race_message

ALL_CLAUSES = (
    "counts_exact", "design", "whole_step_locked", "counted_in_children", "one_process_per_chunk", "side_by_side",
    "all_joined", "uses_ctx",
)


def expected(chunks, buckets):
    counts = [0] * buckets
    for chunk in chunks:
        for n in chunk:
            counts[n % buckets] += 1
    return counts


def tally(kata, mp_context, teach, chunks, buckets):
    """Run histogram under a RaceContext; fail with what the coordinator saw."""
    race = RaceContext(mp_context, parties=len(chunks))
    shown = chunks if sum(map(len, chunks)) <= 12 else f"<{len(chunks)} chunks>"
    call = f"histogram(ctx, {shown}, {buckets})"
    try:
        got, raised = kata.histogram(race, chunks, buckets), None
    except KataRaised as exc:
        raised = exc  # failed outside the except block: no chained traceback above the lesson
    if raised:
        pytest.fail(teach("raised", call=call, type=raised.type_name, message=raised.message), pytrace=False)
    want = expected(chunks, buckets)
    report = race.report()
    problem = race_message(teach, report, call=call, what=lambda slot: f"counts[{slot % buckets}]", got=got, want=want)
    assert not problem, problem
    if got != want:
        key = "nothing_counted" if got == [0] * buckets and report["child_writes"] == 0 else "wrong_counts"
        pytest.fail(teach(key, call=call, got=got, want=want), pytrace=False)


# Every worker starts on slot 0 and walks the slots in the same order, so the workers'
# first writes always land on a slot the others have read too.
@pytest.mark.clause(*ALL_CLAUSES)
@pytest.mark.parametrize(
    ("chunks", "buckets"),
    [
        pytest.param([list(range(0, 8)), list(range(8, 16)), list(range(16, 24))], 4, id="3x8-over-4"),
        pytest.param([list(range(10, 16)), list(range(16, 22))], 3, id="2x6-over-3"),
    ],
)
def test_no_tally_is_lost_when_every_write_waits_for_the_others_to_read(kata, mp_context, teach, chunks, buckets):
    tally(kata, mp_context, teach, chunks, buckets)


@pytest.mark.clause("counts_exact", "every_chunk", "one_process_per_chunk", "counted_in_children", "side_by_side",
                    "all_joined", "uses_ctx")
def test_chunks_of_different_sizes_and_an_empty_one_are_all_counted(kata, mp_context, teach):
    # 7 numbers in 3 chunks (not a multiple), an empty chunk before a full one.
    tally(kata, mp_context, teach, [[1, 2, 3, 4, 5], [], [6, 7]], 3)
    tally(kata, mp_context, teach, [[7, 8]], 5)
