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
        if request.get("op") == "quit":
            break
        if request.get("op") == "run":
            _run(request)
    _emit({"event": "bye"})


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
            code = int(pytest.main(args))
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
    _emit({"event": "started", "id": request.get("id"), "pid": pid})
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
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
