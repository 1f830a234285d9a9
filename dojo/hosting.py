"""Judge and host: in grading mode learner code runs only in host processes.

    judge (pytest: asserts, records)          host (one per kata call)
      kata.f(ctx, 3) ──ctx.Process(serve)──>    close inherited descriptors, limits, uid
                                                import katas/<kata>.py, call f(ctx, 3)
                     <──JSON over a Pipe──      {"ok": ...} | {"raised": [type, message]}
      asserts, observes the host from outside   waits (its children stay observable)
      end of test: "exit", join, kill the rest

The host is started with the test's own start method, so the shared objects a test passes
(a Barrier, a Value, a Manager proxy) travel to it by inheritance exactly as they would to
the learner's own children. The judge never imports the learner's module and never
unpickles what a host sends: results come back as tagged JSON (tuples and dicts with
non-string keys survive), checked as plain data. A host that exits without answering
(``os._exit(0)``, a crash, a kill) is a failure, never a pass.

Everything here that the judge uses is called from the pytest plugin; ``serve`` is the
host's entry point and imports only the standard library and ``dojo.i18n`` before the
learner's module.
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
import signal
import sys
import tempfile
import time
import traceback

from dojo import system
MAX_RESULT = 16 * 1024 * 1024  # bytes of JSON a host may send back
# The CPUs the judge could use before any test narrowed them (parallel2 does): while a host
# runs the kata, the judge goes back to these, so that the host's parent looks like a
# learner's shell, not like a copy of the narrowed test.
JUDGE_CPUS = sorted(system.cpu_set()) if system.AFFINITY else None
CLOSE_GRACE = 1.0  # seconds a host gets to end once told to
# In a grading workspace: the copy of the test-side toolkit hosts import dojo from (the
# grader's own dojo, and the kit it may be installed from, are out of a host's sight).
TOOLKIT = ".dojo-toolkit"


class HostError(Exception):
    """The host could not run the call: import failure, missing function, or it died."""


class ImportHang(HostError):
    """The kata module did not finish importing within IMPORT_BUDGET seconds. Code at a
    module's top level runs the same way in every process that imports it, so one such
    hang settles the kata on every start method: it costs one budget, not one test
    timeout per test and start method."""

    def __init__(self, message: str, where: str):
        super().__init__(message)
        self.where = where


# Seconds a host may take to import the kata module once it has started (scaled by
# DOJO_TIMEOUT_SCALE): a kata module only defines functions, so this is plenty.
IMPORT_BUDGET = 5.0


# --- tagged JSON: plain data that keeps its Python shape -------------------------------------


def encode(value, _depth=0):
    if _depth > 50:
        raise TypeError("data nested deeper than 50 levels")
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, list):
        return [encode(v, _depth + 1) for v in value]
    if isinstance(value, tuple):
        return {"$t": [encode(v, _depth + 1) for v in value]}
    if isinstance(value, dict):
        return {"$d": [[encode(k, _depth + 1), encode(v, _depth + 1)] for k, v in value.items()]}
    raise TypeError(f"a {type(value).__module__}.{type(value).__qualname__} is not plain data")


def decode(value, _depth=0):
    """The inverse of ``encode``; anything else is refused (a host's bytes are untrusted)."""
    if _depth > 60:
        raise ValueError("nested too deeply")
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, list):
        return [decode(v, _depth + 1) for v in value]
    if isinstance(value, dict) and len(value) == 1:
        (tag, items), = value.items()
        if tag == "$t" and isinstance(items, list):
            return tuple(decode(v, _depth + 1) for v in items)
        if tag == "$d" and isinstance(items, list):
            out = {}
            for pair in items:
                if not (isinstance(pair, list) and len(pair) == 2):
                    raise ValueError("malformed dict entry")
                key = decode(pair[0], _depth + 1)
                if not (key is None or isinstance(key, (bool, int, float, str))):
                    raise ValueError("dict key is not a scalar")
                out[key] = decode(pair[1], _depth + 1)
            return out
    raise ValueError("not tagged plain data")


# --- importing the learner's module (both modes) ---------------------------------------------


