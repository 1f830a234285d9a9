"""memory1: threads share the caller's list; processes must send their squares back.

The numbers the tests pass are TracedInts (dojo.toolkit.work_trace): ints that record,
whenever their value is read (n * n, n ** 2, int(n), float(n), operator.index(n) ...),
which process and thread read it. So the tests see where the work was done, not only the
result: in threads of the calling process for squares_in_threads, in child processes
started through ctx for squares_in_processes, however the square is computed.

Sorted means sorted whatever order the children finish in: one test makes them finish in
the order of the numbers (each child waits, at its first read, until the children of the
numbers before its own are done), which is not the sorted order.
"""

import multiprocessing
import threading
from collections import Counter
from contextlib import contextmanager

import pytest

from dojo.testing import KataRaised
from dojo.toolkit.work_trace import Trace, TraceContext, how_text, is_compute, work_seen

# Negative numbers and a duplicate: the sorted squares are not the input's order, and a
# number given twice must come back twice. -5 is the smallest number but has the largest
# square: squaring the numbers in sorted order does not give the squares sorted.
NUMBERS = [3, -1, 4, -1, -5, 2]
# Where the work is done and whether every child is joined: fewer children, as fast.
FEW = [3, -1, 4]


def want_for(numbers):
    return sorted(n * n for n in numbers)


def missing_and_extra(got, want):
    got_counts = Counter(got) if isinstance(got, list) else Counter()
    want_counts = Counter(want)
    missing = sorted((want_counts - got_counts).elements())
    extra = sorted((got_counts - want_counts).elements(), key=repr)
    return missing, extra


def call(teach, key, fn, *args, numbers):
    try:
        return fn(*args)
    except TypeError as exc:  # the result is not plain data (a generator, a Queue ...)
        pytest.fail(teach("not_plain", function=fn.__name__, numbers=numbers, problem=str(exc)), pytrace=False)
    except KataRaised as exc:
        pytest.fail(
            teach(key, numbers=numbers, raised=f"{exc.type_name}: {exc.message}", want=want_for(numbers)),
            pytrace=False,
        )


# --- threads -------------------------------------------------------------------------------


@contextmanager
def thread_exceptions():
    """What the kata's threads raised during the call (each as "Type: message"), caught
    here so that it is taught, not thrown at the end of the test. (In a grading host the
    threads run in the host; what they raise is not seen here, only the result.)"""
    seen = []
    previous = threading.excepthook
    threading.excepthook = lambda args: seen.append(f"{args.exc_type.__name__}: {args.exc_value}")
    try:
        yield seen
    finally:
        threading.excepthook = previous


@pytest.mark.clause("threads_results")
@pytest.mark.parametrize("numbers", [NUMBERS, []], ids=["five-numbers", "no-numbers"])
def test_threads_return_the_square_of_every_number_sorted(kata, teach, numbers):
    with thread_exceptions() as raised:
        got = call(teach, "threads_raised", kata.squares_in_threads, list(numbers), numbers=numbers)
    want = want_for(numbers)
    missing, extra = missing_and_extra(got, want)
    if raised and got != want:
        pytest.fail(
            teach("thread_raised", numbers=numbers, got=got, want=want, raised=raised[0], count=len(raised)),
            pytrace=False,
        )
    assert got == want, teach("threads_wrong", numbers=numbers, got=got, want=want, missing=missing, extra=extra)


@pytest.mark.clause("in_threads")
def test_the_squares_are_computed_in_threads_of_the_calling_process(kata, teach, host):
    trace = Trace(multiprocessing.get_context())
    with thread_exceptions():  # what they raise is the other test's business: only where they squared counts here
        got = call(teach, "threads_raised", kata.squares_in_threads, trace.numbers(NUMBERS), numbers=NUMBERS)
    caller = host.pid()
    rows = trace.records()
    computed = [r for r in rows if is_compute(r["op"])]
    in_caller_thread = sorted({r["number"] for r in computed if r["pid"] == caller and r["main_thread"]})
    if in_caller_thread:
        pytest.fail(teach("threads_in_calling_thread", numbers=NUMBERS, seen=in_caller_thread), pytrace=False)
    elsewhere = [r for r in computed if r["pid"] != caller]
    if elsewhere:
        pids = sorted({r["pid"] for r in elsewhere})
        seen = sorted({r["number"] for r in elsewhere})
        pytest.fail(teach("threads_in_other_process", numbers=NUMBERS, seen=seen, pids=pids), pytrace=False)
    # A number whose square came back although no thread of the caller squared it.
    in_threads = {r["number"] for r in rows}
    came_back = [n for n in dict.fromkeys(NUMBERS) if isinstance(got, list) and n * n in got]
    unseen = [n for n in came_back if n not in in_threads]
    assert not unseen, teach("threads_unseen", numbers=NUMBERS, unseen=unseen)


