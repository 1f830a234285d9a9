def test_nothing_is_left_behind(kata, mp_context):
    assert isinstance(kata.leave_things(mp_context), str)
