"""Process journal: what a kata's processes did, written down from inside them.

    test:   journal = Journal.create()
            ctx = JournalContext(mp_context, journal, shm_name="psm_x", fail_first_start=False)
            numbers = [TracedInt(3, journal), ...]
            kata.f(ctx, numbers, ...)            (in the test's process or a grading host)
    child:  every process made through ctx (ctx.Process, ctx.Pool, ProcessPoolExecutor,
            a Manager's server) writes to the journal:
              start  <pid> <manager?> <shm maps at start>  when it begins to run
              after  <pid> <failed?> <block exists?> <maps added>   when its target ended
                     (while a failed target's exception, and so its frames, are alive)
              manager <pid>                          a Manager's server process
              spawned <pid> <manager?>               (in the parent) once start() returned
              reaped <pid> <exit code>               (in the parent) when it was waited for
              joining <pid> <block exists?>          (in the parent) its first join() of it
            TracedInt: every read of a traced number's value writes, in that process,
              square <pid> <number>                  a product or a power
              read <pid> <number> <op>               int(n), float(n), str(n) ... (OPS)
              received <pid> <number>                (a worker) the number is in its arguments
              attached <pid>                         (a worker) it opened the block called shm_name
    parent: fail_first_start: the first worker's start() raises BlockingIOError (EAGAIN,
            as fork() does when the system runs out of processes), and the exception is
            kept, so the frames it passed through stay alive until ``release()``: what the
            kata did not close or shut down before the exception left it is still open
            when the test looks.

The journal is a plain file (one short line per O_APPEND write, never torn), so it
works across every start method, in pools and executors, and in a grading host running
as another uid. Nothing here imports pytest or dojo's plugin: learner code is handed these
objects.
"""

from __future__ import annotations

import errno
import os
import tempfile
from multiprocessing import context as _mpcontext

from dojo import system
from dojo.toolkit.work_trace import OP, _plain, _value, install_reads, is_compute, op_name
from dojo.toolkit.per_method import process_classes



class Journal:
    """An append-only file of one-line records that every process of a test can write."""

    def __init__(self, path: str):
        self.path = path

    @classmethod
    def create(cls) -> "Journal":
        # /dev/shm where it exists: a grading job's own tmpfs, reachable by its hosts
        folder = system.SHM_DIR if system.SHM_DIR and os.access(system.SHM_DIR, os.W_OK) else None
        fd, path = tempfile.mkstemp(prefix="dojo-journal-", dir=folder)
        try:
            os.fchmod(fd, 0o666)  # a grading host may run as another uid
        finally:
            os.close(fd)
        return cls(path)

    def write(self, kind: str, *fields) -> None:
        line = " ".join([kind, *(str(f) for f in fields)]) + "\n"
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)
        except OSError:
            return  # never let the witness break the code it watches
        try:
            os.write(fd, line.encode())
        except OSError:
            pass
        finally:
            os.close(fd)

    def records(self, kind: str | None = None) -> list[list[str]]:
        try:
            with open(self.path, encoding="ascii", errors="replace") as fh:
                lines = fh.read().splitlines()
        except OSError:
            return []
        rows = [line.split() for line in lines if line.strip()]
        return [r for r in rows if kind is None or r[0] == kind]

    def remove(self) -> None:
        try:
            os.unlink(self.path)
        except OSError:
            pass

    def __reduce__(self):
        return (Journal, (self.path,))


# --- who computed it ---------------------------------------------------------------------

# Every read of a traced number's value (work_trace.READS: n * n, n ** 2, int(n), float(n),
# str(n) ...) is written down in the process that does it, once per number and op:
#   square <pid> <number>          a product or a power (n * m, n ** m)
#   read <pid> <number> <op>       any other read; op is an index into work_trace.OPS
#   received <pid> <number>        a worker started through ctx has the number in its
#                                  arguments (reads CPython makes without a dunder, as in
#                                  operator.index(n) or struct.pack, show at least that)
_written: set = set()


@install_reads
class TracedInt(int):
    """An int that writes down which process read its value, and how.

    Every result is a plain int (or float, str ...). Pickles as itself, so it can travel
    to any worker."""

    def __new__(cls, value: int, journal):
        obj = super().__new__(cls, _plain(value))
        obj._journal = journal.path if isinstance(journal, Journal) else journal
        return obj

    def __reduce__(self):
        return (TracedInt, (_value(self), self._journal))

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self

    def __abs__(self):
        return TracedInt(abs(_value(self)), self._journal)

    def __neg__(self):
        return TracedInt(-_value(self), self._journal)

    def __pos__(self):
        return self

    def _note(self, op: int) -> None:
        kind = "square" if op in (OP["n * m"], OP["n ** m"]) else "read"
        key = (self._journal, os.getpid(), _value(self), kind, op)
        if key in _written:
            return
        _written.add(key)
        if kind == "square":
            Journal(self._journal).write("square", os.getpid(), _value(self))
        else:
            Journal(self._journal).write("read", os.getpid(), _value(self), op)


