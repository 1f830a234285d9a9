"""dojo's pytest plugin: targets, start methods, the ``kata`` fixture, guards, results.

    test ──calls──> kata fixture ──imports──> <target>.<kata>   (katas/ or solutions/)
      │                  └─ plain data back; exceptions as KataRaised(type, message)
      ├─ mp_context: one param per start method in force ([fork] [spawn] [forkserver])
      ├─ guard around the test body: afterwards kill leftover processes, unlink leftover
      │  /dev/shm objects, and fail the test naming them ("leaked")
      ├─ timeout (pytest-timeout's timer, our SIGALRM handler): name the kata line that
      │  blocked, kill the test's process tree, fail only that test ("timeout")
      └─ results: JSON Lines for the controller and the grader (dojo/results.py)

Loaded by the kit's conftest.py, never through an entry point.
"""

from __future__ import annotations

import faulthandler
import gc
import json
import multiprocessing
import os
import signal
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

import pytest

from dojo import hosting, i18n, kitguard, manifest, procs, results, system, tracker
from dojo.grading import guard
from dojo.testing import KataRaised, check_plain

TARGETS = ("katas", "solutions")
TARGET_HELP = "which tree the tests import: katas (yours, default) or solutions. Env: DOJO_TARGET."
START_METHOD_HELP = (
    "run only on this multiprocessing start method (repeatable). "
    "Default: every method this platform offers. Env: DOJO_START_METHODS=fork,spawn."
)
RESULTS_HELP = "append structured results (JSON Lines, dojo/results.py) to this file. Env: DOJO_RESULTS."
LANG_HELP = "language of teaching messages: en or ko. Env: DOJO_LANG, else the locale."

STATE = pytest.StashKey["DojoState"]()
OUTCOME = pytest.StashKey[dict]()
STACKS = pytest.StashKey[object]()  # the file the run's own stack dump goes to (no SIGUSR1)


def runner_stacks() -> str:
    from dojo.runner import STACKS_FILE

    return STACKS_FILE
LEAKS = pytest.StashKey[list]()
HANG = pytest.StashKey[dict]()
TAUGHT = pytest.StashKey[list]()  # (key, text) of every teach() call the test made
PY = f"{sys.version_info[0]}.{sys.version_info[1]}"


class Hang(pytest.fail.Exception):
    """A test ran past its timeout."""


class KitDamaged(pytest.fail.Exception):
    """The test's code changed the kit's own files (tests, manifest, ...); dojo put them back."""


class Leaked(pytest.fail.Exception):
    """A test left processes, threads or /dev/shm objects behind."""


class AfterHang(pytest.fail.Exception):
    """Not run (grading, dojo verify): another test of the kata hung on this start method."""


class KataImportError(Exception):
    """The learner's module cannot be imported (syntax error, exception at import, ...)."""


class DojoState:
    def __init__(self, config):
        self.root = Path(str(config.rootpath))
        self.target = config.getoption("dojo_target") or os.environ.get("DOJO_TARGET") or "katas"
        if self.target not in TARGETS:
            raise pytest.UsageError(f"--target must be one of {', '.join(TARGETS)}, not {self.target!r}")
        available = system.start_methods()
        wanted = config.getoption("dojo_start_methods") or [
            m.strip() for m in os.environ.get("DOJO_START_METHODS", "").split(",") if m.strip()
        ]
        unknown = [m for m in wanted if m not in available]
        if unknown:
            raise pytest.UsageError(
                f"start method {', '.join(unknown)} is not available here (available: {', '.join(available)})"
            )
        self.start_methods = [m for m in available if m in wanted] if wanted else list(available)
        self.lang = config.getoption("dojo_lang") or i18n.current_lang()
        self.scale = _float_env("DOJO_TIMEOUT_SCALE", 1.0)
        self.manifest = None
        self.manifest_error = None
        try:
            self.manifest = manifest.load(self.root / "katas.toml")
        except manifest.ManifestError as exc:
            self.manifest_error = exc
        # Grading mode: every kata call runs in a host process (dojo/hosting.py), with
        # these limits applied there; canaries are tests that must fail.
        self.isolate = bool(config.getoption("dojo_isolate") or os.environ.get("DOJO_ISOLATE"))
        self.outcomes: list = []  # (kata, start method, item, outcome, message), for the closing table
        self.kit_guard = None  # kitguard.Guard: made before the first learner code runs (practice only)
        limits = config.getoption("dojo_limits") or os.environ.get("DOJO_LIMITS")
        self.limits = json.loads(limits) if limits else None
        self.slot = int(os.environ.get("DOJO_SLOT", "0"))
        self.canaries = list(config.getoption("dojo_canary") or [])
        # (kata, start method) -> the test that hung there. That cell's verdict is settled
        # whatever else happens, so its other tests are not run: a kata that never returns
        # costs one timeout per start method, not one per test (60 s for processes1's six
        # tests on one method, before). DOJO_STOP_CELL_AFTER_HANG=0 runs every test anyway;
        # grading always stops.
        self.hung: dict[tuple, str] = {}
        self.import_hung: dict[str, str] = {}  # kata -> the test whose host never finished importing it
        self.stop_cell_after_hang = self.isolate or os.environ.get("DOJO_STOP_CELL_AFTER_HANG", "1") != "0"
        path = config.getoption("dojo_results") or os.environ.get("DOJO_RESULTS")
        fd = config.getoption("dojo_results_fd")
        self.writer = results.Writer(fd=fd) if fd is not None else results.Writer(path) if path else None
        self.ledger = None
        # in the run's own folder where the controller made one (it removes it, also after
        # a kill), else in the temporary folder (removed at the end of the session)
        fd, ledger_path = tempfile.mkstemp(prefix="dojo-ledger-", dir=os.environ.get("DOJO_TMPDIR") or None)
        os.close(fd)
        self.ledger_path = ledger_path
        # the kit's own ledger too, for `dojo clean` after a run that could not clean up;
        # every tracker below this process writes there (the variable is inherited)
        kit = tracker.kit_ledger(self.root) if not self.isolate else None
        if kit and kit not in os.environ.get(tracker.TREE_LEDGER, "").split(os.pathsep):
            os.environ[tracker.TREE_LEDGER] = tracker.tree_ledgers_with(kit)
        if tracker.install(ledger_path):
            self.ledger = tracker.Ledger(ledger_path)
        if self.isolate:
            _prepare_for_hosts()
            if self.limits is not None:  # hosts and Manager servers cover the judge's folder
                self.limits = dict(self.limits, hidden=[*self.limits.get("hidden", ()), judge_folder()])
            guard.install({"limits": self.limits, "slot": self.slot, "root": str(self.root),
                           "toolkit": os.path.join(str(self.root), hosting.TOOLKIT),
                           "private_fds": [self.writer.fd] if self.writer else []})

    def kata_entry(self, name):
        if self.manifest is None:
            return None
        try:
            return self.manifest.get(name)
        except KeyError:
            return None