def import_kata(root, target: str, kata: str):
    """Import ``<target>.<kata>`` from the kit at ``root``; failures become one clear
    ``HostError`` whose text says what went wrong and where (never a traceback into dojo)."""
    from dojo import i18n

    module_name = f"{target}.{kata}"
    path = f"{target}/{kata}.py"
    if not os.path.isfile(os.path.join(str(root), path)):
        raise HostError(i18n.t("kata_file_missing", kata=kata, path=path))
    try:
        return importlib.import_module(module_name)
    except SyntaxError as exc:
        raise HostError(
            i18n.t("kata_syntax_error", path=path, line=exc.lineno, error=exc.msg, text=(exc.text or "").strip())
        ) from None
    except BaseException as exc:  # an exception, sys.exit() or anything else at import
        sys.modules.pop(module_name, None)
        where = innermost(traceback.extract_tb(exc.__traceback__), root)
        raise HostError(
            i18n.t("kata_import_failed", path=path, error=f"{type(exc).__name__}: {exc}", where=where)
        ) from None


def innermost(frames, root) -> str:
    """The innermost frame in the kit's kata or solution code, as ``path:line (func): code``."""
    for filename, lineno, name, line in reversed([(f.filename, f.lineno, f.name, f.line) for f in frames]):
        rel = confined(filename, root)
        if rel:
            return f"{rel}:{lineno} ({name}): {(line or '').strip()}"
    return ""


def confined(filename: str, root) -> str:
    """``filename`` relative to ``root`` if it really is a Python file in ``katas/`` or
    ``solutions/`` there, else "". A host writes the frames the judge reads, so a name is
    resolved first (``..`` and symbolic links), never trusted by its prefix: the judge must
    never read a line of any other file for a host."""
    try:
        real = os.path.realpath(filename)
        base = os.path.realpath(str(root))
    except (OSError, ValueError):
        return ""
    for target in ("katas", "solutions"):
        folder = os.path.join(base, target)
        if os.path.dirname(real) == folder and real.endswith(".py") and os.path.isfile(real):
            return os.path.relpath(real, base)
    return ""


def _default_method():
    import multiprocessing

    return multiprocessing.get_start_method(allow_none=True) or multiprocessing.get_start_method()


class _judge_cpus_widened:
    """While a host works, give the judge back the CPUs it started with (if a test had
    narrowed them), then narrow it again."""

    def __init__(self, narrowed):
        self.narrowed = narrowed
        self.widen = bool(narrowed and JUDGE_CPUS and narrowed != JUDGE_CPUS)

    def __enter__(self):
        if self.widen:
            try:
                os.sched_setaffinity(0, JUDGE_CPUS)
            except OSError:  # the CPUs were taken away from us meanwhile: leave it be
                self.widen = False

    def __exit__(self, *exc):
        if self.widen:
            os.sched_setaffinity(0, self.narrowed)


# --- the host ------------------------------------------------------------------------------


def serve(conn, spec: dict) -> None:
    """A host's whole life: confine itself, run one call, answer, wait to be let go."""
    if spec.get("affinity") and system.AFFINITY:
        # a forkserver host is forked by a server started earlier: give it the CPUs the
        # test allows now (parallel2 narrows them), as a child of the test would have
        os.sched_setaffinity(0, spec["affinity"])
    if spec.get("default_method"):
        # A spawn or forkserver child starts with its own method as multiprocessing's
        # default. Give the host the judge's default instead, so that kata code which
        # ignores ctx (`ProcessPoolExecutor()` without mp_context) gets the same wrong
        # context it would get in practice mode, and fails the same way.
        import multiprocessing

        multiprocessing.set_start_method(spec["default_method"], force=True)
    _say(conn, {"started": True})  # the import budget counts from here, not from the interpreter's start
    stacks = open(spec["stackfile"], "w")  # noqa: SIM115 - lives as long as the host
    # after opening the stack file, so that its descriptor cannot take a closed number
    for fd in spec.get("private_fds", ()):  # under fork: the judge's results file, ...
        try:
            os.close(fd)
        except OSError:
            pass
    import faulthandler

    if system.STACK_SIGNAL is not None:  # without it a hang is named from the judge's side only
        faulthandler.register(system.STACK_SIGNAL, file=stacks, all_threads=True)
    import dojo.i18n  # loaded before any uid drop, as the judge's own code

    dojo.i18n.catalogue()  # read now: once the host has a view of its own, the kit is out of sight
    import dojo.testing  # noqa: F401

    applied = []
    if spec.get("limits") is not None:
        from dojo.grading import sandbox

        toolkit = os.path.join(spec["root"], TOOLKIT)
        applied = sandbox.enter_host(sandbox.Limits.from_dict(spec["limits"]), spec.get("slot", 0),
                                     toolkit=toolkit if os.path.isdir(toolkit) else None)
    reply = _run(spec, lambda: _say(conn, {"imported": True}))
    reply["applied"] = applied
    try:
        data = json.dumps(reply, ensure_ascii=False, allow_nan=True).encode()
    except (TypeError, ValueError) as exc:
        data = json.dumps({"not_plain": str(exc)}).encode()
    if len(data) > MAX_RESULT:
        data = json.dumps({"not_plain": f"the result is {len(data)} bytes of JSON; at most {MAX_RESULT}"}).encode()
    try:
        conn.send_bytes(data)
        conn.recv_bytes()  # the judge says when: until then its children stay observable
    except (EOFError, OSError):
        pass


