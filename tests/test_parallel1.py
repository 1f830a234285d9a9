"""parallel1: split exactly, square each slice in its own process, merge in slice order.

split() is plain data in, plain data out: it is tested directly. squares_in_parts() gets
TracedInts (dojo.toolkit.work_trace) where a test must see which process squared which
number: in child processes started through ctx, one slice per process, the parts at
work at the same time (a gate holds each part's process at its first multiplication
until every part's process is there; it never waits for a program whose parts do run
side by side). A TracedInt records every read of its value (n * n, int(n), float(n),
pow(n, 2) ...), so the square may be computed in any way, but in the part's process.

In order means in slice order whatever order the parts finish in: one test makes the last
slice's process finish first and the first slice's last (each part's process waits, at
its first read, until the parts after its own are done), so a merge in arrival order
comes back reversed, every time.
"""

import os
from collections import Counter

import pytest

from dojo.testing import KataRaised
from dojo.toolkit.work_trace import OP, Trace, TraceContext, gate_wait, how_text, work_seen

# Distinct magnitudes, not sorted, some negative: every square names its number, and
# squares sorted by size are not the input's order.
TEN = [3, -1, 4, 10, -5, 9, 2, -6, 8, 7]
FIVE = [4, -2, 5, 1, -3]
FEW = [5, -6]


def items_for(count):
    return [100 + 7 * i for i in range(count)]


def squares_of(numbers):
    return [n * n for n in numbers]


def lost_and_doubled(numbers, got):
    """Which numbers have no square in `got`, and which have more than one."""
    counts = Counter(got) if isinstance(got, list) else Counter()
    lost = [n for n in numbers if counts[n * n] == 0]
    doubled = [n for n in numbers if counts[n * n] > 1]
    return lost, doubled


def usable_cpus():
    counts = {os.cpu_count() or 1}
    if hasattr(os, "sched_getaffinity"):
        counts.add(len(os.sched_getaffinity(0)))
    if hasattr(os, "process_cpu_count"):
        counts.add(os.process_cpu_count() or 1)
    return counts


def parts_unlike_the_machine():
    """A number of parts that no CPU count of this machine equals: a pool sized by the
    machine instead of by `parts` then starts a different number of processes."""
    return next(p for p in (4, 5, 3, 6, 7) if p not in usable_cpus())


def call_split(kata, teach, items, parts):
    try:
        got = kata.split(items, parts)
    except KataRaised as exc:
        pytest.fail(
            teach("split_raised", items=items, parts=parts, raised=f"{exc.type_name}: {exc.message}"), pytrace=False
        )
    except TypeError as exc:  # the result is not plain data (a generator, a range ...)
        pytest.fail(teach("split_not_plain", items=items, parts=parts, problem=str(exc)), pytrace=False)
    # Slices as lists or tuples: both are exact cuts.
    if isinstance(got, (list, tuple)) and all(isinstance(piece, (list, tuple)) for piece in got):
        return [list(piece) for piece in got]
    return got


def call_parts(kata, teach, ctx, numbers, parts):
    try:
        return kata.squares_in_parts(ctx, numbers, parts)
    except TypeError as exc:  # the result is not plain data
        pytest.fail(
            teach("parts_not_plain", numbers=list(numbers), parts=parts, problem=str(exc)), pytrace=False
        )
    except KataRaised as exc:
        pytest.fail(
            teach(
                "parts_raised",
                numbers=list(numbers),
                parts=parts,
                raised=f"{exc.type_name}: {exc.message}",
                want=squares_of(numbers),
            ),
            pytrace=False,
        )


# --- split ---------------------------------------------------------------------------------

SPLITS = [(10, 3), (5, 2), (5, 4), (9, 4), (6, 3), (2, 3), (0, 2), (7, 1)]
SPLIT_IDS = [f"{c}-items-in-{p}-parts" for c, p in SPLITS]


@pytest.mark.clause("split_count")
@pytest.mark.parametrize("count, parts", SPLITS, ids=SPLIT_IDS)
def test_split_returns_exactly_parts_slices(kata, teach, count, parts):
    items = items_for(count)
    got = call_split(kata, teach, items, parts)
    n = len(got) if isinstance(got, list) else None
    assert n == parts, teach("split_count", items=items, parts=parts, got=got, count=n)


