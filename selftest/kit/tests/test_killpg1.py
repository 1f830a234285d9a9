def test_it_returns(kata, mp_context):
    assert kata.kill_everyone(mp_context) == 0
