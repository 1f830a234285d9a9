def test_every_number_comes_back_doubled(kata, mp_context, teach):
    got = kata.doubles(mp_context, [1, 2, 3])
    assert got == [2, 4, 6], teach("wrong", got=got)