def confine_server(spec: dict, initializer=None, initargs=()) -> None:
    """A Manager server's first step (before it listens): confined as a host is."""
    for fd in spec.get("private_fds", ()):  # under fork: the judge's results file, ...
        try:
            os.close(fd)
        except OSError:
            pass
    from dojo.grading import sandbox

    toolkit = spec.get("toolkit")
    sandbox.enter_host(sandbox.Limits.from_dict(spec["limits"]), spec.get("slot", 0),
                       toolkit=toolkit if toolkit and os.path.isdir(toolkit) else None)
    if initializer is not None:
        initializer(*initargs)


def _say(conn, message: dict) -> None:
    try:
        conn.send_bytes(json.dumps(message).encode())
    except OSError:
        pass


def _run(spec: dict, imported=None) -> dict:
    from dojo.testing import check_plain

    root, target, kata, attr = spec["root"], spec["target"], spec["kata"], spec["attr"]
    if root not in sys.path:
        sys.path.insert(0, root)
    try:
        module = import_kata(root, target, kata)
    except HostError as exc:
        return {"import_error": str(exc)}
    if imported is not None:
        imported()
    fn = getattr(module, attr, None)
    if fn is None:
        return {"missing": attr}
    try:
        result = fn(*spec["args"], **spec["kwargs"]) if callable(fn) else fn
    except BaseException as exc:  # SystemExit too: a kata must not end the run
        return {"raised": [type(exc).__name__, str(exc)]}
    try:
        check_plain(result, f"{kata}.{attr}(...)")
        return {"ok": encode(result)}
    except TypeError as exc:
        return {"not_plain": str(exc)}


# --- the judge's side ---------------------------------------------------------------------


class Host:
    """One host process, started for one call."""

    def __init__(self, ctx, spec: dict):
        self.stackfile = spec["stackfile"]
        parent_conn, child_conn = ctx.Pipe()
        self.conn = parent_conn
        self.process = ctx.Process(target=serve, args=(child_conn, spec), name=f"dojo-host-{spec['kata']}")
        self.process.start()
        child_conn.close()
        self.pid = self.process.pid

    def answer(self, import_budget: float | None = None) -> dict:
        """The host's reply. Before it, the host says it has started and, once the kata
        module is imported, that it has: with ``import_budget``, a host that has started
        but not imported within that many seconds gets ``{"import_hang": True}``."""
        from multiprocessing.connection import wait

        deadline = None
        while True:
            timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
            ready = wait([self.conn, self.process.sentinel], timeout)
            if not ready:
                return {"import_hang": True}
            if self.conn not in ready:
                break
            try:
                data = self.conn.recv_bytes(MAX_RESULT + 1024)
                reply = json.loads(data)
            except (EOFError, OSError, ValueError):
                break
            if not isinstance(reply, dict):
                break
            if reply.get("started") is True and len(reply) == 1:
                deadline = None if import_budget is None else time.monotonic() + import_budget
                continue
            if reply.get("imported") is True and len(reply) == 1:
                deadline = None
                continue
            return reply
        _wait_exit(self.process, 0.5)
        return {"died": self.process.exitcode}

    def close(self) -> None:
        try:
            self.conn.send_bytes(b"exit")
        except OSError:
            pass
        _wait_exit(self.process, CLOSE_GRACE)
        self.conn.close()