def _prepare_for_hosts() -> None:
    """Grading: what a host that runs as another uid needs from the judge, made while the
    judge is still the only process. The resource tracker starts now (a host would start
    its own, as its uid, unable to write the ledger). multiprocessing's temporary folder,
    where a Manager the test starts puts its socket, becomes one the host's uid can reach:
    the folder is searchable, the sockets writable (connecting needs both; the Manager's
    authentication key still decides who may talk to it)."""
    from multiprocessing import process, resource_tracker

    # Not dumpable: a host (even root, once it has dropped its capabilities) cannot read
    # this process's memory or open its descriptors through /proc/<pid>/fd.
    procs.set_dumpable(False)
    resource_tracker.ensure_running()
    config = process.current_process()._config
    if config.get("tempdir") is None:
        folder = tempfile.mkdtemp(prefix="pymp-dojo-")
        config["tempdir"] = folder
        multiprocessing.util.Finalize(None, _remove_folder, args=(folder,), exitpriority=-100)
    # Semaphores and blocks the judge makes from now on are open to the host's uid too: a
    # spawn child re-opens a semaphore by name. (The judge writes no other files; /dev/shm
    # is the job's own.) The judge's multiprocessing folder stays its own (mode 700) and
    # out of every host's view (``judge_folder``): its fork server listens there, and
    # would run, as the judge, whatever a connecting process sent it. The Managers a test
    # starts listen at abstract addresses instead (dojo/grading/guard.py).
    os.chmod(config["tempdir"], 0o700)
    os.umask(0)


def judge_folder() -> str | None:
    from multiprocessing import process

    return process.current_process()._config.get("tempdir")


def _remove_folder(folder: str) -> None:
    import shutil

    shutil.rmtree(folder, ignore_errors=True)



def _float_env(name, default):
    try:
        return max(float(os.environ.get(name, default)), 0.1)
    except ValueError:
        return default


def pytest_addoption(parser):
    group = parser.getgroup("dojo", "concurrency dojo")
    group.addoption("--target", dest="dojo_target", choices=TARGETS, default=None, help=TARGET_HELP)
    group.addoption(
        "--start-method",
        dest="dojo_start_methods",
        action="append",
        choices=("fork", "spawn", "forkserver"),
        default=None,
        help=START_METHOD_HELP,
    )
    group.addoption("--dojo-results", dest="dojo_results", default=None, help=RESULTS_HELP)
    group.addoption("--lang", dest="dojo_lang", choices=i18n.LANGS, default=None, help=LANG_HELP)
    group.addoption(
        "--dojo-isolate",
        dest="dojo_isolate",
        action="store_true",
        help="grading mode: run every kata call in a separate host process (env DOJO_ISOLATE=1)",
    )
    group.addoption(
        "--dojo-results-fd", dest="dojo_results_fd", type=int, default=None,
        help="grading: write the results into this inherited descriptor (a pipe) instead of a file",
    )
    group.addoption("--dojo-limits", dest="dojo_limits", default=None, help="grading: limits for host processes (JSON)")
    group.addoption(
        "--dojo-canary", dest="dojo_canary", action="append", default=None, help="grading: a canary test (must fail)"
    )


def pytest_configure(config):
    config.addinivalue_line("markers", "kata(name): the kata a test belongs to (default: from the file name test_<name>.py)")
    config.addinivalue_line(
        "markers", "clause(*ids): the promises of the kata (katas.toml [kata.clauses]) that this test checks"
    )
    config.addinivalue_line("markers", "slow: dojo's own slower tests (deselect with -m 'not slow')")
    state = DojoState(config)
    config.stash[STATE] = state
    os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    sys.dont_write_bytecode = True  # two saves within a second must never load a stale .pyc
    procs.set_subreaper()
    if system.STACK_SIGNAL is not None and threading.current_thread() is threading.main_thread():
        # The controller sends SIGUSR1 before it kills a run that overran: stacks first.
        # (faulthandler.dump_traceback_later would start a watchdog thread, and every
        # later fork would then be a fork of a multi-threaded process.)
        faulthandler.register(system.STACK_SIGNAL, all_threads=True, chain=False)
    elif not system.FORK and _float_env("DOJO_WALL", 0.0) > 0 and os.environ.get("DOJO_TMPDIR"):
        # No signal to ask for stacks with (Windows), and no fork to spoil with a thread:
        # the run dumps them itself shortly before the controller's wall limit, into its
        # run folder (pytest captures stderr), where the controller reads them.
        wall = _float_env("DOJO_WALL", 0.0)
        stacks = open(os.path.join(os.environ["DOJO_TMPDIR"], runner_stacks()), "w")  # noqa: SIM115 - the session's
        config.stash[STACKS] = stacks
        faulthandler.dump_traceback_later(max(wall - 1.0, wall * 0.8), exit=False, file=stacks)
    if state.writer:
        state.writer.write(
            "session",
            python=PY,
            target=state.target,
            start_methods=state.start_methods,
            pid=os.getpid(),
            lang=state.lang,
        )


