import pytest

from dojo.testing import RaceContext

# Chunks of consecutive numbers, each as long as a multiple of `buckets`: every worker
# adds to the slots in the same order, so under RaceContext the workers meet on the
# same slot at every step and the unlocked result is exact (one chunk's share).
SAME_ORDER = [
    pytest.param([list(range(0, 8)), list(range(8, 16)), list(range(16, 24))], 4, id="3x8-over-4"),
    pytest.param([list(range(10, 16)), list(range(16, 22))], 3, id="2x6-over-3"),
]


def expected(chunks, buckets):
    counts = [0] * buckets
    for chunk in chunks:
        for n in chunk:
            counts[n % buckets] += 1
    return counts


@pytest.mark.parametrize(("chunks", "buckets"), SAME_ORDER)
def test_no_tally_is_lost_when_workers_share_a_slot(kata, mp_context, teach, chunks, buckets):
    # RaceContext makes every unlocked read of an Array slot wait until all workers have
    # read: the collision a busy machine produces now and then happens on every step.
    # Reads made while holding the Array's lock (or any lock from ctx) never wait.
    race = RaceContext(mp_context, parties=len(chunks), timeout=5.0)
    got = kata.histogram(race, chunks, buckets)
    want = expected(chunks, buckets)
    # Nothing counted at all means the workers died before their first write.
    key = "nothing_counted" if got == [0] * buckets else "lost_tallies"
    assert got == want, teach(key, workers=len(chunks), buckets=buckets, got=got, want=want)


def test_chunks_of_different_sizes_are_all_counted(kata, mp_context, teach):
    chunks = [[1, 2, 3, 4, 5], [6], []]
    got = kata.histogram(mp_context, chunks, 3)
    want = expected(chunks, 3)
    key = "nothing_counted" if got == [0, 0, 0] else "uneven_chunks"
    assert got == want, teach(key, workers=len(chunks), buckets=3, chunks=chunks, got=got, want=want)
