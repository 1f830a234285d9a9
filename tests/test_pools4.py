"""pools4: as_completed(timeout=) must report the stragglers and leave without them.

Every task runs fn = dojo.stragglers.HoldBack, which logs (in a Manager list) when each
item starts and finishes, in which process and with which start method. A held item waits
for an Event this test owns, or at most until a deadline (HOLD x the timeout after the
call, and after the kata's last process start), so everything is read from outside, on one
clock:
- a held item that finished before the kata returned means the kata waited for it;
- a free item whose result reached the kata's process long before the timeout must be
  among the results;
- the process and start method each item ran in, and whether the pool was made through
  ctx at all (a CountingContext counts its processes);
- every wait the kata made on its pool's futures or results (dojo.toolkit.waits), with its
  timeout and whether it ran out: the waits that ran out add up to a lower bound of how
  long it waited, measured by no clock of the test's.

The only clocks: the kata's timeout and the held items' deadline, HOLD times as long: far
more than a solved kata needs to give up and return even on a crowded machine, and shorter
than the timeouts of a kata that gives every late item its own, so a kata that waits for
its stragglers sees them finish. The deadline counts from the kata's last process start
as well as from the call: the kata starts its workers before its timeout begins, and on a
crowded machine that alone can take longer than HOLD timeouts.
"""

import contextlib
import os
import time

import pytest

from dojo import procs
from dojo.toolkit import stragglers
from dojo.testing import CountingContext, KataRaised
from dojo.toolkit.booted import START_METHOD_OF_CLASS as BOOTED_CLASSES
from dojo.toolkit.booted import BootedContext
from dojo.toolkit.waits import WaitWatchingContext, waited_at_least

SCALE = float(os.environ.get("DOJO_TIMEOUT_SCALE") or 1)  # a slow machine stretches every clock
PATIENT = 5.0 * SCALE  # the kata's timeout where nothing is held back
QUICK = 0.5 * SCALE  # the kata's timeout where the question is whether it waits
IN_TIME = 1.0 * SCALE  # the kata's timeout where free items should beat it
HOLD = 4  # a held item gives up by itself HOLD x the kata's timeout after the call and its last start
HOLD_LONG = 8  # ... where every wait of the kata that has a timeout must run out first
WAIT_SLACK = 1.25  # waits that ran out may add up to this many timeouts (rounding, a last poll)
MARGIN = 0.2 * SCALE  # a free item that finished this long before the timeout is surely in time


def pool_processes(host):
    """Every process below the one that ran the kata (pool workers, also under a fork
    server); not the fork server or the resource tracker."""
    return {p.pid for p in host.descendants()}


class Run:
    """One call of gather with a held-back fn, observed from outside."""

    def __init__(self, kata, ctx, host, release, log, clock, booted=False, watch=None):
        self.kata, self.host = kata, host
        # BootedContext: it tells `clock` (and so the held items) when the kata last
        # started a process. booted: and every worker is up before the kata's timeout
        # starts. Only where free items must beat the timeout: its workers boot one after
        # another, which on a crowded machine takes long.
        # watch: another wrapper of ctx (counting processes, recording waits).
        self.base = BootedContext(ctx, boot=booted, clock=clock)
        self.ctx = watch(self.base) if watch else self.base
        self.clock = clock
        self.release, self.log = release, log
        self.got = self.raised = None
        self.started = self.returned = None
        self.records = []
        self.before = set()  # the processes below the kata's process before the call

    def gather(self, items, hold, timeout, hold_for=HOLD):
        self.items, self.hold, self.timeout = list(items), list(hold), timeout
        self.started = time.monotonic()
        fn = stragglers.HoldBack(hold, self.release, self.started + hold_for * timeout, self.log,
                                 later=self.clock, span=hold_for * timeout)
        try:
            self.got = self.kata.gather(self.ctx, fn, self.items, timeout)
        except KataRaised as exc:
            self.raised = exc.type_name
        except TypeError as exc:  # the kata fixture refused a result that is not plain data
            self.got = f"<not plain data: {exc}>"
        self.returned = time.monotonic()
        self.records = list(self.log)  # what had happened by the time it returned
        return self

    def settle(self):
        """Release every held item and wait until the pool's processes are gone (what the
        pool still had queued runs now, unobserved), so the leak guard finds nothing."""
        self.release.set()
        procs.wait_until(lambda: pool_processes(self.host) <= self.before, 5.0 * SCALE)
        self.records = list(self.log)

    def waiting_began(self):
        """No earlier than this (seconds since the call) did the kata start its timeout: it
        starts its pool's workers (in its own thread) before it waits for them."""
        return max(0.0, self.base.last_start() - self.started)

    def when(self, event, item):
        """When `item` first had `event` ("start", "finish", or "arrive": its result reached
        the kata's process), in seconds since the call; None if it never did."""
        times = [t for e, i, _pid, _kind, t in self.records if e == event and i == item]
        return min(times) - self.started if times else None

    def at(self, event, item):
        """The same, rounded for a message."""
        seconds = self.when(event, item)
        return None if seconds is None else round(seconds, 2)

    def waited_for(self):
        """The held items that finished before the kata returned: it waited for them."""
        return [item for item in self.hold if self.finished_before_return(item)]

    def finished_before_return(self, item):
        times = [t for e, i, _p, _k, t in self.records if e == "finish" and i == item]
        return bool(times) and min(times) < self.returned

    def report(self):
        return self.got if self.raised is None else f"raised {self.raised}"


