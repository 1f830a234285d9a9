from dojo.testing import CountingContext


def test_a_thread_appends_to_the_very_list_its_caller_holds(kata, teach):
    got = kata.squares_in_threads([1, 2, 3])
    want = [1, 4, 9]
    assert got == want, teach("threads_lost", got=got, want=want)


def test_every_square_comes_back_from_the_child_processes(kata, mp_context, teach):
    ctx = CountingContext(mp_context)
    got = kata.squares_in_processes(ctx, [1, 2, 3])
    want = [1, 4, 9]
    assert got == want, teach("results_stayed_in_children", got=got, want=want)
    assert ctx.created >= 1, teach("no_process_started", created=ctx.created)
