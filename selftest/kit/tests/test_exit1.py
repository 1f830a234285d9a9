def test_it_returns(kata, mp_context):
    assert kata.finish(mp_context) == 0
