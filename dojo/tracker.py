"""Which /dev/shm objects did *this* run create? Ask multiprocessing's resource tracker.

Every shared-memory segment and named semaphore that a process of our tree creates is
registered with one resource tracker process, whatever the start method (fork children
inherit its pipe, spawn and forkserver children are handed it). dojo starts that tracker
itself, with a tee in front of the real one:

    our processes ──REGISTER/UNREGISTER lines──> tee ──> multiprocessing's own tracker
                                                  └──> ledger file (JSON-free, one line
                                                       per message, O_APPEND)

so the plugin can tell which objects its own run left behind, even while other runs
(parallel verify jobs, other programs) create objects in the same /dev/shm. A
before/after diff of the folder cannot: it would blame one run for another's leak, and
fail on every other program's semaphore. Where the tee cannot be installed, the guard
does not check shared memory at all: nothing tells whose an object is.

A process that starts many runs (``dojo verify``, dojo's own tests) asks for a *tree
ledger* with ``DOJO_TREE_LEDGER=<file>``: every tracker started below it appends its
lines there too, so it can tell afterwards which objects its whole tree left behind
(``tree_leftovers``) without listing anybody else's. Nested askers each add their own
file (``tree_ledgers_with``; the variable holds a list, like ``PATH``).

Every practice run also writes to its kit's own ledger, ``.dojo/shm-ledger``
(``kit_ledger``): what a crashed or killed run of this kit left behind is found there
later by ``dojo clean``, which never touches another program's objects.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time

_seq = 0
TREE_LEDGER = "DOJO_TREE_LEDGER"


def install(ledger: str) -> bool:
    """Make multiprocessing start our tee'd tracker when it first needs one."""
    from multiprocessing import resource_tracker

    rt = resource_tracker._resource_tracker
    if getattr(rt, "_fd", None) is not None or not hasattr(rt, "_pid"):
        return False
    original = rt.ensure_running

    def ensure_running():
        if rt._fd is None:
            _start(rt, ledger)
        return original()

    rt.ensure_running = ensure_running
    resource_tracker.ensure_running = ensure_running
    return True


def _start(rt, ledger: str) -> None:
    # Mirrors ResourceTracker.ensure_running (3.10-3.13) with our command line.
    from multiprocessing import spawn, util

    fds_to_pass = []
    try:
        fds_to_pass.append(sys.stderr.fileno())
    except Exception:
        pass
    r, w = os.pipe()
    ignored = (signal.SIGINT, signal.SIGTERM)
    try:
        fds_to_pass.append(r)
        exe = spawn.get_executable()
        trees = [t for t in os.environ.get(TREE_LEDGER, "").split(os.pathsep) if t]
        code = f"from dojo.tracker import main; main({r}, {ledger!r}, {trees!r})"
        args = [exe, *util._args_from_interpreter_flags(), "-c", code]
        signal.pthread_sigmask(signal.SIG_BLOCK, ignored)
        try:
            pid = util.spawnv_passfds(exe, args, fds_to_pass)
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, ignored)
    except BaseException:
        os.close(w)
        raise
    else:
        rt._fd = w
        rt._pid = pid
        if hasattr(rt, "_exitcode"):
            rt._exitcode = None
    finally:
        os.close(r)


def main(fd: int, ledger: str, trees: list = ()) -> None:
    """The tracker process: copy every message to the ledger (and to the tree ledgers
    that were asked for), then to the real tracker."""
    from multiprocessing import resource_tracker

    r2, w2 = os.pipe()

    def tee():
        outs = [os.open(ledger, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)]
        own = os.fstat(outs[0])
        for tree in trees:
            try:  # best effort: a run that cannot reach one (another uid) is not stopped
                outs.append(os.open(tree, os.O_WRONLY | os.O_APPEND))
            except OSError:
                pass
        try:
            with open(fd, "rb") as src:
                for line in src:
                    for out in outs:  # one write per line: O_APPEND keeps lines whole
                        os.write(out, line)
                    os.write(w2, line)
        finally:
            # The run's own ledger is read only while the run lasts, and every process of
            # the run holds this pipe: at its end the run is over. The plugin removes the
            # ledger at the end of the session; a run that was killed cannot, so it is
            # removed here (if it is still the file this tracker opened). The tree ledgers
            # belong to whoever asked for them.
            try:
                found = os.stat(ledger)
                if (found.st_dev, found.st_ino) == (own.st_dev, own.st_ino):
                    os.unlink(ledger)
            except OSError:
                pass
            for out in outs:
                os.close(out)
            os.close(w2)

    threading.Thread(target=tee, daemon=True).start()
    resource_tracker.main(r2)  # leaks at exit are still warned about and unlinked by it


