def test_the_child_exits_cleanly(kata, mp_context):
    assert kata.run_away(mp_context) == 0
