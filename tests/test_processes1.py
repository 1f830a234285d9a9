def test_every_child_reports_the_name_it_was_given(kata, mp_context, teach):
    got = kata.squares_by_name(mp_context, [1, 2, 3])
    want = {"square-1": 1, "square-2": 4, "square-3": 9}
    assert got == want, teach("names_not_given", got=got, want=want)


def test_names_do_not_depend_on_how_many_processes_ran_before(kata, mp_context, teach):
    first = kata.squares_by_name(mp_context, [4])
    second = kata.squares_by_name(mp_context, [4])
    assert first == second == {"square-4": 16}, teach("names_drift", first=first, second=second)