def _received_in(journal: Journal, value, depth: int = 0) -> None:
    if isinstance(value, TracedInt):
        journal.write("received", os.getpid(), _value(value))
    elif depth < 4 and isinstance(value, (list, tuple, set, frozenset)):
        for item in list(value)[:512]:
            _received_in(journal, item, depth + 1)
    elif depth < 4 and isinstance(value, dict):
        for item in list(value.values())[:512]:
            _received_in(journal, item, depth + 1)


# --- what a process maps -------------------------------------------------------------------


def maps_of(name: str, pid: int | str = "self") -> int | None:
    """How many mappings of /dev/shm/<name> process ``pid`` has (None: cannot be read,
    as everywhere without /proc)."""
    if not system.PROC or system.SHM_DIR is None:
        return None
    path = f"{system.SHM_DIR}/{name}"
    count = 0
    try:
        with open(f"/proc/{pid}/maps", encoding="utf-8", errors="replace") as maps:
            for line in maps:
                parts = line.split(None, 5)
                if len(parts) == 6:
                    where = parts[5].rstrip("\n")
                    if where == path or where == path + " (deleted)":
                        count += 1
    except OSError:
        return None
    return count


def block_exists(name: str) -> bool:
    """Whether a shared-memory block of this name exists now (by name, as
    SharedMemory(name) would find it; without registering it with the resource tracker)."""
    if system.SHM_DIR is not None:
        return os.path.exists(f"{system.SHM_DIR}/{name}")
    try:
        import _posixshmem

        os.close(_posixshmem.shm_open("/" + name, os.O_RDONLY, mode=0o600))
        return True
    except ImportError:  # Windows: a mapping exists while a handle to it is open
        try:
            import _winapi

            _winapi.CloseHandle(_winapi.OpenFileMapping(_winapi.FILE_MAP_READ, False, name))
            return True
        except OSError:
            return False
    except OSError:
        return False


# --- processes that report --------------------------------------------------------------------


class _StartFailure:
    """Makes one start() fail, once, and keeps the exception (and so its frames).

    It fires in the first process that starts a worker through ctx: the kata's parent,
    also when that is a grading host that received ctx pickled. (A Manager's server,
    started before it, never starts anything.)"""

    def __init__(self, armed: bool):
        self.armed = armed
        self.held: list = []

    def __getstate__(self):
        return {"armed": self.armed, "held": []}  # exceptions and frames stay home

    def __setstate__(self, state):
        self.__dict__.update(state)


def _is_manager_server(target) -> bool:
    return getattr(target, "__name__", "") == "_run_server"


class _Witness:
    """Mixed into the context's own Process class (so it pickles and starts as usual)."""

    _dojo_journal = None
    _dojo_shm = None
    _dojo_failure = None

    def start(self):
        failure = self._dojo_failure
        server = _is_manager_server(getattr(self, "_target", None))  # start() deletes _target
        self._dojo_server = server
        if failure is not None and failure.armed and not server:
            failure.armed = False
            exc = BlockingIOError(errno.EAGAIN, os.strerror(errno.EAGAIN))
            failure.held.append(exc)
            raise exc
        super().start()
        if self._dojo_journal is None:
            return
        journal = Journal(self._dojo_journal)
        # Written by the parent as soon as start() returns: a child that has not begun
        # to run yet (a slow spawn) is counted all the same.
        journal.write("spawned", self.pid, int(server))
        if server:
            journal.write("manager", self.pid)
        # Every way of waiting for a child (join, exitcode, is_alive, multiprocessing's own
        # clean-up) goes through its Popen's poll(): note the moment it sees the exit. (A
        # forkserver child is reaped by the fork server, so no zombie would tell.)
        popen = self._popen
        poll = popen.poll

        def noting_poll(*args, **kwargs):
            code = poll(*args, **kwargs)
            if code is not None and not getattr(popen, "_dojo_noted", False):
                popen._dojo_noted = True
                journal.write("reaped", popen.pid, code)
            return code

        popen.poll = noting_poll

    def join(self, timeout=None):
        # The parent's first wait for a worker: was the block still there? (A block
        # unlinked between start() and join() is gone here whatever the scheduling.)
        popen = getattr(self, "_popen", None)
        if (
            self._dojo_journal is not None
            and self._dojo_shm
            and popen is not None
            and popen.returncode is None
            and not getattr(popen, "_dojo_joining", False)
            and not getattr(self, "_dojo_server", False)
        ):
            popen._dojo_joining = True
            Journal(self._dojo_journal).write("joining", popen.pid, int(block_exists(self._dojo_shm)))
        return super().join(timeout)

    def run(self):
        if self._dojo_journal is None:
            return super().run()
        journal = Journal(self._dojo_journal)
        name = self._dojo_shm
        before = (maps_of(name) or 0) if name else 0
        journal.write("start", os.getpid(), int(_is_manager_server(getattr(self, "_target", None))), before)
        try:
            _received_in(journal, tuple(getattr(self, "_args", ())) + tuple(getattr(self, "_kwargs", {}).values()))
        except Exception:
            pass
        if name:
            _note_attach(journal, name)
        try:
            super().run()
        except BaseException:
            # The target's frames are alive here (the exception's traceback holds them):
            # a view the target did not close is still mapped.
            self._dojo_after(journal, name, before, failed=True)
            raise
        self._dojo_after(journal, name, before, failed=False)

    @staticmethod
    def _dojo_after(journal, name, before, failed):
        if name:
            now = maps_of(name)
            added = max((now or 0) - before, 0) if now is not None else 0
            journal.write("after", os.getpid(), int(failed), int(block_exists(name)), added)
        else:
            journal.write("after", os.getpid(), int(failed), 0, 0)