@pytest.mark.clause("split_exact")
@pytest.mark.parametrize("count, parts", SPLITS, ids=SPLIT_IDS)
def test_the_slices_joined_in_order_give_back_every_item_once(kata, teach, count, parts):
    items = items_for(count)
    got = call_split(kata, teach, items, parts)
    joined = [x for piece in got for x in piece] if isinstance(got, list) else got
    if joined == items:
        return
    counts = Counter(joined) if isinstance(joined, list) else Counter()
    lost = [x for x in items if counts[x] == 0]
    doubled = [x for x in items if counts[x] > 1]
    key = "split_out_of_order" if not lost and not doubled and len(joined) == len(items) else "split_lost"
    pytest.fail(
        teach(key, items=items, parts=parts, got=got, joined=joined, lost=lost, doubled=doubled), pytrace=False
    )


# --- squares_in_parts: the result ----------------------------------------------------------


def check_result(teach, numbers, parts, got, key):
    want = squares_of(numbers)
    lost, doubled = lost_and_doubled(numbers, got)
    assert isinstance(got, list) and Counter(got) == Counter(want), teach(
        key, numbers=numbers, parts=parts, got=got, want=want, lost=lost, doubled=doubled
    )
    assert got == want, teach("out_of_order", numbers=numbers, parts=parts, got=got, want=want)


@pytest.mark.clause("merged_in_order", "all_joined")
@pytest.mark.parametrize("numbers, parts", [(TEN, 3), (FIVE, 2)], ids=["10-numbers-in-3-parts", "5-numbers-in-2-parts"])
def test_no_number_is_lost_when_the_parts_do_not_divide_evenly(kata, mp_context, teach, numbers, parts):
    got = call_parts(kata, teach, mp_context, numbers, parts)
    check_result(teach, numbers, parts, got, "remainder_lost")


@pytest.mark.clause("merged_in_order", "all_joined")
def test_every_number_is_squared_when_there_are_fewer_numbers_than_parts(kata, mp_context, teach):
    got = call_parts(kata, teach, mp_context, FEW, 3)
    check_result(teach, FEW, 3, got, "fewer_than_parts")


def groups_last_part_first(numbers, slices, parts):
    """The finishing order the test imposes: the last slice's numbers first (group 0), the
    first slice's last. Numbers in no slice (a wrong split) are nobody's turn: last."""
    groups = {}
    if isinstance(slices, list):
        for p, piece in enumerate(slices):
            for n in piece if isinstance(piece, list) else []:
                groups.setdefault(n, len(slices) - 1 - p)
    return [groups.get(n, parts + 1) for n in numbers]


@pytest.mark.clause("merged_in_order", "all_joined")
def test_the_parts_are_merged_in_slice_order_when_the_last_part_finishes_first(kata, mp_context, teach):
    numbers, parts = TEN, 3
    slices = call_split(kata, teach, list(numbers), parts)
    trace = Trace(mp_context, order=True)
    traced = trace.numbers(numbers, groups_last_part_first(numbers, slices, parts))
    got = call_parts(kata, teach, TraceContext(mp_context, trace), traced, parts)
    want = squares_of(numbers)
    lost, doubled = lost_and_doubled(numbers, got)
    assert isinstance(got, list) and Counter(got) == Counter(want), teach(
        "remainder_lost", numbers=numbers, parts=parts, got=got, want=want, lost=lost, doubled=doubled
    )
    if got == want:
        return
    pieces = [squares_of(piece) for piece in slices] if isinstance(slices, list) else []
    arrival = [square for piece in reversed(pieces) for square in piece]
    if got == arrival and not trace.ordering_report()["gave_up"]:
        pytest.fail(
            teach("parts_arrival_order", numbers=numbers, parts=parts, got=got, want=want, slices=slices),
            pytrace=False,
        )
    pytest.fail(teach("out_of_order", numbers=numbers, parts=parts, got=got, want=want), pytrace=False)


# --- squares_in_parts: where the work was done ---------------------------------------------