def pytest_unconfigure(config):
    guard.uninstall()
    state = config.stash.get(STATE, None)
    if state and state.writer:
        state.writer.close()
    if state:
        try:
            os.unlink(state.ledger_path)  # the tracker keeps its open handle until it exits
        except OSError:
            pass


def pytest_collection_finish(session):
    """Every test this session will run, before any runs: a test with no result at the
    end is a failure (grading never reads "no news" as a pass)."""
    state = session.config.stash[STATE]
    if state.writer:
        state.writer.write("collected", tests=[_ids(item) for item in session.items])
    # The sweep after each test collects garbage (so that a pool or an executor the kata
    # dropped is finalized before the leak check, the same on every machine). pytest's
    # own objects are most of the heap and are never garbage: freezing them makes each
    # collection look only at what the tests made (17 ms to 1 ms a collection here).
    if hasattr(gc, "freeze"):
        gc.freeze()


def pytest_sessionfinish(session, exitstatus):
    state = session.config.stash.get(STATE, None)
    if state and state.writer:
        state.writer.write("finished", exitstatus=int(exitstatus))
    if state and state.outcomes and not state.isolate and os.environ.get(TOX_SUMMARY):
        _write_tox_summary(state, Path(os.environ[TOX_SUMMARY]))


TOX_SUMMARY = "DOJO_TOX_SUMMARY"  # set by tox.ini: where each Python's run leaves its row


def _write_tox_summary(state, folder: Path) -> None:
    """This Python's column of the table toxfile.py prints when tox ends: per kata, a mark
    and the start methods that failed, already in the learner's language."""
    import json
    import platform

    lang = state.lang
    order = state.manifest.names() if state.manifest else []
    katas = sorted({o[0] for o in state.outcomes}, key=lambda k: (order.index(k) if k in order else len(order), k))
    cells = {}
    for kata in katas:
        mine = [o for o in state.outcomes if o[0] == kata]
        failing = [m for m in state.start_methods if any(o[1] == m and o[3] in results.FAILING for o in mine)]
        if any(o[3] in results.FAILING for o in mine):
            cells[kata] = ["✗ " + (", ".join(failing) or "—"), True]
        elif all(o[3] == "skipped" for o in mine):
            cells[kata] = ["– " + i18n.t("summary_cell_skipped", lang), False]
        else:
            cells[kata] = ["✓", False]
    first = next((o for kata in katas for o in state.outcomes if o[0] == kata and o[3] in results.FAILING), None)
    row = {
        "env": os.environ.get("TOX_ENV_NAME", ""),
        "python": platform.python_version(),
        "katas": katas,
        "cells": cells,
        "first": "" if first is None else i18n.t(
            "summary_first", lang, kata=first[0], method=first[1] or "—",
            test=getattr(first[2], "originalname", first[2].name)),
        "title": i18n.t("tox_summary_title", lang),
        "kata": i18n.t("col_kata", lang),
        "all_passed": i18n.t("tox_summary_all_passed", lang),
    }
    try:
        folder.mkdir(parents=True, exist_ok=True)
        name = row["env"] or f"py{sys.version_info[0]}{sys.version_info[1]}"
        (folder / f"{name}.json").write_text(json.dumps(row, ensure_ascii=False), encoding="utf-8")
    except OSError:
        pass  # the summary is a convenience; the run's own report stands


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """A compact table at the end of a run of the kit's tests: kata x start method, then
    the first failure in kata order. It replaces nothing pytest prints; quiet with -q (and
    in grading and in dojo's own runs, which read the results file instead)."""
    state = config.stash.get(STATE, None)
    if not state or not state.outcomes or state.isolate or config.option.verbose < 0:
        return
    order = state.manifest.names() if state.manifest else []
    katas = sorted({o[0] for o in state.outcomes}, key=lambda k: (order.index(k) if k in order else len(order), k))
    methods = [m for m in state.start_methods if any(o[1] == m for o in state.outcomes)] or ["—"]
    lang = state.lang
    width = max(len(k) for k in katas) + 2
    cells = {}
    for kata in katas:
        for method in methods:
            mine = [o for o in state.outcomes if o[0] == kata and (o[1] == method or o[1] is None or method == "—")]
            failed = [o for o in mine if o[3] in results.FAILING]
            if not mine:
                cells[kata, method] = ""
            elif failed:
                cells[kata, method] = i18n.t("summary_cell_failed", lang, failed=len(failed), total=len(mine))
            elif all(o[3] == "skipped" for o in mine):
                cells[kata, method] = i18n.t("summary_cell_skipped", lang)
            else:
                cells[kata, method] = i18n.t("summary_cell_ok", lang)
    col = max([len(m) for m in methods] + [len(c) for c in cells.values()]) + 2
    title = (i18n.t("summary_title_one", lang, method=methods[0]) if len(methods) == 1
             else i18n.t("summary_title", lang))
    tw = terminalreporter
    tw.write_sep("=", title)
    tw.write_line(i18n.t("col_kata", lang).ljust(width) + "".join(m.ljust(col) for m in methods))
    for kata in katas:
        line = kata.ljust(width)
        tw.write(line)
        for method in methods:
            text = cells[kata, method]
            bad = text not in ("", i18n.t("summary_cell_ok", lang), i18n.t("summary_cell_skipped", lang))
            tw.write(text.ljust(col), red=bad, green=not bad and text == i18n.t("summary_cell_ok", lang))
        tw.write_line("")
    first = next((o for kata in katas for o in state.outcomes if o[0] == kata and o[3] in results.FAILING), None)
    if first is None:
        tw.write_line(i18n.t("summary_all_passed", lang), green=True)
        return
    kata, method, item, _outcome, message = first
    tw.write_line(i18n.t("summary_first", lang, kata=kata, method=method or "—",
                         test=getattr(item, "originalname", item.name)), bold=True)
    for line in (message or "").strip().splitlines()[:6]:
        tw.write_line("  " + line)


