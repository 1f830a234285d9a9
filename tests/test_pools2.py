"""pools2: every result under its own input, from tasks that run side by side in the pool.

The tasks the tests hand over come from dojo.toolkit.gates: they force the order in which the
futures finish, or hold the tasks until `workers` of them run at once, and record where
each one ran (pid, start method, thread). Nothing waits on a timer to decide a verdict;
a gate that cannot open gives up after its patience and says so. A PoolSizeContext
(dojo.toolkit.pool_sizes) wraps ctx where the pool itself is judged: it records the size
every pool made through it was given, and counts the processes made through it (none: the
program ignored ctx, even where the default start method happens to be the same).
"""

import os

import pytest

from dojo.toolkit import gates
from dojo.testing import KataRaised
from dojo.toolkit.pool_sizes import PoolSizeContext

INPUTS = ["daum", "cnn", "naver"]
# Finishing orders that pairing by position gets wrong for every input, also when the
# stream of futures is read backwards: the first input finishes last, or in the middle.
FINISHING_ORDERS = {
    "first_finishes_last": ["cnn", "naver", "daum"],
    "last_finishes_first": ["naver", "daum", "cnn"],
}
MOST_WORKERS = 33  # past this many CPUs the pool-size test would start too many processes


def results_by_input(kata, teach, ctx, task, inputs, workers):
    try:
        return kata.results_by_input(ctx, task, inputs, workers)
    except KataRaised as exc:
        pytest.fail(
            teach("raised", inputs=inputs, workers=workers, raised=f"{exc.type_name}: {exc.message}"),
            pytrace=False,
        )


@pytest.mark.clause("labelled")
@pytest.mark.parametrize("order", FINISHING_ORDERS.values(), ids=FINISHING_ORDERS.keys())
def test_each_result_is_filed_under_the_input_that_produced_it(kata, mp_context, teach, order):
    with gates.manager(mp_context) as manager:
        # backwards: results that do not sort like their inputs, so no sorting can pair them.
        task = gates.finishing_order(manager, order, gates.backwards)
        got = results_by_input(kata, teach, mp_context, task, INPUTS, len(INPUTS))
        in_order = not gates.gave_up(task)
    want = {x: gates.backwards(x) for x in INPUTS}
    if got == want:
        return
    mixups = mislabelled(got, want)
    if mixups is None:
        pytest.fail(teach("wrong_results", inputs=INPUTS, got=got, want=want), pytrace=False)
    if in_order:
        pytest.fail(teach("mislabelled", inputs=INPUTS, order=order, got=got, want=want, mixups=mixups), pytrace=False)
    # The tasks did not get to finish in the chosen order (a later one never started while
    # the earlier ones waited), yet the labels are wrong all the same.
    pytest.fail(teach("mislabelled_unordered", inputs=INPUTS, got=got, want=want, mixups=mixups), pytrace=False)


def mislabelled(got, want):
    """If ``got`` holds exactly the right results under the wrong keys: "'a' has the
    result of 'b'; ..."; otherwise None."""
    if not isinstance(got, dict) or set(got) != set(want) or sorted(map(repr, got.values())) != sorted(map(repr, want.values())):
        return None
    owner = {value: x for x, value in want.items()}
    return "; ".join(f"{x!r} has the result of {owner[got[x]]!r}" for x in want if got[x] != want[x])


@pytest.mark.clause("side_by_side", "sized_by_workers")
def test_as_many_tasks_run_at_once_as_there_are_workers_even_beyond_the_cpu_count(kata, mp_context, teach):
    cpus = os.cpu_count() or 1
    workers = max(cpus + 1, 3)  # more than any CPU count a pool could be sized by
    if workers > MOST_WORKERS:
        pytest.skip(f"not on this machine: {cpus} CPUs")
    inputs = [f"job{k}" for k in range(workers + 1)]
    with gates.manager(mp_context) as manager:
        task = gates.meeting(manager, workers, gates.backwards)
        results_by_input(kata, teach, mp_context, task, inputs, workers)
        most = gates.most_at_once(task)
        met = not gates.gave_up(task)
    if not met:
        pytest.fail(teach("not_side_by_side", inputs=inputs, workers=workers, most=most, cpus=cpus), pytrace=False)