@contextlib.contextmanager
def observed(kata, ctx, host, booted=False, watch=None):
    with ctx.Manager() as manager:
        if watch == "waits":
            watch = lambda ctx: WaitWatchingContext(ctx, manager.list())  # noqa: E731
        run = Run(kata, ctx, host, manager.Event(), manager.list(), manager.Value("d", 0.0), booted, watch)
        run.before = pool_processes(host)
        try:
            yield run
        finally:
            run.settle()  # also after a failure: nothing is left for the leak guard


def check_returned(run, teach):
    """The report came back: no exception escaped (the timeout above all)."""
    if run.raised == "TimeoutError":
        pytest.fail(teach("timeout_escaped", items=run.items, timeout=run.timeout, raised=run.raised), pytrace=False)
    if run.raised is not None:
        pytest.fail(teach("kata_raised", items=run.items, timeout=run.timeout, raised=run.raised), pytrace=False)
    got = run.got
    if not (isinstance(got, dict) and isinstance(got.get("results"), dict) and isinstance(got.get("stragglers"), (list, tuple))):
        pytest.fail(teach("not_a_report", items=run.items, timeout=run.timeout, got=got), pytrace=False)


def check_accounted(run, teach):
    """Every item exactly once, in results or stragglers; every result is fn(item)."""
    got = run.got
    accounted = sorted(list(got["results"]) + list(got["stragglers"]), key=repr)
    assert accounted == sorted(run.items, key=repr), teach("items_lost", items=run.items, timeout=run.timeout, got=got)
    wrong = {item: value for item, value in got["results"].items() if value != item * item}
    assert not wrong, teach(
        "results_wrong", items=run.items, timeout=run.timeout, got=got,
        wrong=wrong, want={item: item * item for item in wrong},
    )


def check_no_wait(run, teach):
    """No held item had finished when the kata returned."""
    waited = run.waited_for()
    if not waited:
        return
    fields = dict(items=run.items, timeout=run.timeout, got=run.report(), waited=waited,
                  finished=run.at("finish", waited[0]), returned=round(run.returned - run.started, 2))
    reported = run.got["results"] if run.raised is None and isinstance(run.got, dict) else {}
    if any(item in reported for item in waited):
        # It waited for the item and counted it a result: the wait was never cut short.
        pytest.fail(teach("waited_through_timeout", **fields), pytrace=False)
    # It reported the item late (or raised), yet returned after it finished: the waiting
    # came after the timeout had struck.
    pytest.fail(teach("waited_after_timeout", **fields), pytrace=False)


@pytest.mark.clause("results_right", "stragglers_reported")
def test_every_result_comes_back_when_nothing_straggles(kata, mp_context, teach, host):
    with observed(kata, mp_context, host) as run:
        run.gather([1, 2, 3], hold=[], timeout=PATIENT)
    want = {"results": {1: 1, 2: 4, 3: 9}, "stragglers": []}
    assert run.raised is None and run.got == want, teach("all_in_time", got=run.report(), want=want, timeout=PATIENT)


@pytest.mark.clause("in_processes")
def test_fn_runs_in_worker_processes_of_the_given_start_method(kata, mp_context, teach, host):
    method = mp_context.get_start_method()
    with observed(kata, mp_context, host, watch=CountingContext) as run:
        run.gather([1, 2, 3], hold=[], timeout=PATIENT)
    caller = host.pid()
    starts = [(item, pid, kind) for event, item, pid, kind, _t in run.records if event == "start"]
    in_caller = sorted(item for item, pid, _kind in starts if pid == caller)
    assert not in_caller, teach("ran_in_caller", items=run.items, in_caller=in_caller, caller=caller)
    classes = {**stragglers.START_METHOD_OF_CLASS, **BOOTED_CLASSES}
    methods = {classes.get(kind, kind) for _item, _pid, kind in starts}
    assert methods <= {method}, teach("wrong_start_method", items=run.items, seen=sorted(methods))
    # The right start method, but not one process made through ctx: the pool came from
    # multiprocessing's default context, which only happens to be this one here.
    workers = {pid for _item, pid, _kind in starts}
    assert not (workers and run.ctx.created == 0), teach("not_through_ctx", items=run.items, seen=len(workers))


