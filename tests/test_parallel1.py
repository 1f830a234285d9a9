from collections import Counter
from math import isqrt

import pytest


def lost_and_doubled(numbers, got):
    """Which numbers have no square in `got`, and which have more than one."""
    counts = Counter(got)
    lost = [n for n in numbers if counts[n * n] == 0]
    doubled = sorted(isqrt(square) for square, count in counts.items() if count > 1)
    return lost, doubled


@pytest.mark.parametrize(
    "count, parts",
    [(10, 3), (5, 2)],
    ids=["10-numbers-in-3-parts", "5-numbers-in-2-parts"],
)
def test_no_number_is_lost_when_the_parts_do_not_divide_evenly(kata, mp_context, teach, count, parts):
    numbers = list(range(1, count + 1))
    got = kata.squares_in_parts(mp_context, numbers, parts)
    want = [n * n for n in numbers]
    lost, doubled = lost_and_doubled(numbers, got)
    assert Counter(got) == Counter(want), teach(
        "remainder_lost", numbers=numbers, parts=parts, got=got, want=want, lost=lost, doubled=doubled
    )
    assert got == want, teach("out_of_order", numbers=numbers, parts=parts, got=got, want=want)


def test_every_number_is_squared_when_there_are_fewer_numbers_than_parts(kata, mp_context, teach):
    numbers = [5, 6]
    got = kata.squares_in_parts(mp_context, numbers, 3)
    want = [25, 36]
    lost, doubled = lost_and_doubled(numbers, got)
    assert Counter(got) == Counter(want), teach(
        "fewer_than_parts", numbers=numbers, parts=3, got=got, want=want, lost=lost, doubled=doubled
    )
    assert got == want, teach("out_of_order", numbers=numbers, parts=3, got=got, want=want)
