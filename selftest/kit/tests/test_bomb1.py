def test_it_returns(kata, mp_context):
    assert kata.explode(mp_context) == 0