def pytest_report_header(config):
    state = config.stash[STATE]
    lines = [
        f"dojo: target {state.target}, start methods {', '.join(state.start_methods)}, "
        f"Python {sys.version.split()[0]}, language {state.lang}"
    ]
    if state.manifest_error:
        lines.append(f"dojo: katas.toml is invalid: {state.manifest_error}")
    return lines


def pytest_generate_tests(metafunc):
    if "mp_context" in metafunc.fixturenames:
        methods = metafunc.config.stash[STATE].start_methods
        metafunc.parametrize("mp_context", methods, indirect=True, ids=methods)


@pytest.fixture
def mp_context(request):
    """A multiprocessing context for one start method; tests never set a global one."""
    return multiprocessing.get_context(request.param)


def kata_name(item_or_request) -> str:
    """The kata a test belongs to: ``@pytest.mark.kata("name")``, else its file name."""
    node = getattr(item_or_request, "node", item_or_request)
    marker = node.get_closest_marker("kata")
    if marker and marker.args:
        return marker.args[0]
    module = Path(str(node.path)).stem
    return module[len("test_"):] if module.startswith("test_") else module


def start_method_of(item) -> str | None:
    callspec = getattr(item, "callspec", None)
    return callspec.params.get("mp_context") if callspec else None


class KataModule:
    """What a test sees of the learner's module.

    ``kata.squares(ctx, [1, 2, 3])`` calls the function and checks that what comes back is
    plain data; an exception comes back as ``KataRaised(type_name, message)``. That is the
    whole contract, so grading can run the same call in a separate host process and never
    import learner code into the judge.
    """

    def __init__(self, kata: str, module, path: str):
        self._kata = kata
        self._module = module
        self._path = path

    def __getattr__(self, attr):
        if attr.startswith("_"):
            raise AttributeError(attr)
        try:
            fn = getattr(self._module, attr)
        except AttributeError:
            raise AttributeError(
                i18n.t("kata_missing_function", kata=self._kata, path=self._path, name=attr)
            ) from None
        if not callable(fn):
            check_plain(fn, f"{self._kata}.{attr}")
            return fn

        def call(*args, **kwargs):
            __tracebackhide__ = True
            try:
                result = fn(*args, **kwargs)
            except (pytest.fail.Exception, KeyboardInterrupt):
                raise
            except BaseException as exc:  # SystemExit too: a kata must not end the run
                raise KataRaised(type(exc).__name__, str(exc)) from exc
            check_plain(result, f"{self._kata}.{attr}(...)")
            return result

        call.__name__ = attr
        return call


class HostedKata:
    """The same contract as ``KataModule``, but every call runs in a host process
    (grading mode): the judge never imports the learner's module."""

    def __init__(self, kata: str, hosts: hosting.Hosts):
        self._kata = kata
        self._hosts = hosts

    def __getattr__(self, attr):
        if attr.startswith("_"):
            raise AttributeError(attr)

        def call(*args, **kwargs):
            __tracebackhide__ = True
            try:
                return self._hosts.call(attr, args, kwargs)
            except hosting.ImportHang:
                raise  # a hang: the test's verdict is "timeout", and it settles the kata
            except hosting.HostError as exc:
                raise KataImportError(str(exc)) from None

        call.__name__ = attr
        return call


@pytest.fixture
def kata(request):
    """The learner's kata module (or the solution, with --target=solutions)."""
    state = request.config.stash[STATE]
    name = kata_name(request)
    if state.manifest_error:
        raise KataImportError(i18n.t("manifest_invalid", error=str(state.manifest_error)))
    if state.kata_entry(name) is None:
        raise KataImportError(i18n.t("kata_not_in_manifest", kata=name))
    path = f"{state.target}/{name}.py"
    if state.isolate:
        method = start_method_of(request.node)
        ctx = multiprocessing.get_context(method)
        private = [state.writer.fd] if state.writer else []
        hosts = hosting.Hosts(ctx, state.root, state.target, name, state.limits, state.slot, private)
        hosting.set_current(hosts)
        try:
            yield HostedKata(name, hosts)
        finally:
            hosting.set_current(None)
            hosts.close()  # what the guard did not close already (it does, after the call)
        return
    try:
        module = hosting.import_kata(state.root, state.target, name)
    except hosting.HostError as exc:
        raise KataImportError(str(exc)) from None
    yield KataModule(name, module, path)