@pytest.mark.clause("sized_by_workers")
def test_the_pool_has_exactly_workers_processes_no_more_no_fewer(kata, mp_context, teach, host):
    # More inputs than workers (twice as many, and one), so that neither a pool of one
    # worker per input nor one of twice the workers is `workers` by accident; and more
    # workers than CPUs, so that a pool sized by the machine is not either.
    cpus = os.cpu_count() or 1
    workers = max(cpus + 1, 3)
    if workers > MOST_WORKERS:
        pytest.skip(f"not on this machine: {cpus} CPUs")
    inputs = [f"job{k}" for k in range(2 * workers + 1)]
    ctx = PoolSizeContext(mp_context)
    with gates.manager(mp_context) as manager:
        # A meeting of one never holds a task: the gate only records where tasks ran and
        # how many ran at once.
        task = gates.meeting(manager, 1, gates.backwards)
        results_by_input(kata, teach, ctx, task, inputs, workers)
        most = gates.most_at_once(task)
        ran = gates.ran(task)
    fields = dict(inputs=inputs, workers=workers, cpus=cpus)
    sizes = ctx.sizes
    if sizes:
        # The size each pool was given when it was made: the most it can ever run at once,
        # whatever the scheduler did in this run.
        if sum(sizes) > workers:
            key = "pool_sized_by_machine" if set(sizes) == {cpus} else "pool_bigger"
            pytest.fail(teach(key, **fields, sizes=sizes, size=sum(sizes)), pytrace=False)
        if sum(sizes) < workers:
            key = "pool_sized_by_machine" if set(sizes) == {cpus} else "pool_smaller"
            pytest.fail(teach(key, **fields, sizes=sizes, size=sum(sizes)), pytrace=False)
    else:
        # No pool made through ctx (that is another test's failure): count the processes
        # that ran tasks instead.
        pids = {where["pid"] for _x, where in ran if where["pid"] != host.pid()}
        started = max(ctx.created, len(pids))
        if started > workers:
            pytest.fail(teach("more_processes", **fields, started=started), pytrace=False)
    if most > workers:
        pytest.fail(teach("more_at_once", **fields, most=most), pytrace=False)


@pytest.mark.clause("in_processes", "uses_ctx")
def test_each_task_runs_in_a_worker_process_started_from_ctx(kata, mp_context, teach, host):
    method = mp_context.get_start_method()
    ctx = PoolSizeContext(mp_context)
    with gates.manager(mp_context) as manager:
        # A meeting of one never holds a task: here the gate only records where tasks ran.
        task = gates.meeting(manager, 1, gates.backwards)
        results_by_input(kata, teach, ctx, task, INPUTS, 2)
        ran = gates.ran(task)
    caller = host.pid()
    in_caller = sorted(x for x, where in ran if where["pid"] == caller)
    if in_caller:
        threads = sorted({where["thread"] for x, where in ran if where["pid"] == caller})
        pytest.fail(
            teach("ran_in_caller", inputs=INPUTS, tasks=in_caller, pid=caller, threads=threads), pytrace=False
        )
    elsewhere = {x: where["method"] for x, where in ran if where["method"].split(":")[-1] != method}
    if elsewhere:
        pytest.fail(teach("other_context", inputs=INPUTS, got=elsewhere), pytrace=False)
    if ran and ctx.created == 0:
        # The right start method, but not one process made through ctx: the program made
        # its pool from multiprocessing's default context, which only happens to be this
        # one here.
        pids = sorted({where["pid"] for _x, where in ran})
        pytest.fail(teach("not_through_ctx", inputs=INPUTS, seen=len(pids)), pytrace=False)
