"""pools4: as_completed(timeout=) must report the stragglers and leave without them.

The straggler waits on an Event this test owns (dojo/stragglers.py), so whether the kata
waited for it is read from outside: `finished` is still clear when a solved kata returns.
Its own deadline (HOLD) only bounds what an unsolved kata costs.
"""

import contextlib

from dojo import procs, stragglers
from dojo.testing import KataRaised

QUICK = 0.2  # the kata's timeout in the tests with a straggler
HOLD = 1.0  # the straggler's own deadline: far past QUICK, so a solved kata is long gone


def pool_processes(host):
    """Every process below the one that ran the kata (pool workers, also under a fork
    server); not the fork server or the resource tracker."""
    return {p.pid for p in host.descendants()}


@contextlib.contextmanager
def workers_gone(host):
    """A solved kata leaves while its pool winds down in the background: wait for that
    here, so that the leak guard has nothing to kill."""
    before = pool_processes(host)
    try:
        yield
    finally:
        procs.wait_until(lambda: pool_processes(host) <= before, 5.0)


@contextlib.contextmanager
def held_back(ctx, host, hold):
    """fn(item) = item * item, where the items in `hold` wait until this test releases them."""
    with ctx.Manager() as manager:
        release, finished = manager.Event(), manager.Event()
        with workers_gone(host):
            try:
                yield stragglers.HoldBack(hold, release, finished, HOLD), finished
            finally:
                release.set()


def gather(kata, ctx, fn, items, timeout):
    """(returned value, None), or (None, name of the exception that escaped the kata)."""
    try:
        return kata.gather(ctx, fn, items, timeout), None
    except KataRaised as exc:
        return None, exc.type_name


def test_every_result_comes_back_when_nothing_straggles(kata, mp_context, teach, host):
    fn = stragglers.HoldBack([], None, None, HOLD)
    with workers_gone(host):
        got, raised = gather(kata, mp_context, fn, [1, 2, 3], 5.0)
    want = {"results": {1: 1, 2: 4, 3: 9}, "stragglers": []}
    assert raised is None and got == want, teach("all_in_time", got=got or raised, want=want)


def test_a_straggler_is_reported_and_no_item_is_lost(kata, mp_context, teach, host):
    items = [1, 2, 3]
    with held_back(mp_context, host, hold=[3]) as (fn, finished):
        got, raised = gather(kata, mp_context, fn, items, QUICK)
    assert raised is None, teach("timeout_escaped", items=items, timeout=QUICK, raised=raised)
    assert 3 in got["stragglers"], teach("straggler_not_reported", items=items, timeout=QUICK, got=got)
    # Items 1 and 2 take no time, but whether they beat a 0.2 s timeout depends on how fast
    # this machine starts processes: each may be in either list, never in both or neither.
    accounted = sorted(list(got["results"]) + list(got["stragglers"]))
    right = all(got["results"][item] == item * item for item in got["results"])
    assert accounted == items and right, teach("items_lost", items=items, timeout=QUICK, got=got)


def test_the_call_returns_without_waiting_for_the_straggler(kata, mp_context, teach, host):
    with held_back(mp_context, host, hold=[5]) as (fn, finished):
        got, raised = gather(kata, mp_context, fn, [5], QUICK)
        waited = finished.is_set()  # read before the test releases the straggler
    assert not waited, teach("waited_for_straggler", timeout=QUICK, hold=HOLD)
    assert raised is None, teach("timeout_escaped", items=[5], timeout=QUICK, raised=raised)
    assert got == {"results": {}, "stragglers": [5]}, teach("straggler_not_reported", items=[5], timeout=QUICK, got=got)