@pytest.mark.clause("timeout_caught", "stragglers_reported", "results_right")
def test_a_straggler_is_reported_and_no_item_is_lost(kata, mp_context, teach, host):
    with observed(kata, mp_context, host, booted=True) as run:
        run.gather([7, 1, 2, 3], hold=[7], timeout=IN_TIME)
    check_returned(run, teach)
    check_accounted(run, teach)
    got = run.got
    if not run.finished_before_return(7):  # if it waited for 7, the waiting tests say so
        assert 7 in got["stragglers"], teach("straggler_not_reported", items=run.items, timeout=IN_TIME, got=got, item=7)
    # A free item whose result reached the kata's process well before the timeout came
    # back in time (the pool marks its future done right after unpickling it, and
    # as_completed yields every future done before its deadline). The workers were up
    # before the timeout started (BootedContext), so on any machine the free items arrive
    # long before it ends; still, judge only those the log shows arrived at least MARGIN
    # before the earliest moment the timeout can have ended.
    deadline = run.waiting_began() + IN_TIME
    arrived = {item: run.when("arrive", item) for item in (1, 2, 3)}
    surely = [item for item, t in arrived.items() if t is not None and t < deadline - MARGIN]
    late = [item for item in surely if item not in got["results"]]
    assert not late, teach(
        "finished_reported_late", items=run.items, timeout=IN_TIME, got=got, late=late,
        arrived=max(run.at("arrive", item) for item in late) if late else None,
    )


@pytest.mark.clause("no_wait_for_stragglers", "bounded_total")
def test_the_call_returns_without_waiting_for_the_straggler(kata, mp_context, teach, host):
    with observed(kata, mp_context, host) as run:
        run.gather([5], hold=[5], timeout=QUICK)
    check_no_wait(run, teach)


@pytest.mark.clause("no_wait_for_stragglers", "bounded_total")
def test_several_late_items_cost_one_timeout_not_one_each(kata, mp_context, teach, host):
    with observed(kata, mp_context, host) as run:
        # Six held items: one timeout each would add up to twice what they are held for.
        run.gather([1, 2, 3, 4, 5, 6, 7, 8], hold=[2, 3, 5, 6, 7, 8], timeout=QUICK)
    check_no_wait(run, teach)


@pytest.mark.clause("stragglers_reported", "timeout_caught")
def test_items_still_queued_at_the_timeout_are_stragglers_too(kata, mp_context, teach, host):
    # Every item is held: the pool's workers each run one, the rest wait in its queue.
    # Whether the queued ones are cancelled is not judged: CPython (3.10-3.13) forgets
    # shutdown(wait=False, cancel_futures=True) when the executor is garbage-collected
    # before the pool's thread has woken up, which is what returning right after the call
    # does, so a test of it would fail the lesson's own recipe at random.
    items = list(range(1, 11))
    with observed(kata, mp_context, host) as run:
        run.gather(items, hold=items, timeout=QUICK)
    if run.waited_for():
        return  # it waited for its stragglers: the tests above say so, nothing here to judge
    check_returned(run, teach)
    check_accounted(run, teach)
    assert sorted(run.got["stragglers"], key=repr) == sorted(items, key=repr), teach("items_lost", items=items, timeout=QUICK, got=run.got)


@pytest.mark.clause("bounded_total")
def test_all_the_waits_together_run_out_after_one_timeout_not_more(kata, mp_context, teach, host):
    # Every item is held until the test lets go (or HOLD_LONG x the timeout), far longer
    # than the kata may wait, so every wait of the kata that has a timeout runs out. A wait that ran out lasted at
    # least its timeout, on any machine: the timeouts of those waits add up to a lower
    # bound of how long the kata waited, with no clock of the test's involved.
    items = [1, 2, 3, 4]
    with observed(kata, mp_context, host, watch="waits") as run:
        run.gather(items, hold=items, timeout=QUICK, hold_for=HOLD_LONG)
        waits = run.ctx.waits()
    # Whether it waited for the held items is the other tests' business: a wait without a
    # timeout never runs out, so here it adds nothing; the waits that ran out did so first.
    total, thread, _timeouts = waited_at_least(waits)
    if total > WAIT_SLACK * QUICK + 0.02:
        ran_out = [w for w in waits if w["thread"] == thread and w["timed_out"] and w["timeout"] is not None]
        shown = ", ".join(f"{w['what']}(timeout={w['timeout']:.2f})" for w in ran_out)
        pytest.fail(
            teach("waits_add_up", items=items, timeout=QUICK, got=run.report(), total=round(total, 2), waits=shown),
            pytrace=False,
        )
