import pytest

from dojo.testing import KataRaised


def square_roots(kata, teach, ctx, numbers):
    """Call the kata; an exception that escapes it is the lesson's symptom, not a crash."""
    try:
        return kata.square_roots(ctx, numbers)
    except KataRaised as exc:
        raised = exc.type_name
    pytest.fail(teach("failure_escaped", numbers=numbers, raised=raised), pytrace=False)


def test_the_good_numbers_keep_their_roots_when_one_fails(kata, mp_context, teach):
    got = square_roots(kata, teach, mp_context, [4, -1, 9])
    want = {4: 2.0, 9: 3.0}
    assert got["results"] == want, teach("results_lost", numbers=[4, -1, 9], got=got["results"], want=want)


def test_each_failure_is_reported_with_its_input(kata, mp_context, teach):
    numbers = [16, -1, "25"]
    got = square_roots(kata, teach, mp_context, numbers)
    want = {-1: "ValueError", "25": "TypeError"}
    assert got["errors"] == want, teach("errors_not_reported", numbers=numbers, got=got["errors"], want=want)
    assert got["results"] == {16: 4.0}, teach("results_lost", numbers=numbers, got=got["results"], want={16: 4.0})
