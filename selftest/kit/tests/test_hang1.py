def test_the_child_is_joined(kata, mp_context):
    assert kata.wait_for_child(mp_context) == 0
