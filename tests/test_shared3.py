"""shared3: a SharedMemory block is unlinked by its creator, once, on every path.

Every call goes through a JournalContext (dojo/toolkit/process_journal.py): each process
started through ctx writes down, from inside, whether the block called `name` still
existed when its work ended and whether it still mapped the block then (while a failed
worker's exception keeps its frames alive). The numbers are TracedInts, which write down
which process squared them. Which /dev/shm objects a call created comes from the resource
tracker's ledger of this run (only this test's own processes write there), so a block is
found whatever it is called, and nobody else's /dev/shm is ever looked at. A TracedInt
writes down every read of its value (n * n, n ** 2, int(n), float(n) ...), so a worker
may square its number in any way; arithmetic on it outside the workers is seen too.
"""

import os
import secrets

import pytest

from dojo import procs
from dojo.plugin import STATE
from dojo.testing import KataRaised
from dojo.toolkit.process_journal import JournalContext, Journal, Seen, TracedInt, block_exists, maps_of

BIG = 2**32  # its square does not fit in a 64-bit slot: the worker that gets it fails


@pytest.fixture
def block_name():
    # Short (macOS allows 31 characters), unique: parallel runs never share a name.
    return "dojo3_" + secrets.token_hex(5)


@pytest.fixture
def journal():
    j = Journal.create()
    yield j
    j.remove()


class ShmLedger:
    """The /dev/shm objects this test's processes registered with the resource tracker."""

    def __init__(self, ledger):
        self.ledger = ledger
        self.start = ledger.offset() if ledger else 0

    def lines(self):
        if self.ledger is None:
            return []
        self.ledger.sync(timeout=5.0)  # returns as soon as the tracker has caught up
        try:
            with open(self.ledger.path, "rb") as fh:
                fh.seek(self.start)
                return fh.read().decode("ascii", "replace").splitlines()
        except OSError:
            return []

    def created(self):
        """Names of the shared-memory blocks created (registered) since the test began."""
        out = []
        for line in self.lines():
            parts = line.strip().split(":")
            if len(parts) == 3 and parts[0] == "REGISTER" and parts[2] == "shared_memory":
                name = parts[1].lstrip("/")
                if name not in out:
                    out.append(name)
        return out

    def left(self, also=()):
        """Blocks created since the test began (or named in ``also``) still in /dev/shm;
        removed here, so that they are reported once, by this test's own message."""
        names = [n for n in [*self.created(), *also] if block_exists(n)]
        names = list(dict.fromkeys(names))
        for name in names:
            procs.remove_shm(name)
        return names


@pytest.fixture
def shm(request):
    return ShmLedger(request.config.stash[STATE].ledger)


def call(kata, ctx, numbers, name, teach):
    """(result, None) or (None, "Type: message") when the kata raised."""
    try:
        return kata.squares_in_shared_memory(ctx, numbers, name), None
    except KataRaised as exc:
        return None, f"{exc.type_name}: {exc.message}"
    except TypeError as exc:  # what came back is not plain data
        return None, NotPlain(exc)


def traced(numbers, journal):
    return [TracedInt(n, journal) for n in numbers]


class NotPlain(str):
    """What came back was not plain data (a proxy, a memoryview ...): the checker's words."""


def outcome(teach, got, raised):
    if isinstance(raised, NotPlain):
        return teach("outcome_not_plain", error=raised)
    return teach("outcome_raised", error=raised) if raised else teach("outcome_returned", got=got)


def check_joined(host, seen, teach, numbers, got, raised):
    left = seen.unjoined()
    assert not left, teach(
        "workers_not_joined", numbers=numbers, outcome=outcome(teach, got, raised),
        left=", ".join(f"pid {pid}" for pid in left), count=len(left), total=len(seen.workers),
    )


@pytest.mark.clause("squares_right", "all_joined")
@pytest.mark.parametrize("numbers", [[4, 2, 3], []], ids=["three", "none"])
def test_every_number_comes_back_squared_in_order(kata, mp_context, teach, host, journal, shm, block_name, numbers):
    ctx = JournalContext(mp_context, journal, shm_name=block_name)
    got, raised = call(kata, ctx, numbers, block_name, teach)
    want = [n * n for n in numbers]
    shm.left(also=[block_name])  # judged by the tests about unlinking
    if isinstance(raised, NotPlain):
        pytest.fail(teach("not_plain", numbers=numbers, error=raised), pytrace=False)
    assert raised is None and got == want, teach(
        "wrong_squares", numbers=numbers, outcome=outcome(teach, got, raised), want=want
    )
    check_joined(host, Seen(journal), teach, numbers, got, raised)