class Hosts:
    """The hosts of one test, kept alive until the test ends so that what they left behind
    (children, zombies) can be observed from outside."""

    def __init__(self, ctx, root, target: str, kata: str, limits=None, slot: int = 0, private_fds=()):
        self.ctx = ctx
        self.private_fds = list(private_fds)
        self.root = str(root)
        self.target = target
        self.kata = kata
        self.limits = limits
        self.slot = slot
        self.live: list[Host] = []
        self.applied: list = []
        self._dir = None  # made at the first call: a test may never call the kata
        _prepare_host_python(self.root, (limits or {}).get("hidden") or ())

    def call(self, attr: str, args: tuple, kwargs: dict):
        from dojo import i18n
        from dojo.testing import KataRaised

        if self._dir is None:
            self._dir = tempfile.mkdtemp(prefix="dojo-host-", dir=os.environ.get("DOJO_TMPDIR") or None)
            os.chmod(self._dir, 0o755)
        stackfile = os.path.join(self._dir, f"stack-{len(self.live)}")
        spec = {
            "root": self.root,
            "target": self.target,
            "kata": self.kata,
            "attr": attr,
            "args": args,
            "kwargs": kwargs,
            "stackfile": stackfile,
            "limits": self.limits,
            "slot": self.slot,
            "affinity": sorted(system.cpu_set()) if system.AFFINITY else None,
            "default_method": _default_method(),
            "private_fds": self.private_fds if self.ctx.get_start_method() == "fork" else [],
        }
        host = Host(self.ctx, spec)  # started: a fork or spawn host has the narrowed CPUs already
        self.live.append(host)
        budget = IMPORT_BUDGET * float(os.environ.get("DOJO_TIMEOUT_SCALE") or 1)
        with _judge_cpus_widened(spec["affinity"]):
            reply = host.answer(import_budget=budget)
        self.applied = reply.get("applied") or self.applied
        if reply.get("import_hang"):
            where = self.where()
            host.process.kill()
            path = f"{self.target}/{self.kata}.py"
            raise ImportHang(i18n.t("import_hang", path=path, seconds=f"{budget:g}",
                                    where=where or path), where)
        if "ok" in reply:
            try:
                return decode(reply["ok"])
            except ValueError as exc:
                raise HostError(f"{self.kata}.{attr}(...) sent back something that is not plain data: {exc}") from None
        if "raised" in reply and isinstance(reply["raised"], list) and len(reply["raised"]) == 2:
            type_name, message = (str(x) for x in reply["raised"])
            raise KataRaised(type_name, message)
        if "missing" in reply:
            raise AttributeError(
                i18n.t("kata_missing_function", kata=self.kata, path=f"{self.target}/{self.kata}.py", name=attr)
            )
        if "import_error" in reply:
            raise HostError(str(reply["import_error"]))
        if "not_plain" in reply:
            raise TypeError(str(reply["not_plain"]))
        code = reply.get("died")
        if code is None:  # still running, but what came back was no answer
            raise HostError(i18n.t("host_garbled", kata=self.kata, call=f"{attr}(...)"))
        raise HostError(i18n.t("host_died", kata=self.kata, call=f"{attr}(...)", code=_exit_text(code)))

    def pids(self) -> list[int]:
        return [h.pid for h in self.live if h.process.exitcode is None]

    def last_pid(self) -> int | None:
        return self.live[-1].pid if self.live else None

    def descendants(self) -> list:
        """Every process below the live hosts, except multiprocessing's own servers."""
        from dojo import procs

        out = []
        for pid in self.pids():
            out.extend(procs.descendants(pid))
        return out

    def children(self) -> list:
        from dojo import procs

        out = []
        for pid in self.pids():
            for p in procs.descendants(pid):
                try:
                    if p.ppid() == pid:
                        out.append(p)
                except procs.psutil.Error:
                    continue
        return out

    def where(self) -> str:
        """Ask every live host for its stacks (SIGUSR1: faulthandler) and name the innermost
        kata line: what a hung test was waiting for."""
        found = ""
        for host in self.live:
            if host.process.exitcode is not None or system.STACK_SIGNAL is None:
                continue
            try:
                os.kill(host.pid, system.STACK_SIGNAL)
            except OSError:
                continue
            deadline = time.monotonic() + 0.5
            text = previous = ""
            while time.monotonic() < deadline:
                # bounded poll: faulthandler writes from the host's signal handler and
                # there is no event to wait on; the dump is complete once it stops growing
                time.sleep(0.02)
                try:
                    with open(host.stackfile, encoding="utf-8", errors="replace") as fh:
                        text = fh.read()
                except OSError:
                    text = ""
                if text and text == previous:
                    break
                previous = text
            found = _where_from_dump(text, self.root) or found
        return found

    def close(self) -> list[str]:
        """Let every host go; return what they left behind (running processes, zombies),
        described for the leak report. Whatever is still running is killed."""
        from dojo import i18n, procs

        leaks = []
        for host in self.live:
            if host.process.exitcode is not None:
                host.conn.close()
                continue
            below = procs.descendants(host.pid)
            zombies = [p for p in below if procs.is_zombie(p) and _ppid(p) == host.pid]
            for p in zombies:
                leaks.append(i18n.t("zombie_process", what=f"pid {p.pid}"))
            procs.wait_until(lambda: not [p for p in procs.descendants(host.pid) if not procs.is_zombie(p)], 0.5)
            running = [p for p in procs.descendants(host.pid) if not procs.is_zombie(p)]
            for p in running:
                leaks.append(i18n.t("running_process", what=procs.describe(p)))
            procs.kill_tree(running)
            host.close()
            if host.process.exitcode is None:
                procs.kill_tree([procs.psutil.Process(host.pid)] if _exists(host.pid) else [])
                _wait_exit(host.process, CLOSE_GRACE)
        self.live = []
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None
        return leaks