class Teacher:
    """``teach(key, **fields)``: the kata's teaching message in the learner's language."""

    def __init__(self, entry, lang, method, kata, node=None):
        self.entry = entry
        self.lang = lang
        self.method = method
        self.kata = kata
        self.node = node

    def __call__(self, key: str, **fields) -> str:
        fields.setdefault("method", self.method or "-")
        fields.setdefault("kata", self.kata)
        text = (self.entry.messages.get(key) if self.entry else None) or i18n.catalogue().get(key)
        if text is None:
            return f"[{self.kata}: no message {key!r}] {fields!r}"
        message = i18n.fill(i18n.pick(text, self.lang), fields)
        if self.node is not None:
            # Remembered so that the result can say which teaching message a failure
            # carried (`dojo verify --fixes` checks that wrong fixes are taught, not thrown).
            self.node.stash.setdefault(TAUGHT, []).append((key, message))
        return message


@pytest.fixture
def teach(request):
    state = request.config.stash[STATE]
    name = kata_name(request)
    return Teacher(state.kata_entry(name), state.lang, start_method_of(request.node), name, request.node)


class Host:
    """What a test may observe of the process that ran the kata, from the outside.

    In practice mode that process is the test's own; a grading host answers the same
    questions about itself. Plain data only.
    """

    def pid(self) -> int:
        """The PID of the process that ran the kata's last call."""
        hosts = hosting.current()
        return hosts.last_pid() if hosts and hosts.live else os.getpid()

    def descendants(self) -> list:
        """Every process below the host(s) (psutil objects), except multiprocessing's own
        servers (the fork server, the resource tracker)."""
        hosts = hosting.current()
        return hosts.descendants() if hosts else procs.descendants()

    def children(self) -> list:
        """Direct children of the host, as ``{"pid", "status", "name"}`` dicts."""
        out = []
        hosts = hosting.current()
        parents = set(hosts.pids()) if hosts else {os.getpid()}
        infra = procs.infrastructure_pids()
        for p in self.descendants():
            try:
                if p.ppid() not in parents or p.pid in infra:
                    continue
                out.append({"pid": p.pid, "status": p.status(), "name": p.name()})
            except procs.psutil.Error:
                continue
        return out

    def zombies(self) -> list:
        """PIDs of children that have exited but were never waited for (joined)."""
        return [c["pid"] for c in self.children() if c["status"] == procs.psutil.STATUS_ZOMBIE]

    def shm(self) -> set:
        """multiprocessing's objects in /dev/shm now."""
        return procs.shm_names()


@pytest.fixture
def host():
    return Host()


# --- canaries -----------------------------------------------------------------------------


class Canary(pytest.Item):
    """A test that must fail. The grader names canaries afresh for every session and voids
    a session in which one passes (or has no result): a judge that reports everything as
    passed, whatever did it, is caught by tests it could not know in advance."""

    def runtest(self):
        raise AssertionError(i18n.t("canary_failed", name=self.name))

    def reportinfo(self):
        return self.path, None, f"canary {self.name}"


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session, config, items):
    state = config.stash[STATE]
    unknown = set()
    for item in items:
        entry = state.kata_entry(kata_name(item))
        declared = entry.clauses if entry else {}
        unknown |= {(item.nodeid.split("[")[0], cid) for cid in _clauses_of(item) if cid not in declared}
    if unknown:
        raise pytest.UsageError(
            "clause marks that katas.toml does not declare under [kata.clauses]: "
            + "; ".join(f"{where}: {cid!r}" for where, cid in sorted(unknown))
        )
    for name in state.canaries:
        canary = Canary.from_parent(session, name=name)
        canary.add_marker(pytest.mark.kata("canary"))
        items.append(canary)


# --- the guard ---------------------------------------------------------------------------


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    state = item.config.stash[STATE]
    if state.kit_guard is None and not state.isolate and "kata" in item.fixturenames:
        try:  # before the kata fixture imports any learner code
            state.kit_guard = kitguard.Guard(state.root)
        except OSError:
            state.kit_guard = False  # a read-only kit cannot be damaged by its learner either
    first = state.hung.get((kata_name(item), start_method_of(item))) if state.stop_cell_after_hang else None
    # A module that never finished importing never will, on any start method.
    stuck = state.import_hung.get(kata_name(item))
    if stuck and not first:
        raise AfterHang(i18n.t("after_import_hang", state.lang, kata=kata_name(item), test=stuck), pytrace=False)
    if first:
        raise AfterHang(
            i18n.t("after_hang", state.lang, kata=kata_name(item), method=start_method_of(item), test=first),
            pytrace=False,
        )



@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_call(item):
    ledger = item.config.stash[STATE].ledger
    before_threads = set(threading.enumerate())
    before_shm = ledger.offset() if ledger else 0
    try:
        result = yield
    except BaseException:
        leaks = _close_hosts() + _sweep(before_threads, ledger, before_shm)
        if leaks:
            item.stash[LEAKS] = leaks
        raise
    leaks = _close_hosts() + _sweep(before_threads, ledger, before_shm)
    if leaks:
        item.stash[LEAKS] = leaks
        lang = item.config.stash[STATE].lang
        raise Leaked(i18n.t("leaked", lang, kata=kata_name(item), leaks="\n  ".join(leaks)), pytrace=False)
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """The kit's own files as they were before the test: what the test's code changed,
    deleted or added there is put right, kept aside, and fails the test saying so."""
    result = yield
    guard = item.config.stash[STATE].kit_guard
    if guard and "kata" in item.fixturenames:
        damage = guard.check()
        if damage:
            lang = item.config.stash[STATE].lang
            raise KitDamaged(i18n.t("kit_damaged", lang, kata=kata_name(item), what=damage.describe(),
                                    kept=damage.kept or "-"), pytrace=False)
    return result