# --- processes -----------------------------------------------------------------------------


@pytest.mark.clause("processes_results", "all_joined")
@pytest.mark.parametrize("numbers", [NUMBERS, []], ids=["five-numbers", "no-numbers"])
def test_every_square_comes_back_from_the_child_processes(kata, mp_context, teach, numbers):
    trace = Trace(mp_context)
    ctx = TraceContext(mp_context, trace)
    got = call(teach, "processes_raised", kata.squares_in_processes, ctx, trace.numbers(numbers), numbers=numbers)
    want = want_for(numbers)
    if got == want:
        return
    missing, extra = missing_and_extra(got, want)
    squared_in_children = {r["number"] for r in trace.records() if r["child"]}
    lost = [n for n in dict.fromkeys(numbers) if n * n in missing]
    absent = isinstance(got, list) and not any(n * n in got for n in lost)
    if lost and absent and not extra and all(n in squared_in_children for n in lost):
        # Seen: children squared these numbers, and not one of their squares came back.
        pytest.fail(
            teach("results_stayed_in_children", numbers=numbers, got=got, want=want, lost=lost), pytrace=False
        )
    pytest.fail(
        teach("processes_wrong", numbers=numbers, got=got, want=want, missing=missing, extra=extra), pytrace=False
    )


@pytest.mark.clause("in_children", "all_joined")
def test_every_square_is_computed_in_a_child_process_started_through_ctx(kata, mp_context, teach, host):
    trace = Trace(mp_context)
    ctx = TraceContext(mp_context, trace)
    got = call(teach, "processes_raised", kata.squares_in_processes, ctx, trace.numbers(FEW), numbers=FEW)
    caller = host.pid()
    started = trace.processes_started()
    seen = work_seen(trace.records(), caller)
    # Arithmetic on a number, or its conversion to a plain number (int(n), float(n) ...), in
    # the caller: that is where the square can be computed unseen. Formatting it (a name)
    # or comparing it is not counted.
    if seen["in_caller"]:
        pytest.fail(
            teach(
                "squared_in_caller",
                numbers=FEW,
                seen=sorted(seen["in_caller"]),
                how=how_text(seen["in_caller"], FEW),
                pid=caller,
                started=started,
            ),
            pytrace=False,
        )
    if seen["elsewhere"]:
        pytest.fail(
            teach(
                "squared_elsewhere",
                numbers=FEW,
                seen=sorted(seen["elsewhere"]),
                how=how_text(seen["elsewhere"], FEW),
                pids=seen["other_pids"],
                started=started,
            ),
            pytrace=False,
        )
    in_children = seen["in_children"]
    came_back = [n for n in dict.fromkeys(FEW) if isinstance(got, list) and n * n in got]
    unseen = [n for n in came_back if n not in in_children]
    assert not unseen, teach("squares_unseen", numbers=FEW, unseen=unseen, started=started)


@pytest.mark.clause("processes_results", "all_joined")
def test_the_squares_come_back_sorted_whatever_order_the_children_finish_in(kata, mp_context, teach):
    trace = Trace(mp_context, order=True)
    ctx = TraceContext(mp_context, trace)
    got = call(teach, "processes_raised", kata.squares_in_processes, ctx, trace.numbers(NUMBERS), numbers=NUMBERS)
    want = want_for(NUMBERS)
    if got == want:
        return
    missing, extra = missing_and_extra(got, want)
    finished = [n * n for n in NUMBERS]  # the order the test let the children finish in
    if not missing and not extra and not trace.ordering_report()["gave_up"]:
        key = "arrival_order" if got == finished else "not_sorted"
        pytest.fail(teach(key, numbers=NUMBERS, got=got, want=want, finished=finished), pytrace=False)
    pytest.fail(
        teach("processes_wrong", numbers=NUMBERS, got=got, want=want, missing=missing, extra=extra), pytrace=False
    )


@pytest.mark.clause("all_joined")
def test_every_child_process_has_been_joined_when_the_squares_come_back(kata, mp_context, teach):
    trace = Trace(mp_context)
    ctx = TraceContext(mp_context, trace)
    call(teach, "processes_raised", kata.squares_in_processes, ctx, trace.numbers(FEW), numbers=FEW)
    started, unjoined = trace.processes_started(), trace.unjoined()
    assert not unjoined, teach("not_joined", numbers=FEW, started=started, unjoined=len(unjoined))
