from dojo.family import JoinGateContext

# The children of a JoinGateContext end only once their parent waits for them (join): an
# exit code read from a process nobody joined is None every time, not just when that child
# happens to be slow. open_all() then lets go whatever the kata did not join, and waits
# until those children have ended.


def test_every_process_is_joined_so_every_exit_code_is_known(kata, mp_context, teach):
    ctx = JoinGateContext(mp_context)
    try:
        got = kata.squares(ctx, [1, 2, 3])
    finally:
        ctx.open_all()
    want = [0, 0, 0]
    assert got["exitcodes"] == want, teach("exit_codes_unknown", got=got["exitcodes"], want=want)


def test_no_child_is_still_running_when_squares_returns(kata, mp_context, teach, host):
    numbers = [4, 5]
    ctx = JoinGateContext(mp_context)
    try:
        got = kata.squares(ctx, numbers)
        running = [child["pid"] for child in host.children() if child["status"] != "zombie"]
    finally:
        ctx.open_all()
    assert running == [], teach("children_running", numbers=numbers, running=running, count=len(running))
    want = [16, 25]
    assert got["squares"] == want, teach("squares_wrong", numbers=numbers, got=got["squares"], want=want)
