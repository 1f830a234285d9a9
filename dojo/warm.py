"""The warm runner: pytest pre-imported, a fresh forked child per run.

    controller (threads: watch, keys, UI)  ──Popen──>  warm runner (this module's serve())
       │  one JSON line per request on stdin              single-threaded; imports pytest,
       │  <── one JSON line per event on stdout           pytest-timeout and the dojo plugin,
       │                                                   never any kata code
       │                                                     └─fork─> run child: setsid(),
       │                                                              rlimits, pytest.main()
       └─ past the wall limit: kill(-pgid) of the run child, and the runner kills whatever
          its run left behind (it is a subreaper, so setsid() escapees come back to it)

The controller runs threads, so it must not fork a Python that goes on to run code; the
runner has none, so its forks are what a learner's single-threaded program would be.
Its main module is ``-c``: a spawned grandchild re-imports nothing heavy.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import tempfile

NPROC_LIMIT = 256  # a fork bomb in learner code ends as a failure (enforced for non-root)


def serve() -> None:
    preload()
    from dojo import procs

    procs.set_subreaper()
    _emit({"event": "ready", "pid": os.getpid()})
    for line in sys.stdin:
        try:
            request = json.loads(line)
        except ValueError:
            continue
        op = request.get("op")
        if op == "quit":
            break
        if op == "run":
            _discard()
            _run(request)
        elif op == "prepare":
            _discard()
            _prepare(request)
        elif op == "go":
            _go(request)
        elif op == "discard":
            _discard()
            _emit({"event": "discarded", "id": request.get("id")})
    _discard()
    _emit({"event": "bye"})


# A run made ready before it is asked for: forked, configured and collected, waiting at
# the gate for "go". The learner's next save then costs only the tests themselves.
_prepared: dict | None = None
STALE = 75  # the exit code of a prepared run that found a kata module imported already


def _prepare(request: dict) -> None:
    """Fork the run child now and let it get as far as its first test: pytest's start,
    the plugins, the kit's configuration and the collection of the test module. The kata
    itself is imported only when a test asks for it (the kata fixture), after "go"."""
    global _prepared
    from dojo import kitguard

    _read_manifest(request)
    kit = kitguard.protected(request["root"])  # the kit as the run reads it, to compare at "go"
    gate_read, gate_write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(gate_write)
        _child(request, _Gate(gate_read, request.get("target", "katas")))
    os.close(gate_read)
    _prepared = {"pid": pid, "gate": gate_write, "id": request.get("id"), "kit": kit, "root": request["root"]}
    _emit({"event": "prepared", "id": request.get("id"), "pid": pid})


def _go(request: dict) -> None:
    """Let the prepared run go on, if it is still the run asked for: else "stale", and
    the controller asks for a run of its own."""
    global _prepared
    from dojo import kitguard

    prepared, _prepared = _prepared, None
    if prepared is None or prepared["id"] != request.get("id"):
        if prepared is not None:
            _discard(prepared)
        _emit({"event": "stale", "id": request.get("id")})
        return
    done, _status = os.waitpid(prepared["pid"], os.WNOHANG)
    if done or kitguard.protected(prepared["root"]) != prepared["kit"]:
        # It ended while it waited (its collection failed), or the kit's tests, manifest
        # or configuration changed since it read them: run afresh.
        _discard(prepared, reaped=bool(done))
        _emit({"event": "stale", "id": request.get("id")})
        return
    try:
        os.write(prepared["gate"], b"go\n")
    except OSError:
        pass
    os.close(prepared["gate"])
    _emit({"event": "started", "id": request.get("id"), "pid": prepared["pid"]})
    code = _wait(prepared["pid"])
    if code == STALE:
        from dojo import procs

        procs.kill_descendants(grace=0.2)  # its resource tracker, if it had started one
        _emit({"event": "stale", "id": request.get("id")})
        return
    _finished(request, prepared["pid"], code)


def _discard(prepared: dict | None = None, reaped: bool = False) -> None:
    """Kill a prepared run that nobody will ask for (its whole session) and reap it."""
    global _prepared
    if prepared is None:
        prepared, _prepared = _prepared, None
    if prepared is None:
        return
    from dojo import procs

    try:
        os.close(prepared["gate"])  # a child still at the gate reads EOF and ends
    except OSError:
        pass
    if not reaped:  # (a reaped pid may already be someone else's)
        try:
            os.killpg(prepared["pid"], signal.SIGKILL)
        except OSError:
            pass
        _wait(prepared["pid"])
    procs.kill_descendants(grace=0.2)


class _Gate:
    """A plugin of the prepared run child: holds the session just before its first test
    until the warm runner says "go" (EOF or anything else: the run is not wanted)."""

    def __init__(self, fd: int, target: str):
        self.fd, self.target = fd, target

    def pytest_runtestloop(self, session):
        try:
            word = os.read(self.fd, 16)
        except OSError:
            word = b""
        os.close(self.fd)
        if not word.startswith(b"go"):
            os._exit(0)
        # The kata is imported only now, by the tests that ask for it; a test module that
        # imported it during the collection would have the version before the save.
        prefix = self.target + "."
        if any(name.startswith(prefix) for name in sys.modules):
            os._exit(STALE)
        # The time spent waiting for the save is not the run's.
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        start = getattr(reporter, "_session_start", None)
        if start is not None:
            try:
                reporter._session_start = type(start)()
            except TypeError:
                pass
        return None


# What every run imports besides pytest itself, imported once here: pytest's built-in
# plugins are imported when a session loads them, and the standard modules below when the
# first test starts a process. None of them runs code of the kit's or the learner's.
PRELOAD = (
    "xml.etree.ElementTree", "unittest", "difflib", "encodings.unicode_escape", "multiprocessing.heap",
    "multiprocessing.popen_fork", "multiprocessing.queues", "multiprocessing.sharedctypes",
    "multiprocessing.synchronize",
)


def preload() -> None:
    """Import pytest, its plugins and the kit's test-side toolkit (never a kata, a test or
    a conftest, which each run imports afresh)."""
    import importlib
    import pkgutil

    import pytest  # noqa: F401 - imported once here, inherited by every run
    import pytest_timeout  # noqa: F401
    import _pytest.config

    import dojo.toolkit
    from dojo import plugin, procs  # noqa: F401

    names = [f"_pytest.{name}" for name in _pytest.config.default_plugins]
    names += list(PRELOAD)
    names += [f"dojo.toolkit.{m.name}" for m in pkgutil.iter_modules(dojo.toolkit.__path__)]
    for name in names:
        try:
            importlib.import_module(name)
        except ImportError:
            pass  # an older pytest without that plugin: the run imports what it has


def _run(request: dict) -> None:
    _read_manifest(request)  # the first run, or katas.toml changed: read once, not per run
    pid = os.fork()
    if pid == 0:  # the run child
        _child(request)
    _emit({"event": "started", "id": request.get("id"), "pid": pid})
    _finished(request, pid, _wait(pid))


def _child(request: dict, gate=None) -> None:
    """The run child: a session of its own, the limits, pytest.main. Never returns."""
    code = 70
    try:
        os.setsid()
        _limits()
        os.chdir(request["root"])
        os.environ.update(request.get("env", {}))
        tempfile.tempdir = None  # the run's own TMPDIR, not one this process looked up
        devnull = os.open(os.devnull, os.O_RDWR)
        os.dup2(devnull, 0)
        if request.get("output"):
            out = os.open(request["output"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.dup2(out, 1)
            os.dup2(out, 2)
        import pytest

        # This process imported the plugins before the fork, to be warm: pytest cannot
        # rewrite their asserts and says so in every run, which is noise to a learner.
        args = ["-W", "ignore::pytest.PytestAssertRewriteWarning", *request["args"]]
        code = int(pytest.main(args, plugins=[gate] if gate is not None else None))
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        code = 71
    finally:
        # os._exit skips Python's own flush: what pytest left in sys.stdout's buffer
        # (the end of its report) would never reach the run's output file.
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # noqa: BLE001 - a closed or broken stream must not keep the child alive
                pass
        os._exit(code)


def _wait(pid: int) -> int:
    try:
        _, status = os.waitpid(pid, 0)
    except ChildProcessError:
        return 70
    return os.waitstatus_to_exitcode(status)


def _finished(request: dict, pid: int, code: int) -> None:
    from dojo import procs

    leftovers = procs.kill_descendants(grace=0.2)
    _emit({"event": "finished", "id": request.get("id"), "pid": pid, "returncode": code, "leftovers": leftovers})
    _read_manifest(request)  # between runs, so that the next run's child finds it parsed


def _read_manifest(request: dict) -> None:
    """Parse the kit's katas.toml here, in the runner, before the next fork (the plugin's
    manifest.load in each run then only checks that the file is unchanged)."""
    from dojo import manifest

    try:
        manifest.load(os.path.join(request["root"], "katas.toml"))
    except (manifest.ManifestError, KeyError, TypeError):
        pass  # the run reports a broken manifest itself


def _limits() -> None:
    try:
        import resource

        import psutil

        # RLIMIT_NPROC counts every process of this user, not of this tree: leave room for
        # what the user already runs, plus NPROC_LIMIT for the run.
        uid = os.getuid()
        mine = sum(1 for p in psutil.process_iter(["uids"]) if p.info["uids"] and p.info["uids"].real == uid)
        soft, hard = resource.getrlimit(resource.RLIMIT_NPROC)
        limit = mine + NPROC_LIMIT
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_NPROC, (limit, hard))
    except (ImportError, ValueError, OSError):
        pass
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _emit(event: dict) -> None:
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()