def _close_hosts() -> list[str]:
    """Grading mode: let the test's hosts go; what they left behind is the kata's leak."""
    hosts = hosting.current()
    return hosts.close() if hosts and hosts.live else []


def _sweep(before_threads, ledger, before_shm) -> list[str]:
    """Kill what the test left running, unlink what it left in /dev/shm; say what it was."""
    leaks = []
    # Threads first: an executor the kata left to the garbage collector was collected as
    # the call returned, and its manager thread is now shutting its workers down and
    # joining them. Waiting for it makes the verdict the same on an idle and on a busy
    # machine (it used to depend on whether the workers were gone within the processes'
    # grace below). What is still running after its wait is a leak, as before.
    gc.collect()
    new_threads = set(threading.enumerate()) - before_threads
    for thread in new_threads:
        thread.join(timeout=MANAGER_JOIN if type(thread).__name__ == "_ExecutorManagerThread" else 1.0)
    found = procs.descendants()
    if found:
        # Processes this process started and never joined: a finished one is a zombie
        # until someone waits for it. (Orphans we adopted as a subreaper are reaped
        # quietly; the ones still running are reported below.)
        unjoined = procs.unjoined_children()
        for p in found:
            if procs.is_zombie(p) and p.pid in unjoined:
                leaks.append(i18n.t("zombie_process", what=f"pid {p.pid} ({unjoined[p.pid]})"))
        # A child may be a moment from exiting on its own (a pool worker after shutdown):
        # give the tree a short grace before calling it a leak.
        procs.wait_until(lambda: not [p for p in procs.descendants() if not procs.is_zombie(p)], 0.5)
        running = [p for p in procs.descendants() if not procs.is_zombie(p)]
        leaks += _grouped(running)
        procs.kill_tree(running)
    procs.reap_children()
    gc.collect()
    for thread in set(threading.enumerate()) - before_threads:
        thread.join(timeout=0.1 if thread in new_threads else 1.0)
        if thread.is_alive():
            leaks.append(i18n.t("running_thread", name=thread.name))
    # Shared-memory segments outlive every process unless unlinked: a leak. (Named
    # semaphores are unlinked when their object is collected, or by the resource
    # tracker at the end of the session; dojo verify checks that nothing is left then.)
    # Only what this run's own tracker saw created: without its ledger nothing tells
    # whose an object is (other programs make them too), so nothing is checked.
    new_shm = set()
    if ledger is not None:
        ledger.sync()
        # Any name: a block the learner named "results" leaks just as much as "psm_1a2b".
        new_shm = procs.shm_existing(ledger.registered_since(before_shm))
    new_shm = {n for n in new_shm if not n.startswith("sem.")}
    for name in sorted(new_shm - procs.shm_in_use(new_shm)):
        if procs.remove_shm(name):
            leaks.append(i18n.t("shm_left", name=name))
    return leaks


MANAGER_JOIN = 3.0  # seconds an executor's manager thread gets to shut down a collected executor (within the test timeout)


def _grouped(running) -> list[str]:
    """One line per kind of process left running (same command line), with its
    pids: thirty unjoined children are one line, not thirty. A fork child runs the test
    process's own command line: it is called what it is."""
    try:
        own = procs.psutil.Process().cmdline()[:4]
    except procs.psutil.Error:
        own = None
    kinds: dict[str, list[int]] = {}
    for p in running:
        text = procs.describe(p)
        what = text.split(": ", 1)[1] if ": " in text else text
        if "spawn_main" in what:
            what = i18n.t("spawned_child")
        elif "multiprocessing.forkserver" in what:
            what = i18n.t("forkserver_child")
        else:
            try:
                if own and p.cmdline()[:4] == own:
                    what = i18n.t("forked_child")
            except procs.psutil.Error:
                pass
        kinds.setdefault(what, []).append(p.pid)  # not by state: a child may be mid-sleep or mid-start
    lines = []
    for what, pids in kinds.items():
        if len(pids) == 1:
            lines.append(i18n.t("running_process", what=f"pid {pids[0]}: {what}"))
        else:
            shown = ", ".join(map(str, pids[:8])) + (i18n.t("and_more", n=len(pids) - 8) if len(pids) > 8 else "")
            lines.append(i18n.t("running_processes", n=len(pids), what=what, pids=shown))
    return lines


# --- timeouts ----------------------------------------------------------------------------


