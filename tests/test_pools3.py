"""pools3: a failing task is one outcome among others, caught where future.result() raises.

Plain numbers check what comes back. Traced numbers (dojo.toolkit.traced) also record
where square_root read each number (pid, start method), where each exception a worker
raised arrived after its trip back, and whether the pool carried it as a raised exception
(rebuilt with its remote traceback) or as a value the worker returned; so the tests see
that the work ran in the pool and that the failures travelled back to the caller as
exceptions, not only the final dicts. A CountingContext says whether the pool was made
through ctx at all.
"""

import pytest

from dojo.toolkit import gates
from dojo.testing import CountingContext, KataRaised
from dojo.toolkit.traced import Tracer

# The exception type each kind of bad input raises in math.sqrt.
FAILS = {"negative": "ValueError", "not a number": "TypeError", "too big for a float": "OverflowError"}

CASES = {
    # Several failures of two types among good numbers: a try around the whole loop
    # cannot record them all, whatever order the tasks finish in.
    "mixed": ([16, -1, "nine", 25, -4.0, 0], {16: 4.0, 25: 5.0, 0: 0.0}, {-1: "ValueError", "nine": "TypeError", -4.0: "ValueError"}),
    "all_fail": ([-9, "four"], {}, {-9: "ValueError", "four": "TypeError"}),
    "none_fail": ([1, 2.25, 100], {1: 1.0, 2.25: 1.5, 100: 10.0}, {}),
}


def square_roots(kata, teach, ctx, numbers):
    """Call the kata; an exception that escapes it is the lesson's symptom, not a crash."""
    try:
        return kata.square_roots(ctx, numbers)
    except KataRaised as exc:
        raised, message = exc.type_name, exc.message
    if raised in FAILS.values():
        pytest.fail(teach("failure_escaped", numbers=numbers, raised=raised, message=message), pytrace=False)
    pytest.fail(teach("raised", numbers=numbers, raised=raised, message=message), pytrace=False)


def traced_numbers(manager):
    tracer = Tracer(manager)
    numbers = [
        tracer.number(16),
        tracer.number(-1),
        tracer.number("nine"),
        tracer.number(2**1024, shown="2**1024"),
        tracer.number(25),
    ]
    return tracer, numbers


FAILING_TRACED = {-1, "nine", 2**1024}  # the traced numbers whose square_root raises


def shown(numbers):
    """Plain value -> how the test's numbers print (2**1024 rather than 309 digits)."""
    return {_plain(x): repr(x) for x in numbers}


def _plain(x):
    return str.__str__(x) if isinstance(x, str) else int(x) if isinstance(x, int) else x


def listed(values) -> str:
    """"0, 25" (or "none"): values as they print, for a message."""
    return ", ".join(sorted((repr(x) for x in values), key=str)) or "none"


def parts(got):
    if isinstance(got, dict) and isinstance(got.get("results"), dict) and isinstance(got.get("errors"), dict):
        return got["results"], got["errors"]
    return None


@pytest.mark.clause("returns", "results_kept", "errors_by_input")
@pytest.mark.parametrize("numbers, results, errors", CASES.values(), ids=CASES.keys())
def test_every_number_ends_up_in_results_or_in_errors_under_itself(kata, mp_context, teach, numbers, results, errors):
    got = square_roots(kata, teach, mp_context, numbers)
    if parts(got) is None:
        pytest.fail(teach("not_two_dicts", numbers=numbers, got=got), pytrace=False)
    got_results, got_errors = parts(got)
    if got_results != results:
        # Name what differs: a failed number with a result, or a good number lost.
        extra = listed(x for x in got_results if x not in results)
        lost = listed(x for x in results if x not in got_results)
        pytest.fail(
            teach("results_lost", numbers=numbers, got=got_results, want=results, extra=extra, lost=lost),
            pytrace=False,
        )
    if got_errors != errors:
        pytest.fail(teach("errors_not_reported", numbers=numbers, got=got_errors, want=errors), pytrace=False)


@pytest.mark.clause("returns")
def test_no_failure_escapes_the_call_whatever_its_type(kata, mp_context, teach):
    with gates.manager(mp_context) as manager:
        _, numbers = traced_numbers(manager)
        got = square_roots(kata, teach, mp_context, numbers)
    if parts(got) is None:
        pytest.fail(teach("not_two_dicts", numbers=numbers, got=got), pytrace=False)


@pytest.mark.clause("in_workers", "uses_ctx")
def test_every_square_root_is_computed_in_a_pool_worker_started_from_ctx(kata, mp_context, teach, host):
    method = mp_context.get_start_method()
    ctx = CountingContext(mp_context)  # counts the processes made through ctx
    with gates.manager(mp_context) as manager:
        tracer, numbers = traced_numbers(manager)
        try:
            kata.square_roots(ctx, numbers)
        except KataRaised:
            pass  # whether it returns is another test's business; here: where the work ran
        computed = tracer.computed()
    caller = host.pid()
    names = shown(numbers)  # in the order of numbers
    seen = {x for x, _ in computed}
    never = ", ".join(names[x] for x in names if x not in seen)
    if never:
        pytest.fail(teach("never_computed", numbers=numbers, never=never), pytrace=False)
    in_caller = {x for x, where in computed if where["pid"] == caller}
    if in_caller:
        in_caller = ", ".join(names[x] for x in names if x in in_caller)
        pytest.fail(teach("computed_in_caller", numbers=numbers, in_caller=in_caller, pid=caller), pytrace=False)
    methods = {x: where["method"] for x, where in computed if where["method"].split(":")[-1] != method}
    if methods:
        elsewhere = ", ".join(f"{names[x]}: {methods[x]}" for x in names if x in methods)
        pytest.fail(teach("other_context", numbers=numbers, got=elsewhere), pytrace=False)
    if ctx.created == 0:
        # The right start method, but not one process made through ctx: the pool came
        # from multiprocessing's default context, which only happens to be this one here.
        workers = len({where["pid"] for _x, where in computed})
        pytest.fail(teach("not_through_ctx", numbers=numbers, seen=workers), pytrace=False)


@pytest.mark.clause("caught_in_caller")
def test_each_worker_exception_travels_back_to_the_caller(kata, mp_context, teach, host):
    with gates.manager(mp_context) as manager:
        tracer, numbers = traced_numbers(manager)
        try:
            kata.square_roots(mp_context, numbers)
        except KataRaised:
            pass  # an escaping exception has travelled back too; the other tests judge that
        computed = tracer.computed()
        arrived = tracer.arrived()
        rebuilt = tracer.rebuilt()
    caller = host.pid()
    names = shown(numbers)
    # Only the failures raised in a worker can travel; where the work ran is judged by
    # the test above.
    raised_in_worker = {x for x, where in computed if x in FAILING_TRACED and where["pid"] != caller}
    came_back = {x for x, _, where in arrived if where["pid"] == caller}
    stuck = [names[x] for x in names if x in raised_in_worker - came_back]
    if stuck:
        pytest.fail(teach("caught_in_worker", numbers=numbers, stuck=", ".join(stuck), pid=caller), pytrace=False)
    # Arrived, but as what? The pool sends an exception the task RAISED wrapped with its
    # traceback and rebuilds it on arrival; one the worker caught and returned arrives as
    # a plain value, and future.result() hands it over instead of raising it.
    as_raised = {x for x, _, where in rebuilt if where["pid"] == caller}
    returned = [names[x] for x in names if x in (raised_in_worker & came_back) - as_raised]
    if returned:
        pytest.fail(teach("returned_not_raised", numbers=numbers, returned=", ".join(returned), pid=caller), pytrace=False)
