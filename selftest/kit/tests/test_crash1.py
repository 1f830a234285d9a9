def test_the_run_survives(kata, mp_context):
    assert kata.finish(mp_context) == 0