def _prepare_host_python(root: str, hidden) -> None:
    """The judge's side of a host's view: a spawn or forkserver host is a fresh interpreter
    that must import ``dojo.hosting`` from the workspace's toolkit copy (first on the path
    it inherits; the judge's own dojo modules are loaded already and stay where they are),
    and must not be started from a venv inside a hidden folder (its command line and
    ``sys.executable`` would name the kit): the real interpreter is used instead."""
    toolkit = os.path.join(root, TOOLKIT)
    if not os.path.isdir(toolkit):
        return
    if sys.path[:1] != [toolkit]:
        sys.path[:] = [toolkit, *(p for p in sys.path if p != toolkit)]
    hidden = [os.path.realpath(h) for h in hidden]

    def gone(path):
        return any(path == h or path.startswith(h.rstrip("/") + "/") for h in hidden)

    if gone(os.path.abspath(sys.executable)) and not gone(os.path.realpath(sys.executable)):
        from multiprocessing import spawn

        spawn.set_executable(os.path.realpath(sys.executable))


def _wait_exit(process, seconds: float) -> None:
    """Wait up to ``seconds`` for a host to end, never blocking past that. (``join`` trusts
    the sentinel pipe, which a fork host holds open and so can make readable at will, and
    then blocks in waitpid.) Polls: a host's end has no other event the judge can wait on."""
    deadline = time.monotonic() + seconds
    while process.exitcode is None and time.monotonic() < deadline:
        time.sleep(0.01)


def _ppid(p) -> int | None:
    try:
        return p.ppid()
    except Exception:
        return None


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False


def _exit_text(code) -> str:
    if code is None:
        return "unknown"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit status {code}"


def _where_from_dump(text: str, root: str) -> str:
    """The first kata frame in a faulthandler dump (innermost first), with its source line."""
    import linecache

    for line in text.splitlines():
        line = line.strip()
        if not line.startswith('File "'):
            continue
        try:
            filename = line.split('"', 2)[1]
            rest = line.split('"', 2)[2]  # , line 15 in wait_for_child
            lineno = int(rest.split("line", 1)[1].split()[0])
            func = rest.rsplit(" in ", 1)[1].strip()
        except (IndexError, ValueError):
            continue
        rel = confined(filename, root)
        if rel:
            code = linecache.getline(filename, lineno).strip()
            return f"{rel}:{lineno} ({func}): {code}"
    return ""


_current: Hosts | None = None  # the running test's hosts, in the judge


def current() -> Hosts | None:
    return _current


def set_current(hosts: Hosts | None) -> None:
    global _current
    _current = hosts
