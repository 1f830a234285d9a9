"""processes1: a process named after its work, read back in the child.

Every call goes through a WitnessContext: it records, from inside each child started
through the ctx, the child's pid and the name it had before and after its work, so the
tests see where the squares were computed and under which names, not only the result.
"""

import re

import pytest

from dojo.testing import KataRaised
from dojo.toolkit.child_witness import WitnessContext

NUMBERS = [7, 2, 5]  # positions (1, 2, 3) never equal the numbers: a counter cannot pass
# A default name: "Process-3", "ForkProcess-3", "SpawnProcess-2:1", ...
DEFAULT_NAME = re.compile(r"^[A-Za-z]*Process-\d+(:\d+)*$")


def want_for(numbers):
    return {f"square-{n}": n * n for n in numbers}


def squares_by_name(kata, teach, ctx, numbers):
    try:
        return kata.squares_by_name(ctx, numbers)
    except KataRaised as exc:
        pytest.fail(
            teach("raised", numbers=numbers, raised=f"{exc.type_name}: {exc.message}", want=want_for(numbers)),
            pytrace=False,
        )


def keys_of(got):
    """The result's keys, sorted, or None when the result is no dict."""
    return sorted(got, key=str) if isinstance(got, dict) else None


def ran(ctx):
    return [p for p in ctx.processes() if p["ran"]]


def all_default(names):
    return bool(names) and all(DEFAULT_NAME.match(name or "") for name in names)


# Every test is also marked "all_joined": the kit's leak guard fails any test after which
# a child is left running or unreaped. The first test checks it on every start method
# (under forkserver the fork server reaps the children, so only the witness can tell).


@pytest.mark.clause("all_joined")
def test_every_child_is_joined_before_squares_by_name_returns(kata, mp_context, teach, host):
    ctx = WitnessContext(mp_context)
    squares_by_name(kata, teach, ctx, NUMBERS)
    # The witness records when the caller learns that a child has ended (join(), or
    # is_alive()/exitcode once it has): under fork and spawn that also reaps it, under
    # forkserver the fork server reaps it. Seen from outside, a child nobody waited for
    # is still running or a zombie (fork, spawn).
    status = {c["pid"]: c["status"] for c in host.children()}
    left = [f"{p['pid']} ({status.get(p['pid'], 'never waited for')})" for p in ctx.processes() if not p["waited"]]
    assert not left, teach("not_joined", numbers=NUMBERS, left=left)


@pytest.mark.clause("by_name", "named_by_work", "all_joined")
@pytest.mark.parametrize("numbers", [NUMBERS, []], ids=["three", "none"])
def test_every_square_comes_back_under_the_name_square_n(kata, mp_context, teach, numbers):
    # reorder=True: the ctx's Queue hands the children's results to the caller in an order
    # other than the one they were started in, so pairing results with processes by
    # position cannot pass by luck.
    ctx = WitnessContext(mp_context, reorder=True)
    got = squares_by_name(kata, teach, ctx, numbers)
    want = want_for(numbers)
    if got == want:
        return
    names = [p["name_run"] for p in ran(ctx)]
    fields = {"numbers": numbers, "got": got, "want": want, "names": names}
    keys = keys_of(got)
    if keys is not None and keys == sorted(want):
        # The names are right; some values are not the square of their name's number.
        mismatched = sorted(name for name in want if got[name] != want[name])
        pytest.fail(teach("squares_mismatched", mismatched=mismatched, **fields), pytrace=False)
    if keys is not None and keys == sorted(names) and all_default(names):
        # The keys are exactly the default names the children ran under.
        pytest.fail(teach("names_default", **fields), pytrace=False)
    if keys is not None and keys == sorted(names):
        pytest.fail(teach("names_not_work", **fields), pytrace=False)
    pytest.fail(teach("wrong_result", **fields), pytrace=False)


@pytest.mark.clause("named_by_work", "all_joined")
def test_the_same_number_gets_the_same_name_in_every_call(kata, mp_context, teach):
    # Only the names are compared here (which square comes with which name is the first
    # test's business): 3 must be "square-3" whether it is second of two or alone.
    ctx = WitnessContext(mp_context)
    first_call = squares_by_name(kata, teach, ctx, [6, 3])
    second_call = squares_by_name(kata, teach, ctx, [3])
    first = keys_of(first_call) if isinstance(first_call, dict) else first_call
    second = keys_of(second_call) if isinstance(second_call, dict) else second_call
    if first == ["square-3", "square-6"] and second == ["square-3"]:
        return
    fields = {"first": first, "second": second}
    if isinstance(first, list) and isinstance(second, list) and all_default(first + second):
        pytest.fail(teach("names_drift_default", **fields), pytrace=False)
    pytest.fail(teach("names_drift", **fields), pytrace=False)


@pytest.mark.clause("name_read_in_child", "all_joined")
def test_each_child_has_its_name_from_the_start_and_reports_that_name(kata, mp_context, teach):
    ctx = WitnessContext(mp_context)
    got = squares_by_name(kata, teach, ctx, NUMBERS)
    children = ran(ctx)
    if not children:
        return  # nothing ran through ctx: the test of child processes says so
    renamed = [f"{p['name_run']} -> {p['name_end']}" for p in children if p["name_end"] not in (None, p["name_run"])]
    if renamed:
        pytest.fail(teach("renamed_in_child", numbers=NUMBERS, got=got, renamed=renamed), pytrace=False)
    names = sorted((p["name_run"] for p in children), key=str)
    keys = keys_of(got) if isinstance(got, dict) else got
    assert keys == names, teach("keys_not_names", numbers=NUMBERS, got=got, names=names)


@pytest.mark.clause("own_child", "uses_ctx", "all_joined")
def test_every_number_is_squared_in_a_child_process_of_its_own(kata, mp_context, teach, host):
    ctx = WitnessContext(mp_context)
    got = squares_by_name(kata, teach, ctx, NUMBERS)
    children = ran(ctx)
    pids = [p["pid"] for p in children]
    caller = host.pid()
    fields = {"numbers": NUMBERS, "got": got, "count": len(children), "started": ctx.started(), "pids": pids}
    if not children:
        pytest.fail(teach("no_child_ran", **fields), pytrace=False)
    ok = len(children) == len(NUMBERS) and len(set(pids)) == len(pids) and caller not in pids
    assert ok, teach("children_per_number", caller=caller, **fields)
