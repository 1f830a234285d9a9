from dojo import gates

INPUTS = ["daum", "cnn", "naver"]
# The first input finishes last, and the others overtake it: as_completed() yields
# cnn, naver, daum. dojo.gates enforces that order without sleeps (see its diagram).
FINISHING_ORDER = ["cnn", "naver", "daum"]


def test_each_result_is_filed_under_the_input_that_produced_it(kata, mp_context, teach):
    with mp_context.Manager() as manager:
        task = gates.finishing_order(manager, FINISHING_ORDER, gates.shout)
        got = kata.results_by_input(mp_context, task, INPUTS, len(INPUTS))
        one_by_one = gates.gave_up(task)
    want = {x: gates.shout(x) for x in INPUTS}
    assert got == want, teach("mislabelled", inputs=INPUTS, order=FINISHING_ORDER, got=got, want=want)
    assert not one_by_one, teach("not_side_by_side", inputs=INPUTS, workers=len(INPUTS))