@pytest.mark.clause("in_children", "all_joined")
def test_every_square_is_computed_in_a_worker_started_through_ctx(kata, mp_context, teach, host, journal, shm, block_name):
    numbers = [5, 6, 7]
    ctx = JournalContext(mp_context, journal, shm_name=block_name)
    got, raised = call(kata, ctx, traced(numbers, journal), block_name, teach)
    shm.left(also=[block_name])
    seen = Seen(journal)
    workers = set(seen.workers)
    # Arithmetic on a number, or its conversion to a plain number (int(n), float(n) ...),
    # outside the workers: that is where a square can be computed unseen. Formatting or
    # comparing a number is not counted.
    computed = [(pid, n, op) for pid, n, op in seen.computed if pid not in workers]
    elsewhere = sorted({pid for pid, _n, _op in computed})
    how = "; ".join(
        f"{op} on {', '.join(str(n) for n in numbers if any(c[1] == n and c[2] == op for c in computed))}"
        for op in dict.fromkeys(op for _pid, _n, op in computed)
    )
    assert not elsewhere, teach(
        "squared_elsewhere", numbers=numbers, pids=elsewhere, caller=host.pid(), workers=sorted(workers),
        how=how, outcome=outcome(teach, got, raised),
    )
    # Every square that came back: a worker had its number and used it (any read at all:
    # n * n, int(n) ** 2, float(n) ** 2 ..., or at least received it).
    in_workers = {n for pid, n, _op in seen.computed + seen.reads if pid in workers}
    in_workers |= {n for pid, n in seen.received if pid in workers}
    came_back = [n for n in numbers if isinstance(got, list) and n * n in got]
    # Workers that opened the block may have read their numbers from it as plain ints (the
    # caller packed them in, untouched): that is work done in the workers too.
    unseen = [] if workers & seen.attached else [n for n in came_back if n not in in_workers]
    assert not unseen, teach(
        "squares_unseen", numbers=numbers, unseen=unseen, workers=len(workers), outcome=outcome(teach, got, raised)
    )
    check_joined(host, seen, teach, numbers, got, raised)


@pytest.mark.clause("named_block", "all_joined")
def test_the_workers_block_is_the_one_called_name(kata, mp_context, teach, host, journal, shm, block_name):
    numbers = [2, 3]
    ctx = JournalContext(mp_context, journal, shm_name=block_name)
    got, raised = call(kata, ctx, numbers, block_name, teach)
    created = shm.created()
    shm.left(also=[block_name])
    others = [n for n in created if n != block_name]
    # the tracker saw it created, or a worker found it in /dev/shm when its work ended
    named = block_name in created or any(existed for _pid, _failed, existed, _added in Seen(journal).after)
    assert named, teach(
        "not_named", numbers=numbers, name=block_name, created=", ".join(others) or "-", outcome=outcome(teach, got, raised)
    )
    check_joined(host, Seen(journal), teach, numbers, got, raised)


@pytest.mark.clause("unlinked", "all_joined")
@pytest.mark.parametrize("numbers", [[2, 3, 4], []], ids=["three", "none"])
def test_no_block_is_left_once_the_squares_are_back(kata, mp_context, teach, host, journal, shm, block_name, numbers):
    ctx = JournalContext(mp_context, journal, shm_name=block_name)
    got, raised = call(kata, ctx, numbers, block_name, teach)
    left = shm.left(also=[block_name])
    assert not left, teach(
        "block_left", numbers=numbers, outcome=outcome(teach, got, raised), left=", ".join(f"/dev/shm/{n}" for n in left)
    )
    check_joined(host, Seen(journal), teach, numbers, got, raised)


@pytest.mark.clause("failure_raises", "all_joined")
def test_a_failing_worker_makes_the_call_raise(kata, mp_context, teach, host, journal, shm, block_name):
    numbers = [3, 4, BIG]  # the failing worker last: this test is about raising, not joining
    ctx = JournalContext(mp_context, journal, shm_name=block_name)
    got, raised = call(kata, ctx, numbers, block_name, teach)
    shm.left(also=[block_name])
    returned = raised is None or isinstance(raised, NotPlain)  # (something not plain came back)
    assert not returned, teach("failure_not_raised", numbers=numbers, got=got if raised is None else raised, big=BIG)
    check_joined(host, Seen(journal), teach, numbers, got, raised)


@pytest.mark.clause("unlinked_on_error", "all_joined")
def test_no_block_is_left_when_a_worker_fails(kata, mp_context, teach, host, journal, shm, block_name):
    numbers = [3, 4, BIG]
    ctx = JournalContext(mp_context, journal, shm_name=block_name)
    got, raised = call(kata, ctx, numbers, block_name, teach)
    left = shm.left(also=[block_name])
    what = teach("when_worker_failed", big=BIG)
    assert not left, teach(
        "block_left_on_error", numbers=numbers, what=what, outcome=outcome(teach, got, raised),
        left=", ".join(f"/dev/shm/{n}" for n in left),
    )
    check_joined(host, Seen(journal), teach, numbers, got, raised)