class Ledger:
    """Read side, in the process that judges."""

    def __init__(self, path: str):
        self.path = path

    def offset(self) -> int:
        try:
            return os.path.getsize(self.path)
        except OSError:
            return 0

    def sync(self, timeout: float = 1.0) -> bool:
        """Wait until every message sent before now has reached the ledger."""
        global _seq
        from multiprocessing import resource_tracker

        fd = resource_tracker._resource_tracker._fd
        if fd is None:
            return True
        _seq += 1
        token = f"PROBE:dojo{os.getpid()}x{_seq}:noop"
        try:
            os.write(fd, (token + "\n").encode())
        except OSError:
            return False
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with open(self.path, "rb") as fh:
                    fh.seek(max(self.offset() - 4096, 0))
                    if token.encode() in fh.read():
                        return True
            except OSError:
                pass
            time.sleep(0.001)
        return False

    def registered_since(self, offset: int) -> set[str]:
        """/dev/shm file names registered after ``offset`` and not unregistered since."""
        live: set[str] = set()
        try:
            with open(self.path, "rb") as fh:
                fh.seek(offset)
                data = fh.read().decode("ascii", "replace")
        except OSError:
            return live
        for line in data.splitlines():
            parts = line.strip().split(":")
            if len(parts) != 3:
                continue
            cmd, name, rtype = parts
            fname = _dev_shm_name(name, rtype)
            if fname is None:
                continue
            if cmd == "REGISTER":
                live.add(fname)
            elif cmd == "UNREGISTER":
                live.discard(fname)
        return live


def _dev_shm_name(name: str, rtype: str) -> str | None:
    name = name.lstrip("/")
    if rtype == "shared_memory":
        return name
    if rtype == "semaphore":
        return "sem." + name
    return None


def tree_ledgers_with(path: str) -> str:
    """The value of ``DOJO_TREE_LEDGER`` for our children: ours, and those above us."""
    return os.pathsep.join([path, *(t for t in os.environ.get(TREE_LEDGER, "").split(os.pathsep) if t)])


KIT_LEDGER = "shm-ledger"
KIT_LEDGER_MAX = 1 << 20  # bytes; compacted past this


def kit_ledger(root) -> str | None:
    """The kit's own ledger (``<root>/.dojo/shm-ledger``), made if need be; None where
    the kit cannot be written (a grading workspace is read-only)."""
    folder = os.path.join(str(root), ".dojo")
    path = os.path.join(folder, KIT_LEDGER)
    try:
        os.makedirs(folder, exist_ok=True)
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600))
        if os.path.getsize(path) > KIT_LEDGER_MAX:
            compact(path)
    except OSError:
        return None
    return path


def compact(path: str) -> None:
    """Keep only the objects still registered and still there. (A line another tracker
    appends meanwhile may be lost: then ``dojo clean`` misses that object, never more.)"""
    keep = sorted(tree_leftovers(path))
    lines = "".join(f"REGISTER:/{_tracker_name(n)}\n" for n in keep)
    fd = os.open(path, os.O_WRONLY | os.O_TRUNC)
    try:
        os.write(fd, lines.encode())
    finally:
        os.close(fd)


def _tracker_name(fname: str) -> str:
    """A /dev/shm file name as the tracker's ``name:rtype``."""
    if fname.startswith("sem."):
        return f"{fname[4:]}:semaphore"
    return f"{fname}:shared_memory"


def tree_leftovers(path: str) -> set[str]:
    """/dev/shm objects that trackers writing to the tree ledger ``path`` saw created and
    never saw removed, and that are still there: what the tree left behind. Objects of
    other programs are never in the ledger, so they are never named."""
    from dojo import procs

    return procs.shm_existing(Ledger(path).registered_since(0))
