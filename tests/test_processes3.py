import signal

import pytest

from dojo import procs
from dojo.toolkit.held_children import LONG_ENOUGH, HeldChildrenContext, Planned
from dojo.testing import KataRaised

# The children of a HeldChildrenContext (dojo/toolkit/held_children.py) end only once their
# parent waits for them: join() (or a join with a timeout of at least LONG_ENOUGH), a wait on
# the sentinel, or a look (is_alive(), exitcode, a short join) repeated in a loop. A single
# look finds a child running, as a slow child would be, so an exit code read from a process
# nobody waited for is None every time, not just when that child happens to be slow. The
# context also records how many processes had been started when the parent first waited,
# and which children open_all() had to let go because nobody waited for them (and which of
# those the kata had only looked at). The numbers are Planned ints: squaring one in the
# process that called squares() raises RanInParent, and squaring one in a child can make
# that child end with a chosen exit code.


def call_squares(kata, mp_context, numbers):
    """Run squares() under a HeldChildrenContext; return (ctx, result, KataRaised or None)."""
    ctx = HeldChildrenContext(mp_context)
    try:
        return ctx, kata.squares(ctx, numbers), None
    except KataRaised as exc:
        return ctx, None, exc
    finally:
        ctx.open_all()


def check_children_did_the_work(ctx, numbers, raised, teach):
    """What every test needs first: no exception, one process per number started via ctx,
    and every one of them waited for (the leak guard would fail the test anyway)."""
    if raised is not None and raised.type_name == "RanInParent":
        pytest.fail(teach("square_in_parent", numbers=numbers, detail=raised.message))
    if raised is not None:
        pytest.fail(teach("kata_raised", numbers=numbers, error=f"{raised.type_name}: {raised.message}"))
    if ctx.started != len(numbers):
        pytest.fail(
            teach("processes_started", numbers=numbers, started=ctx.started, made=ctx.made, count=len(numbers))
        )
    if ctx.let_go and ctx.looked_at:  # looked at them (a short join, is_alive(), ...) and gave up
        pytest.fail(teach("looked_not_waited", numbers=numbers, let_go=ctx.let_go, started=ctx.started,
                          looked=ctx.looked_at, looks=", ".join(ctx.looked_only()), long_enough=f"{LONG_ENOUGH:g}"))
    if ctx.let_go:
        pytest.fail(teach("not_joined", numbers=numbers, let_go=ctx.let_go, started=ctx.started))


def still_running(host, seconds=5.0):
    """The host's children that have not ended, after giving them up to `seconds` to end.

    A child that was just let go may need a moment before the process table shows it as a
    zombie, and the operating system offers no event for that which a test could wait on
    from outside, so this polls. It returns as soon as every child has ended (at once when
    there is none); the limit only bounds a broken kata.
    """
    def running():
        return [child["pid"] for child in host.children() if child["status"] != "zombie"]

    procs.wait_until(lambda: not running(), seconds)
    return running()


@pytest.mark.clause("squares_in_order", "work_in_children", "all_joined")
def test_every_square_comes_back_in_the_order_of_the_numbers(kata, mp_context, teach):
    numbers = [Planned(3), Planned(1), Planned(2), Planned(3)]
    ctx, got, raised = call_squares(kata, mp_context, numbers)
    check_children_did_the_work(ctx, numbers, raised, teach)
    want = [9, 1, 4, 9]
    assert got["squares"] == want, teach("squares_wrong", numbers=numbers, got=got["squares"], want=want)


@pytest.mark.clause("exitcodes_read", "all_joined", "work_in_children")
def test_every_exit_code_is_read_from_its_own_process_after_joining_it(kata, mp_context, teach):
    # 7's process ends with exit code 3 and 4's is killed by SIGKILL, each only after it
    # has delivered its square; 2 and 5 end normally.
    numbers = [Planned(2), Planned(5), Planned(7, exit_after=3), Planned(4, signal_after=signal.SIGKILL)]
    want = [0, 0, 3, -signal.SIGKILL]
    ctx, got, raised = call_squares(kata, mp_context, numbers)
    check_children_did_the_work(ctx, numbers, raised, teach)
    codes = got["exitcodes"]
    endings = ", ".join(f"{n} → {code}" for n, code in zip(numbers, want))
    if isinstance(codes, list) and None in codes:
        pytest.fail(
            teach("exit_codes_unknown", numbers=numbers, got=codes, want=want)
        )
    assert codes == want, teach("exit_codes_wrong", numbers=numbers, got=codes, want=want, endings=endings)


@pytest.mark.clause("overlap", "work_in_children", "all_joined")
def test_every_process_is_started_before_the_parent_waits_for_any(kata, mp_context, teach):
    numbers = [Planned(1), Planned(2), Planned(3)]
    ctx, got, raised = call_squares(kata, mp_context, numbers)
    check_children_did_the_work(ctx, numbers, raised, teach)
    first = ctx.first_wait
    # A program that never waits at all is not judged here (see the joining tests).
    if first is not None:
        started_then, way = first
        assert started_then == ctx.started, teach(
            "started_one_by_one", numbers=numbers, first=started_then, started=ctx.started, way=way
        )


@pytest.mark.clause("all_joined", "work_in_children")
def test_no_child_is_left_unjoined_when_squares_returns(kata, mp_context, teach, host):
    numbers = [Planned(4), Planned(5)]
    ctx, got, raised = call_squares(kata, mp_context, numbers)
    check_children_did_the_work(ctx, numbers, raised, teach)
    running = still_running(host)
    assert running == [], teach("children_running", numbers=numbers, running=running, count=len(running))
    zombies = host.zombies()
    assert zombies == [], teach("zombies_left", numbers=numbers, zombies=zombies, count=len(zombies))
