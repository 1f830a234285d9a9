"""shared4: nested-list updates reach the Manager, which always shuts down.

Every call goes through a JournalContext (dojo/toolkit/process_journal.py): each process
started through ctx, the Manager's server included, writes down from inside that it ran,
and the parent side notes when each one was waited for. The numbers are TracedInts,
which write down which process squared them.
"""

import pytest

from dojo import procs
from dojo.testing import KataRaised
from dojo.toolkit.process_journal import JournalContext, Journal, Seen, TracedInt


@pytest.fixture
def journal():
    j = Journal.create()
    yield j
    j.remove()


def call(kata, ctx, jobs, teach):
    """(result, None) or (None, "Type: message") when the kata raised."""
    try:
        return kata.squares_by_job(ctx, jobs), None
    except KataRaised as exc:
        return None, f"{exc.type_name}: {exc.message}"
    except TypeError as exc:  # what came back is not plain data
        return None, NotPlain(exc)


class NotPlain(str):
    """What came back was not plain data (a proxy, a memoryview ...): the checker's words."""


def outcome(teach, got, raised):
    if isinstance(raised, NotPlain):
        return teach("outcome_not_plain", error=raised)
    return teach("outcome_raised", error=raised) if raised else teach("outcome_returned", got=got)


def squares_of(jobs):
    return {job: [n * n for n in numbers] for job, numbers in jobs.items()}


def check_result(teach, jobs, got, raised):
    want = squares_of(jobs)
    if raised is None and got == want:
        return
    if isinstance(raised, NotPlain):
        pytest.fail(teach("not_plain", jobs=jobs, error=raised), pytrace=False)
    if raised is not None:
        pytest.fail(teach("call_raised", jobs=jobs, error=raised, want=want), pytrace=False)
    if isinstance(got, dict):
        missing = [job for job in want if job not in got]
        short = [
            job for job in want
            if job in got and isinstance(got[job], list) and got[job] != want[job] and got[job] == want[job][: len(got[job])]
        ]
        if short and all(not want[job] for job in missing):
            pytest.fail(teach("appends_lost", jobs=jobs, got=got, want=want, short=", ".join(map(repr, short))), pytrace=False)
        if missing and not short and all(not want[job] for job in missing):
            pytest.fail(teach("empty_job", jobs=jobs, got=got, want=want, missing=", ".join(map(repr, missing))), pytrace=False)
    pytest.fail(teach("wrong_result", jobs=jobs, got=got, want=want), pytrace=False)


def check_joined(teach, seen, jobs, got, raised):
    left = seen.unjoined()
    assert not left, teach(
        "workers_not_joined", jobs=jobs, outcome=outcome(teach, got, raised),
        left=", ".join(f"pid {pid}" for pid in left), count=len(left), total=len(seen.workers),
    )


@pytest.mark.clause("squares_right", "all_joined")
@pytest.mark.parametrize(
    "jobs",
    [{"small": [3, 1, 2], "large": [20, -10]}, {"one": [6]}],
    ids=["two-jobs", "one-job"],
)
def test_every_jobs_squares_reach_the_parent_in_order(kata, mp_context, teach, journal, jobs):
    got, raised = call(kata, JournalContext(mp_context, journal), jobs, teach)
    check_result(teach, jobs, got, raised)
    check_joined(teach, Seen(journal), jobs, got, raised)


@pytest.mark.clause("empty_jobs", "squares_right", "all_joined")
@pytest.mark.parametrize("jobs", [{"idle": [], "busy": [7]}, {}], ids=["one-idle", "no-jobs"])
def test_a_job_without_numbers_keeps_an_empty_list(kata, mp_context, teach, journal, jobs):
    got, raised = call(kata, JournalContext(mp_context, journal), jobs, teach)
    check_result(teach, jobs, got, raised)
    check_joined(teach, Seen(journal), jobs, got, raised)


@pytest.mark.clause("in_children", "all_joined")
def test_every_square_is_computed_in_a_worker_started_through_ctx(kata, mp_context, teach, host, journal):
    plain = {"a": [4, 3], "b": [5]}
    jobs = {job: [TracedInt(n, journal) for n in numbers] for job, numbers in plain.items()}
    got, raised = call(kata, JournalContext(mp_context, journal), jobs, teach)
    seen = Seen(journal)
    workers = set(seen.workers)
    elsewhere = sorted({pid for pid, _ in seen.squares if pid not in workers})
    assert not elsewhere, teach(
        "squared_elsewhere", jobs=plain, pids=elsewhere, caller=host.pid(), workers=sorted(workers),
        outcome=outcome(teach, got, raised),
    )
    check_joined(teach, seen, plain, got, raised)


@pytest.mark.clause("via_manager", "all_joined")
def test_the_squares_travel_through_a_manager_started_from_ctx(kata, mp_context, teach, journal):
    jobs = {"x": [2, 3], "y": [4]}
    got, raised = call(kata, JournalContext(mp_context, journal), jobs, teach)
    seen = Seen(journal)
    assert seen.managers, teach("no_manager", jobs=jobs, outcome=outcome(teach, got, raised))
    check_joined(teach, seen, jobs, got, raised)


@pytest.mark.clause("manager_shutdown", "all_joined")
@pytest.mark.parametrize("fail", ["returns", "start-fails"])
def test_the_manager_has_shut_down_when_the_call_ends(kata, mp_context, teach, journal, fail):
    jobs = {"x": [2, 3], "y": [4]}
    ctx = JournalContext(mp_context, journal, fail_first_start=fail == "start-fails")
    try:
        # With a start that fails, ctx keeps the error, and with it every frame it left:
        # a manager that only a `with` or a finally would have shut down is still up.
        got, raised = call(kata, ctx, jobs, teach)
        seen = Seen(journal)
        running = [pid for pid in seen.managers if pid not in seen.reaped and _alive(pid)]
    finally:
        ctx.release()
    what = teach("when_start_failed") if fail == "start-fails" else teach("when_returned")
    assert not running, teach(
        "manager_left", jobs=jobs, what=what, outcome=outcome(teach, got, raised), pids=", ".join(map(str, running)),
    )
    check_joined(teach, seen, jobs, got, raised)


@pytest.mark.clause("all_joined")
def test_every_worker_is_joined(kata, mp_context, teach, journal):
    jobs = {"a": [1, 2], "b": [3], "c": []}
    got, raised = call(kata, JournalContext(mp_context, journal), jobs, teach)
    check_joined(teach, Seen(journal), jobs, got, raised)


def _alive(pid):
    try:
        return procs.psutil.Process(pid).status() != procs.psutil.STATUS_ZOMBIE
    except procs.psutil.Error:
        return False