@pytest.mark.clause("in_children", "all_joined")
def test_every_square_is_computed_in_a_part_process_started_through_ctx(kata, mp_context, teach, host):
    numbers, parts = TEN, 3
    trace = Trace(mp_context)
    got = call_parts(kata, teach, TraceContext(mp_context, trace), trace.numbers(numbers), parts)
    caller, started = host.pid(), trace.processes_started()
    seen = work_seen(trace.records(), caller)
    fields = dict(numbers=numbers, parts=parts, started=started)
    # Arithmetic on a number, or its conversion to a plain number (int(n), float(n) ...), in
    # the caller: that is where the square can be computed unseen. Formatting or comparing
    # a number is not counted.
    in_caller = [n for n in numbers if n in seen["in_caller"]]
    if in_caller:
        how = how_text(seen["in_caller"], numbers)
        pytest.fail(teach("parts_squared_in_caller", seen=in_caller, how=how, pid=caller, **fields), pytrace=False)
    if seen["elsewhere"]:
        elsewhere = [n for n in numbers if n in seen["elsewhere"]]
        how = how_text(seen["elsewhere"], numbers)
        pytest.fail(
            teach("parts_squared_elsewhere", seen=elsewhere, how=how, pids=seen["other_pids"], **fields),
            pytrace=False,
        )
    in_children = seen["in_children"]
    came_back = [n for n in numbers if isinstance(got, list) and n * n in got]
    unseen = [n for n in came_back if n not in in_children]
    assert not unseen, teach("parts_squares_unseen", unseen=unseen, **fields)


@pytest.mark.clause("one_process_per_part", "side_by_side", "all_joined")
def test_each_part_is_squared_in_its_own_process_side_by_side_with_the_others(kata, mp_context, teach):
    numbers, parts = TEN, parts_unlike_the_machine()
    # The gate waits for one process per slice that holds numbers, as the kata's own
    # split() cuts them (a right split may leave a slice empty; its process is optional).
    slices = call_split(kata, teach, list(numbers), parts)
    if not isinstance(slices, list):
        slices = [list(numbers)]
    filled = [s for s in slices if s]
    trace = Trace(mp_context, gate=max(1, min(len(filled), parts)))
    call_parts(kata, teach, TraceContext(mp_context, trace), trace.numbers(numbers), parts)
    started, gate = trace.processes_started(), trace.gate_report()
    fields = dict(numbers=numbers, parts=parts, started=started, slices=slices)
    rows = trace.records()
    if not any(r["child"] for r in rows):
        return  # no process started through ctx ever had a number: the in_children test says so
    if gate["gave_up"]:
        pytest.fail(
            teach(
                "parts_not_side_by_side",
                together=gate["gave_up"],
                parties=gate["parties"],
                waited=round(gate_wait()),
                **fields,
            ),
            pytrace=False,
        )
    # Which numbers each part process squared, in input order: those whose value it read
    # (a process may be handed more than its slice, the whole list and its bounds, say);
    # those it was handed, for a process whose reads the test could not see.
    by_process, handed = {}, {}
    for r in rows:
        if r["child"]:
            into = handed if r["op"] == OP["received"] else by_process
            into.setdefault(r["serial"], set()).add(r["number"])
    for serial, got_numbers in handed.items():
        by_process.setdefault(serial, got_numbers)
    # The processes of the cut: those started before every part was at work (a pool's
    # workers, one process per part), and any that squared something. A worker a pool
    # starts later to replace one that finished (maxtasksperchild) is not one of them.
    early = range(gate["opened_at"] if gate["opened_at"] >= 0 else started)
    fields["started"] = len(set(early) | set(by_process))
    if fields["started"] > parts:
        pytest.fail(teach("parts_too_many", **fields), pytrace=False)
    if fields["started"] < len(filled):
        pytest.fail(teach("parts_too_few", filled=len(filled), **fields), pytrace=False)
    squared = {k: [n for n in numbers if n in v] for k, v in sorted(by_process.items())}
    own = sorted(map(sorted, squared.values())) == sorted(map(sorted, filled))
    assert own, teach("parts_not_own_process", squared=list(squared.values()), **fields)


@pytest.mark.clause("all_joined")
def test_every_part_process_has_been_joined_when_the_squares_come_back(kata, mp_context, teach):
    numbers, parts = TEN, 3
    trace = Trace(mp_context)
    call_parts(kata, teach, TraceContext(mp_context, trace), trace.numbers(numbers), parts)
    started, unjoined = trace.processes_started(), trace.unjoined()
    assert not unjoined, teach("not_joined", numbers=numbers, parts=parts, started=started, unjoined=len(unjoined))