@pytest.hookimpl(tryfirst=True)
def pytest_timeout_set_timer(item, settings):
    """Replace pytest-timeout's SIGALRM handler with one that cleans up on the spot.

    An autouse fixture cannot run while the test is stuck (in an executor's ``__exit__``,
    say), so the handler itself names the kata line that blocked, kills the test's process
    tree (which is what unblocks a stuck ``join`` or ``shutdown``), then fails the test.
    If cleanup blocks again, the alarm fires again; after three tries the run is ended
    with the result recorded.
    """
    state = item.config.stash[STATE]
    entry = state.kata_entry(kata_name(item))
    timeout = ((entry.timeout if entry and entry.timeout else None) or settings.timeout) * state.scale
    if not system.ALARM:
        # Windows: pytest-timeout's thread method, whatever the ini file says (its signal
        # method would call signal.signal(SIGALRM) there). It dumps the stacks and ends
        # the process, so the test's process tree is killed first: the test that hung is
        # the last one reported, and nothing of it keeps running.
        import pytest_timeout

        settings = settings._replace(method="thread", timeout=timeout)

        def expire():
            # The test's result first, naming the kata line the main thread is blocked on:
            # the runner starts a new run after this test (results.needs_resume).
            frame = sys._current_frames().get(threading.main_thread().ident)
            stack = traceback.extract_stack(frame) if frame is not None else []
            where = (_innermost(stack, state) or _format_frame(stack[-1])) if stack else ""
            item.stash[HANG] = {"where": where, "stack": _all_stacks(), "killed": procs.kill_descendants(),
                                "how": _how_it_hung(stack, state, item.config)}
            _write_result(item, "timeout", where, _hang_message(item, state, timeout))
            pytest_timeout.timeout_timer(item, settings)

        timer = threading.Timer(timeout, expire)
        timer.daemon = True
        timer.name = f"dojo timeout {item.nodeid}"

        def cancel():
            timer.cancel()
            timer.join()

        item.cancel_timeout = cancel
        timer.start()
        return True
    if threading.current_thread() is not threading.main_thread():
        return None  # pytest-timeout's own thread method takes over
    tries = []

    def handler(signum, frame):
        __tracebackhide__ = True
        tries.append(time.monotonic())
        if len(tries) == 1:
            stack = traceback.extract_stack(frame)
            where = _innermost(stack, state) or _format_frame(stack[-1]) if stack else ""
            hosts = hosting.current()
            if hosts and hosts.live:  # grading: the kata line is in a host, ask it
                where = hosts.where() or where
            item.stash[HANG] = {
                "where": where,
                "stack": _all_stacks(),
                "killed": procs.kill_descendants(),
                "how": _how_it_hung(stack, state, item.config) if not (hosts and hosts.live) else ("waiting", 0, 0),
            }
        else:
            procs.kill_descendants(grace=0.1)
        if len(tries) > 3:
            _write_result(item, "timeout", item.stash[HANG]["where"], "")
            os._exit(3)
        signal.setitimer(signal.ITIMER_REAL, 2.0)
        raise Hang(_hang_message(item, state, timeout), pytrace=False)

    def cancel():
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, signal.SIG_DFL)

    item.cancel_timeout = cancel
    signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    return True


# A test that printed this much before its timeout is named a print flood, whatever frame
# the timeout found it in (on a busy machine 2 s of printing is still tens of thousands).
FLOOD_BYTES = 1 << 20
FLOOD_LINES = 10_000
SECTION_CAP = 64 * 1024  # characters of a test's captured output shown: its start and its end


def _how_it_hung(stack, state, config) -> tuple[str, int, int]:
    """("flood" | "running" | "waiting", bytes and lines of output captured so far), from
    what was seen: the innermost frame in the learner's own code means it was running that
    code (a loop), anywhere else it was waiting in a call; much output means printing."""
    printed, lines = _captured(config)
    if printed > FLOOD_BYTES or lines > FLOOD_LINES:
        return "flood", printed, lines
    if stack and hosting.confined(stack[-1].filename, state.root):
        return "running", printed, lines
    return "waiting", printed, lines


def _captured(config) -> tuple[int, int]:
    """Bytes and lines pytest has captured of the running test's stdout and stderr (0 with
    -s); lines are counted where the capture file can be read without moving it (POSIX)."""
    capman = config.pluginmanager.getplugin("capturemanager")
    capturing = getattr(capman, "_global_capturing", None)
    size = lines = 0
    for name in ("out", "err"):
        tmpfile = getattr(getattr(capturing, name, None), "tmpfile", None)
        try:
            fd = tmpfile.fileno()
            end = os.fstat(fd).st_size
        except (AttributeError, OSError, ValueError):
            try:
                text = tmpfile.getvalue()
                size, lines = size + len(text), lines + text.count("\n")
            except (AttributeError, ValueError):
                pass
            continue
        size += end
        for offset in range(0, min(end, 256 << 20), 1 << 20) if hasattr(os, "pread") else ():
            lines += os.pread(fd, 1 << 20, offset).count(b"\n")
    return size, lines


def _hang_message(item, state, timeout) -> str:
    hung = item.stash[HANG]
    how, printed, lines = hung.get("how", ("waiting", 0, 0))
    key = {"flood": "hang_flood", "running": "hang_running"}.get(how, "hang")
    return i18n.t(key, state.lang, kata=kata_name(item), seconds=f"{timeout:g}", where=hung["where"],
                  size=f"{printed / (1 << 20):.1f} MiB", lines=f"{lines:,}")


