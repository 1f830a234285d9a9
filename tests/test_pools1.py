from dojo.testing import CountingContext

NUMBERS = [1, 2, 3, 4]
WORKERS = 2


def test_every_number_is_squared_in_order(kata, mp_context, teach):
    got = kata.squares(mp_context, NUMBERS, WORKERS)
    want = [n * n for n in NUMBERS]
    assert got == want, teach("wrong_squares", numbers=NUMBERS, workers=WORKERS, got=got, want=want)


def test_workers_are_started_once_and_reused_for_every_number(kata, mp_context, teach):
    ctx = CountingContext(mp_context)
    kata.squares(ctx, NUMBERS, WORKERS)
    assert ctx.created > 0, teach("no_process_through_ctx", numbers=NUMBERS, workers=WORKERS)
    assert ctx.created <= WORKERS, teach(
        "process_per_task", numbers=NUMBERS, workers=WORKERS, created=ctx.created, count=len(NUMBERS)
    )
