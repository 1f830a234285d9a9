import signal

import pytest

from dojo import procs
from dojo.toolkit.held_children import LONG_ENOUGH, HeldChildrenContext, Planned
from dojo.testing import KataRaised

# The children of a HeldChildrenContext (dojo/toolkit/held_children.py) end only once their
# parent waits for them: join() (or a join with a timeout of at least LONG_ENOUGH), a wait on
# the sentinel, or a look (is_alive(), exitcode, a short join) repeated in a loop. A single
# look finds a child running, as a slow child would be, so an exit code read from a process
# nobody waited for is None every time, not just when that child happens to be slow.
# open_all() then lets go whatever the kata did not wait for (ctx.let_go counts them, and
# ctx.looked_only() says how the kata looked at those it only looked at) without reaping it.
# Some jobs are Planned ints: run in a child, they end it the way the test chose
# (sys.exit(3), exit code 2 or SIGKILL after the child has reported in); run in the process
# that called failed_jobs(), they raise RanInParent.


def call_failed_jobs(kata, mp_context, jobs):
    """Run failed_jobs() under a HeldChildrenContext; return (ctx, result, KataRaised or None)."""
    ctx = HeldChildrenContext(mp_context)
    try:
        return ctx, kata.failed_jobs(ctx, jobs), None
    except KataRaised as exc:
        return ctx, None, exc
    finally:
        ctx.open_all()


def check_every_child_ran_and_was_waited_for(ctx, jobs, raised, teach):
    """What every test needs first: no exception, one process per job started via ctx, and
    every one of them waited for (otherwise its exit code cannot be known)."""
    if raised is not None and raised.type_name == "RanInParent":
        pytest.fail(teach("job_in_parent", jobs=jobs, detail=raised.message))
    if raised is not None:
        pytest.fail(teach("kata_raised", jobs=jobs, error=f"{raised.type_name}: {raised.message}"))
    if ctx.started != len(jobs):
        pytest.fail(teach("processes_started", jobs=jobs, started=ctx.started, made=ctx.made, count=len(jobs)))
    if ctx.let_go and ctx.looked_at:  # looked at them (a short join, is_alive(), ...) and gave up
        pytest.fail(teach("looked_not_waited", jobs=jobs, let_go=ctx.let_go, started=ctx.started,
                          looked=ctx.looked_at, looks=", ".join(ctx.looked_only()), long_enough=f"{LONG_ENOUGH:g}"))
    if ctx.let_go:
        pytest.fail(teach("not_joined", jobs=jobs, let_go=ctx.let_go, started=ctx.started))


def check_answer(got, jobs, codes, teach, missed):
    """The jobs whose exit code is not 0, sorted, each once. Too many and too few are
    taught differently: the first reports successes, the second misses failures."""
    want = sorted(job for job, code in zip(jobs, codes) if code != 0)
    endings = ", ".join(f"{job} → {code}" for job, code in zip(jobs, codes))
    items = got if isinstance(got, list) else []
    extra = [job for job in items if job not in want]
    if extra:
        pytest.fail(teach("success_reported_as_failure", jobs=jobs, got=got, want=want, extra=extra, endings=endings))
    if not isinstance(got, list) or sorted(set(got)) != want:
        pytest.fail(teach(missed, jobs=jobs, got=got, want=want, endings=endings))
    assert got == want, teach("not_sorted", jobs=jobs, got=got, want=want)


def still_running(host, seconds=5.0):
    """The host's children that have not ended, after giving them up to `seconds` to end.

    A child whose end was just signalled may need a moment before the process table shows
    it as a zombie, and the operating system offers no event for that which a test could
    wait on from outside, so this polls. It returns as soon as every child has ended (at
    once when there is none); the limit only bounds a broken kata.
    """
    def running():
        return [child["pid"] for child in host.children() if child["status"] != "zombie"]

    procs.wait_until(lambda: not running(), seconds)
    return running()


@pytest.mark.clause("raised_is_failure", "zero_is_success", "all_reaped", "own_process")
def test_a_job_whose_process_raised_is_reported_as_failed(kata, mp_context, teach):
    jobs = [4, -1, 9]
    ctx, got, raised = call_failed_jobs(kata, mp_context, jobs)
    check_every_child_ran_and_was_waited_for(ctx, jobs, raised, teach)
    check_answer(got, jobs, [0, 1, 0], teach, "failure_missed")


@pytest.mark.clause("any_nonzero_is_failure", "zero_is_success", "exit_code_decides", "all_reaped", "own_process")
def test_every_non_zero_exit_code_is_a_failure(kata, mp_context, teach):
    # -1 raises ValueError (exit code 1); 7 calls sys.exit(3); 11 and 13 succeed and
    # report in, then 11's process is killed by SIGKILL and 13's ends with exit code 2.
    jobs = [
        Planned(-1),
        Planned(4),
        Planned(7, exit_now=3),
        Planned(11, signal_after=signal.SIGKILL),
        Planned(13, exit_after=2),
    ]
    codes = [1, 0, 3, -signal.SIGKILL, 2]
    ctx, got, raised = call_failed_jobs(kata, mp_context, jobs)
    check_every_child_ran_and_was_waited_for(ctx, jobs, raised, teach)
    check_answer(got, jobs, codes, teach, "nonzero_missed")


@pytest.mark.clause("zero_is_success", "exit_code_decides", "all_reaped", "own_process")
def test_a_job_whose_process_ended_with_exit_code_0_is_not_a_failure(kata, mp_context, teach):
    # 2 calls sys.exit(0): its process ends with exit code 0, a success like the others.
    jobs = [Planned(1), Planned(2, exit_now=0), Planned(9)]
    ctx, got, raised = call_failed_jobs(kata, mp_context, jobs)
    check_every_child_ran_and_was_waited_for(ctx, jobs, raised, teach)
    check_answer(got, jobs, [0, 0, 0], teach, "failure_missed")


@pytest.mark.clause("sorted_once", "raised_is_failure", "zero_is_success", "all_reaped", "own_process")
def test_the_failed_jobs_come_back_sorted(kata, mp_context, teach):
    jobs = [1, -4, -1, -9]
    ctx, got, raised = call_failed_jobs(kata, mp_context, jobs)
    check_every_child_ran_and_was_waited_for(ctx, jobs, raised, teach)
    check_answer(got, jobs, [0, 1, 1, 1], teach, "failure_missed")


@pytest.mark.clause("all_reaped", "own_process")
def test_no_child_is_left_running_or_a_zombie(kata, mp_context, teach, host):
    jobs = [1, 2]
    ctx, got, raised = call_failed_jobs(kata, mp_context, jobs)
    check_every_child_ran_and_was_waited_for(ctx, jobs, raised, teach)
    running = still_running(host)
    assert running == [], teach("children_running", jobs=jobs, running=running)
    zombies = host.zombies()
    assert zombies == [], teach("zombies_left", jobs=jobs, zombies=zombies, count=len(zombies))
