def test_it_parses(kata, mp_context):
    assert kata.broken(mp_context) == 1