def _note_attach(journal, name) -> None:
    """In a worker: write ``attached <pid>`` the first time it opens the block ``name``
    (a worker may read its numbers from the block rather than from its arguments)."""
    from multiprocessing import shared_memory

    original = shared_memory.SharedMemory.__init__
    noted = []

    def __init__(self, *args, **kwargs):
        original(self, *args, **kwargs)
        if not noted and self.name.lstrip("/") == name.lstrip("/"):
            noted.append(True)
            journal.write("attached", os.getpid())

    shared_memory.SharedMemory.__init__ = __init__


# Named as multiprocessing's own classes: a default process name ("SpawnProcess-3") is
# built from the class name, and learners see those names in their own messages.
_CLASSES = process_classes(_Witness, "", globals())


class JournalContext:
    """A multiprocessing context whose processes write to ``journal`` what they did.

    ``ctx.Process``, ``ctx.Pool``, ``ProcessPoolExecutor(mp_context=ctx)`` and
    ``ctx.Manager()`` (its server process) all come from here; ``get_context()`` returns
    this context again. Everything else is the real context's."""

    def __init__(self, ctx, journal: Journal, shm_name: str | None = None, fail_first_start: bool = False):
        self._ctx = ctx
        self._journal = journal.path
        self._shm = shm_name
        self._failure = _StartFailure(fail_first_start)

    def Process(self, *args, **kwargs):
        cls = _CLASSES[self._ctx.get_start_method()]
        process = cls(*args, **kwargs)
        process._dojo_journal = self._journal
        process._dojo_shm = self._shm
        process._dojo_failure = self._failure
        return process

    def Pool(self, processes=None, initializer=None, initargs=(), maxtasksperchild=None):
        from multiprocessing.pool import Pool

        return Pool(processes, initializer, initargs, maxtasksperchild, context=self)

    def Manager(self):
        from multiprocessing.managers import SyncManager

        manager = SyncManager(ctx=self)  # its server is started through self.Process
        manager.start()
        return manager

    def get_start_method(self, allow_none=False):
        return self._ctx.get_start_method(allow_none)

    def get_context(self, method=None):
        if method is None or method == self._ctx.get_start_method():
            return self
        return self._ctx.get_context(method)

    def release(self) -> None:
        """Let go of the injected exception (and the frames it kept alive)."""
        self._failure.held.clear()

    @property
    def injected(self) -> bool:
        """Whether a start() was made to fail."""
        return bool(self._failure.held) or not self._failure.armed

    def __getattr__(self, name):
        if name == "_ctx" or (name.startswith("__") and name.endswith("__")):
            raise AttributeError(name)  # keeps it picklable (see dojo.testing.TrackedLock)
        return getattr(self._ctx, name)

    def __repr__(self):
        return f"<JournalContext {self._ctx.get_start_method()}>"


# --- reading the journal -----------------------------------------------------------------------


class Seen:
    """What the journal says, as plain data."""

    def __init__(self, journal: Journal):
        rows = journal.records()
        self.managers = sorted({int(r[1]) for r in rows if r[0] == "manager"})
        self.squares = [(int(r[1]), int(r[2])) for r in rows if r[0] == "square" and len(r) > 2]
        # (pid, number, op name) for every other read of a traced number's value
        self.reads = [(int(r[1]), int(r[2]), op_name(int(r[3]))) for r in rows if r[0] == "read" and len(r) > 3]
        self.computed = [(pid, n, "n * m or n ** m") for pid, n in self.squares] + [
            (pid, n, op) for pid, n, op in self.reads if is_compute(OP.get(op, -1))
        ]
        self.received = [(int(r[1]), int(r[2])) for r in rows if r[0] == "received" and len(r) > 2]
        # (pid, failed, block existed, mappings added) per worker whose target ended
        self.after = [tuple(int(x) for x in r[1:5]) for r in rows if r[0] == "after" and len(r) > 4]
        self.reaped = {int(r[1]) for r in rows if r[0] == "reaped" and len(r) > 1}
        # (pid, block existed) at the parent's first join() of each worker
        self.joining = [(int(r[1]), int(r[2])) for r in rows if r[0] == "joining" and len(r) > 2]
        self.workers = [int(r[1]) for r in rows if r[0] == "spawned" and len(r) > 2 and r[2] == "0"]
        self.attached = {int(r[1]) for r in rows if r[0] == "attached" and len(r) > 1}

    def unjoined(self) -> list[int]:
        """Workers (not a Manager's server) whose parent never waited for them."""
        return [pid for pid in self.workers if pid not in self.reaped]
