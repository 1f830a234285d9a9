"""processes2: every child its own ID, and the parent that really started it.

Every call goes through a WitnessContext: it records, from inside each child started
through the ctx, the child's pid, multiprocessing's parent, os.getppid() and its process
group, so a wrong parent is explained by what it matches, and a report from a process that
was not started through ctx (or from no process at all) is seen.
"""

import pytest

from dojo.testing import KataRaised
from dojo.toolkit.child_witness import WitnessContext


def family(kata, teach, ctx, n):
    try:
        return kata.family(ctx, n)
    except KataRaised as exc:
        pytest.fail(teach("raised", n=n, raised=f"{exc.type_name}: {exc.message}"), pytrace=False)


def children_of(got, teach, n):
    """The children list of a result shaped {"pid": int, "children": [{"pid", "parent"}]}."""
    try:
        children = got["children"]
        return [(child["pid"], child["parent"]) for child in children], got["pid"]
    except (KeyError, TypeError, IndexError):
        pytest.fail(teach("bad_shape", n=n, got=got), pytrace=False)


def ran(ctx):
    return [p for p in ctx.processes() if p["ran"]]


# Every test is also marked "all_joined": the kit's leak guard fails any test after which
# a child is left running or unreaped. The first test checks it on every start method
# (under forkserver the fork server reaps the children, so only the witness can tell).


@pytest.mark.clause("all_joined")
def test_every_child_is_joined_before_family_returns(kata, mp_context, teach, host):
    ctx = WitnessContext(mp_context)
    family(kata, teach, ctx, 2)
    status = {c["pid"]: c["status"] for c in host.children()}
    left = [f"{p['pid']} ({status.get(p['pid'], 'never waited for')})" for p in ctx.processes() if not p["waited"]]
    assert not left, teach("not_joined", n=2, left=left)


@pytest.mark.clause("caller_pid", "all_joined")
def test_family_reports_the_id_of_the_process_that_called_it(kata, mp_context, teach, host):
    ctx = WitnessContext(mp_context)
    got = family(kata, teach, ctx, 2)
    _, pid = children_of(got, teach, 2)
    assert pid == host.pid(), teach("wrong_pid", n=2, got=pid, want=host.pid())


@pytest.mark.clause("sized_by_n", "in_children", "all_joined")
@pytest.mark.parametrize("n", [0, 3])
def test_family_starts_and_reports_exactly_n_children(kata, mp_context, teach, n):
    ctx = WitnessContext(mp_context)
    got = family(kata, teach, ctx, n)
    children, _ = children_of(got, teach, n)
    started = ctx.started()
    assert len(children) == n and started == n, teach(
        "wrong_count", n=n, reported=len(children), started=started, got=got
    )


@pytest.mark.clause("own_ids", "in_children", "all_joined")
def test_every_child_has_an_id_of_its_own(kata, mp_context, teach, host):
    ctx = WitnessContext(mp_context)
    got = family(kata, teach, ctx, 3)
    children, _ = children_of(got, teach, 3)
    pids = [pid for pid, _ in children]
    caller = host.pid()
    repeated = sorted({pid for pid in pids if pids.count(pid) > 1})
    if repeated or caller in pids:
        pytest.fail(
            teach("ids_not_distinct", n=3, pids=pids, caller=caller, repeated=repeated), pytrace=False
        )
    witnessed = sorted(p["pid"] for p in ran(ctx))
    unknown = [pid for pid in pids if pid not in witnessed]
    assert not unknown, teach("ids_not_children", n=3, pids=pids, unknown=unknown, witnessed=witnessed)


@pytest.mark.clause("real_parent", "all_joined")
def test_every_child_names_the_process_that_started_it_as_its_parent(kata, mp_context, teach, host):
    # detach=True: each child leads a session and process group of its own, so that a
    # group or session ID cannot pass for the parent (the caller often leads both).
    ctx = WitnessContext(mp_context, detach=True)
    got = family(kata, teach, ctx, 2)
    children, _ = children_of(got, teach, 2)
    caller = host.pid()
    wrong = [(pid, parent) for pid, parent in children if parent != caller]
    if not wrong:
        return  # (no children at all is the business of the test of n children)
    # Explain the parents the children named by what they match, as seen in the children.
    seen = {p["pid"]: p for p in ran(ctx)}
    parents = [parent for _, parent in wrong]
    fields = {"n": 2, "pid": caller, "got": [parent for _, parent in children], "want": [caller] * len(children)}
    if all(seen.get(pid, {}).get("os_ppid") == parent for pid, parent in wrong):
        key = "parent_is_forker_forkserver" if mp_context.get_start_method() == "forkserver" else "parent_is_os_ppid"
        pytest.fail(teach(key, **fields), pytrace=False)
    if all(parent == pid for pid, parent in wrong):
        pytest.fail(teach("parent_is_self", **fields), pytrace=False)
    grandparent = _parent_of(caller)
    if grandparent is not None and all(parent == grandparent for parent in parents):
        pytest.fail(teach("parent_is_grandparent", **fields), pytrace=False)
    pytest.fail(teach("wrong_parent", **fields), pytrace=False)


@pytest.mark.clause("sorted_by_pid", "all_joined")
def test_the_children_are_sorted_by_their_ids_whatever_order_they_report_in(kata, mp_context, teach):
    # reorder=True: the ctx's Queue hands the children's reports to the caller in
    # descending order of their IDs, once all of them have reported.
    ctx = WitnessContext(mp_context, reorder=True)
    got = family(kata, teach, ctx, 3)
    children, _ = children_of(got, teach, 3)
    pids = [pid for pid, _ in children]
    # Say that the reports arrived out of order only when the witness handed them out so.
    key = "not_sorted_reordered" if ctx.reordered() else "not_sorted"
    assert pids == sorted(pids), teach(key, n=3, pids=pids, want=sorted(pids))


def _parent_of(pid):
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return int(stat.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None
