"""shared1, hidden: the instructor's extra case (graded by `dojo grade`, left out by
`dojo release`). Written like a visible test: through the `kata` fixture only."""

from dojo.testing import RaceContext


def test_four_workers_lose_nothing_either(kata, mp_context, teach):
    workers, times = 4, 5
    race = RaceContext(mp_context, parties=workers, timeout=5.0)
    got = kata.count_together(race, workers, times)
    want = workers * times
    key = "nothing_counted" if got == 0 else "lost_updates"
    assert got == want, teach(key, workers=workers, times=times, got=got, want=want, lost=want - got)
