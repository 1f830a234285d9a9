import pytest

from dojo.testing import RaceContext


@pytest.mark.parametrize(("workers", "times"), [(3, 20), (2, 7)])
def test_no_increment_is_lost_when_workers_read_at_the_same_moment(kata, mp_context, teach, workers, times):
    # RaceContext makes every unlocked read of the counter wait until all workers have
    # read it: the collision a busy machine produces now and then happens on every step.
    # Reads made while holding the counter's lock (or any lock from ctx) never wait.
    race = RaceContext(mp_context, parties=workers, timeout=5.0)
    got = kata.count_together(race, workers, times)
    want = workers * times
    # Nothing counted at all means the workers died before their first write.
    key = "nothing_counted" if got == 0 else "lost_updates"
    assert got == want, teach(key, workers=workers, times=times, got=got, want=want, lost=want - got)
