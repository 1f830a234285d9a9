def test_it_returns(kata, mp_context):
    assert kata.crash(mp_context) == 0