@pytest.mark.clause("unlinked_on_error", "all_joined")
def test_no_block_is_left_when_a_worker_cannot_be_started(kata, mp_context, teach, host, journal, shm, block_name):
    numbers = [3, 4]
    ctx = JournalContext(mp_context, journal, shm_name=block_name, fail_first_start=True)
    try:
        got, raised = call(kata, ctx, numbers, block_name, teach)
        ctx.release()  # the frames the injected error kept: the parent's view is judged elsewhere
        left = shm.left(also=[block_name])
    finally:
        ctx.release()
    what = teach("when_start_failed")
    assert not left, teach(
        "block_left_on_error", numbers=numbers, what=what, outcome=outcome(teach, got, raised),
        left=", ".join(f"/dev/shm/{n}" for n in left),
    )
    check_joined(host, Seen(journal), teach, numbers, got, raised)


@pytest.mark.clause("unlink_once_by_creator", "all_joined")
def test_the_block_outlives_every_worker(kata, mp_context, teach, host, journal, shm, block_name):
    numbers = [2, 3, 4]
    ctx = JournalContext(mp_context, journal, shm_name=block_name)
    got, raised = call(kata, ctx, numbers, block_name, teach)
    # (no block of that name at all: that is what the naming test teaches)
    created = block_name in shm.created() if shm.ledger is not None else True
    shm.left(also=[block_name])
    seen = Seen(journal)
    if created:
        gone = [pid for pid, _failed, existed, _added in seen.after if not existed]
        assert not gone, teach(
            "unlinked_early", numbers=numbers, name=block_name, count=len(gone), total=len(seen.after),
            outcome=outcome(teach, got, raised),
        )
        unjoined_then = [pid for pid, existed in seen.joining if not existed]
        assert not unjoined_then, teach(
            "unlinked_before_join", numbers=numbers, name=block_name, count=len(unjoined_then),
            total=len(seen.workers), outcome=outcome(teach, got, raised),
        )
    check_joined(host, seen, teach, numbers, got, raised)


@pytest.mark.clause("workers_close", "all_joined")
def test_every_worker_closes_its_view_even_when_it_fails(kata, mp_context, teach, host, journal, shm, block_name):
    # A view a worker never closes is closed by garbage collection once its function
    # returns, but not while a failure is being handled: the failing worker tells.
    numbers = [3, 4, BIG]
    ctx = JournalContext(mp_context, journal, shm_name=block_name)
    got, raised = call(kata, ctx, numbers, block_name, teach)
    shm.left(also=[block_name])
    seen = Seen(journal)
    still = [(pid, failed) for pid, failed, _existed, added in seen.after if added > 0]
    assert not still, teach(
        "worker_view_open", numbers=numbers, name=block_name, count=len(still),
        failed=sum(f for _, f in still), total=len(seen.after),
    )
    check_joined(host, seen, teach, numbers, got, raised)


@pytest.mark.clause("parent_closes", "all_joined")
@pytest.mark.parametrize("fail", ["worker-fails", "start-fails"])
def test_the_caller_closes_its_view_before_the_error_leaves(kata, mp_context, teach, host, journal, shm, block_name, fail):
    numbers = [3, 4, BIG] if fail == "worker-fails" else [3, 4]
    ctx = JournalContext(mp_context, journal, shm_name=block_name, fail_first_start=fail == "start-fails")
    try:
        try:
            got, raised = kata.squares_in_shared_memory(ctx, numbers, block_name), None
            mapped = maps_of(block_name, host.pid())
        except KataRaised as exc:
            # Still inside the handler: the error (and every frame it left) is alive, as it
            # is for a program that logs it or retries.
            got, raised = None, f"{exc.type_name}: {exc.message}"
            mapped = maps_of(block_name, host.pid())
        except TypeError as exc:  # what came back is not plain data
            got, raised = None, NotPlain(exc)
            mapped = maps_of(block_name, host.pid())
    finally:
        ctx.release()
    shm.left(also=[block_name])
    what = teach("when_start_failed") if fail == "start-fails" else teach("when_worker_failed", big=BIG)
    # mapped is None where the host's memory map cannot be read: nothing is judged then.
    assert not mapped, teach("caller_view_open", numbers=numbers, name=block_name, what=what, outcome=outcome(teach, got, raised))
    check_joined(host, Seen(journal), teach, numbers, got, raised)


@pytest.mark.clause("all_joined")
def test_every_worker_is_joined_even_when_the_first_fails(kata, mp_context, teach, host, journal, shm, block_name):
    numbers = [BIG, 3, 4]
    ctx = JournalContext(mp_context, journal, shm_name=block_name)
    got, raised = call(kata, ctx, numbers, block_name, teach)
    shm.left(also=[block_name])
    check_joined(host, Seen(journal), teach, numbers, got, raised)