def _cap_sections(report) -> None:
    """A test's captured output as pytest shows it, its start and its end only: a print
    flood of millions of lines must not bury the verdict."""
    for i, (title, content) in enumerate(report.sections):
        if len(content) > SECTION_CAP:
            cut = content[SECTION_CAP // 2 : -SECTION_CAP // 2].count("\n")
            report.sections[i] = (title, content[: SECTION_CAP // 2] + f"\n[... dojo cut {cut} lines here ...]\n"
                                  + content[-SECTION_CAP // 2 :])


def _innermost(stack, state) -> str:
    """The innermost frame in the kit's kata or solution code, as ``path:line (func): code``."""
    for frame in reversed(list(stack)):
        if hosting.confined(frame.filename, state.root):
            return _format_frame(frame, state.root)
    return ""


def _format_frame(frame, root=None) -> str:
    path = frame.filename
    if root is not None:
        try:
            path = str(Path(path).relative_to(root))
        except ValueError:
            pass
    return f"{path}:{frame.lineno} ({frame.name}): {(frame.line or '').strip()}"


def _all_stacks() -> str:
    names = {t.ident: t.name for t in threading.enumerate()}
    parts = []
    for ident, frame in sys._current_frames().items():
        parts.append(f"Thread {names.get(ident, ident)}:\n" + "".join(traceback.format_stack(frame)))
    return "\n".join(parts)


# --- structured results --------------------------------------------------------------------


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    """``started`` before the test, ``result`` after its teardown: a run that dies in
    between leaves a ``started`` alone, which the reader turns into ``crashed``."""
    state = item.config.stash[STATE]
    item.stash[OUTCOME] = {"outcome": "passed", "message": "", "where": "", "start": time.perf_counter()}
    if state.writer:
        state.writer.write("started", **_ids(item))
    try:
        return (yield)
    finally:
        _write_result(item)
        record = item.stash.get(OUTCOME, None)
        if record is not None:
            state.outcomes.append((kata_name(item), start_method_of(item), item, record["outcome"], record["message"]))


def _case(item) -> str:
    """The test's name with its parameters but without its start method:
    ``test_lost_update[3-20]`` for ``test_lost_update[fork-3-20]``."""
    callspec = getattr(item, "callspec", None)
    base = getattr(item, "originalname", item.name)
    if not callspec:
        return item.name
    method = callspec.params.get("mp_context")
    parts = callspec.id.split("-")
    if method in parts:
        parts.remove(method)
    return f"{base}[{'-'.join(parts)}]" if parts else base


def _ids(item) -> dict:
    return {
        "nodeid": item.nodeid,
        "kata": kata_name(item),
        "test": getattr(item, "originalname", item.name),
        "case": _case(item),
        "start_method": start_method_of(item),
        "python": PY,
        "target": item.config.stash[STATE].target,
        "clauses": _clauses_of(item),
    }


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    _cap_sections(report)
    record = item.stash.get(OUTCOME, None)
    if record is None:
        return report
    if report.failed and isinstance(call.excinfo and call.excinfo.value, KitDamaged):
        # whatever the test's verdict was, this comes first: the kit itself was changed
        earlier = record["message"] if record["outcome"] in results.FAILING else ""
        record["outcome"], record["taught"] = "failed", "kit_damaged"
        record["message"] = call.excinfo.value.msg + (f"\n\n{earlier}" if earlier else "")
    elif report.skipped and record["outcome"] == "passed":
        record["outcome"] = "skipped"
    elif report.failed and record["outcome"] in ("passed", "skipped"):
        exc = call.excinfo.value if call.excinfo else None
        if isinstance(exc, (Hang, hosting.ImportHang)):
            record["outcome"] = "timeout"
            record["taught"] = "hang"
        elif isinstance(exc, AfterHang):
            record["outcome"] = "failed"
            record["taught"] = "after_hang"
        elif isinstance(exc, Leaked):
            record["outcome"] = "leaked"
            record["taught"] = "leaked"
        elif call.when != "call":
            record["outcome"] = "error"
        else:
            record["outcome"] = "failed"
        record["message"] = _message(exc, report)
        if isinstance(exc, (AssertionError, pytest.fail.Exception)) and not record.get("taught"):
            said = exc.msg if isinstance(exc, pytest.fail.Exception) else str(exc)
            record["taught"] = next(
                (key for key, text in reversed(item.stash.get(TAUGHT, [])) if text and text in (said or "")), ""
            )
        if call.excinfo is not None:
            record["where"] = _innermost(traceback.extract_tb(call.excinfo.tb), item.config.stash[STATE])
    if call.when == "call" and isinstance(call.excinfo and call.excinfo.value, Hang):
        record["where"] = item.stash[HANG]["where"]
    state = item.config.stash[STATE]
    if isinstance(call.excinfo and call.excinfo.value, hosting.ImportHang):
        record["where"] = call.excinfo.value.where or record.get("where", "")
        state.import_hung.setdefault(kata_name(item), _case(item))
    if state.stop_cell_after_hang and record["outcome"] == "timeout":
        state.hung.setdefault((kata_name(item), start_method_of(item)), _case(item))
    return report


def _clauses_of(item) -> list:
    return [cid for mark in item.iter_markers("clause") for cid in mark.args]


def _message(exc, report) -> str:
    if exc is None:
        return report.longreprtext[-2000:]
    if isinstance(exc, AssertionError):
        # pytest's rewrite appends "assert ..." after the message: keep the teaching part.
        text = str(exc).split("\nassert ", 1)[0]
        return text or report.longreprtext[-2000:]
    if isinstance(exc, KataRaised):
        return i18n.t("kata_raised", type=exc.type_name, message=exc.message)
    if isinstance(exc, pytest.fail.Exception):
        return exc.msg or ""
    return f"{type(exc).__name__}: {exc}"


def _write_result(item, outcome=None, where=None, message=None):
    state = item.config.stash[STATE]
    record = item.stash.get(OUTCOME, None)
    if not state.writer or record is None:
        return
    state.writer.write(
        "result",
        **_ids(item),
        outcome=outcome or record["outcome"],
        message=message if message is not None else record["message"],
        where=where if where is not None else record["where"],
        stack=item.stash[HANG]["stack"] if HANG in item.stash else "",
        leaks=item.stash.get(LEAKS, []),
        duration=round(time.perf_counter() - record["start"], 4),
        taught=record.get("taught", ""),
    )
