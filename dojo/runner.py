"""Run pytest on one kata in a fresh process, with a wall limit, and read its results.

    controller (verify, and later the learner's loop and the grader)
      └─ python -m pytest tests/test_<kata>.py --target T --dojo-results F
            own session (process group); past the wall limit: SIGUSR1 (stacks), then
            SIGKILL to the group and to every descendant that left it with setsid()

The controller never imports kata code; it reads the JSON Lines the plugin wrote.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

from dojo import procs, results, system

_active_lock = threading.Lock()
_active: set[int] = set()  # pids of runs in progress (direct children we wait for)


@dataclass
class RunResult:
    kata: str
    target: str
    returncode: int
    run: results.Run
    output: str
    seconds: float
    overran: bool


def pytest_command(
    root: Path, kata: str, target: str, results_path: str, start_methods=None, test_files=None, args=()
) -> list[str]:
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "-p",
        "pytest_timeout",  # plugin autoload is off (child_env): only what the kit needs
        *(test_files or [f"tests/test_{kata}.py"]),
        f"--target={target}",
        f"--dojo-results={results_path}",
    ]
    for method in start_methods or ():
        cmd.append(f"--start-method={method}")
    return cmd + list(args)


def merge_results(parts: list[RunResult]) -> RunResult:
    """Runs of one kata side by side (each on some of its start methods), read as one run:
    every cell, the first failing return code, every output one after the other."""
    if len(parts) == 1:
        return parts[0]
    first = parts[0]
    run = results.Run(
        first.run.session,
        [cell for part in parts for cell in part.run.cells],
        first.run.finished if all(part.run.finished for part in parts) else None,
        [nodeid for part in parts for nodeid in part.run.collected],
        [nodeid for part in parts for nodeid in part.run.duplicates],
    )
    code = next((part.returncode for part in parts if part.returncode != 0), 0)
    output = "\n".join(part.output.rstrip("\n") for part in parts if part.output) + "\n"
    return RunResult(first.kata, first.target, code, run, output, max(part.seconds for part in parts),
                     any(part.overran for part in parts))


STACKS_FILE = "stacks.txt"  # in the run folder: the stacks a run dumped itself before its wall
SOCKET_IN_TMPDIR = "/pymp-xxxxxxxx/listener-xxxxxxxx"  # multiprocessing's socket paths below TMPDIR


class RunFolder:
    """A temporary folder for one run's own files (the plugin's ledger, hosts' stack
    files), removed by the controller afterwards: a run that is killed cannot clean up
    after itself. ``DOJO_TMPDIR`` tells the run where it is.

    Its ``t`` subfolder is the run's ``TMPDIR``, so what multiprocessing puts in the
    temporary folder (``pymp-*``: the fork server's and Managers' sockets), which only a
    clean exit removes, goes with the run too. It is sticky and open to all like /tmp: a
    grading host that runs as its own uid makes its Managers' sockets there."""

    def __init__(self, root=None):
        self.root = root  # the kit, whose .dojo/run-folders notes the folder while it exists

    def __enter__(self) -> str:
        self.path = tempfile.mkdtemp(prefix="dojo-run-")
        os.chmod(self.path, 0o755)  # a grading host, as its own uid, reads its stack file there
        os.mkdir(self.tmp)
        os.chmod(self.tmp, 0o1777)
        if self.root is not None:
            _note_run_folder(self.root, self.path)
        return self.path

    @property
    def tmp(self) -> str:
        return os.path.join(self.path, "t")

    def env(self) -> dict:
        env = {"DOJO_TMPDIR": self.path}
        # A socket's path must fit in 108 bytes: where ours would not (a long TMPDIR),
        # the run keeps the TMPDIR it was given.
        if len(os.fsencode(self.tmp)) + len(SOCKET_IN_TMPDIR) < 104:
            env["TMPDIR"] = self.tmp
        return env

    def __exit__(self, *exc) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


RUN_FOLDERS = "run-folders"  # in the kit's .dojo: "<folder>\t<pid>\t<its start time>" per run
RUN_FOLDERS_MAX = 1 << 16  # bytes; past this, the notes of folders already gone are dropped


def _note_run_folder(root, path: str) -> None:
    """Note a run's folder in the kit, with the controller that made it: a controller that
    is killed (SIGKILL) cannot remove its folders, and ``remove_stale_run_folders`` then
    finds them by this note, never by looking through the temporary folder."""
    import psutil

    try:
        line = f"{path}\t{os.getpid()}\t{psutil.Process().create_time():.2f}\n"
        folder = os.path.join(str(root), ".dojo")
        os.makedirs(folder, exist_ok=True)
        notes = os.path.join(folder, RUN_FOLDERS)
        if os.path.exists(notes) and os.path.getsize(notes) > RUN_FOLDERS_MAX:
            remove_stale_run_folders(root)  # keeps the notes of folders still there
        fd = os.open(notes, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(fd, line.encode())
        finally:
            os.close(fd)
    except (OSError, psutil.Error):
        pass  # a kit that cannot be written (a grading workspace): nothing to note


def remove_stale_run_folders(root) -> list[str]:
    """Remove the run folders this kit's controllers made and could not remove (they were
    killed): noted in ``.dojo/run-folders`` by a controller that is no longer running.
    Folders of controllers still running stay, and stay noted. Returns those removed."""
    import psutil

    path = os.path.join(str(root), ".dojo", RUN_FOLDERS)
    try:
        with open(path, encoding="utf-8") as fh:
            lines = fh.read().splitlines()
    except OSError:
        return []
    removed, keep = [], []
    for line in lines:
        try:
            folder, pid, started = line.split("\t")
            pid, started = int(pid), float(started)
        except ValueError:
            continue
        if not os.path.isdir(folder):
            continue  # removed by its controller
        try:
            alive = abs(psutil.Process(pid).create_time() - started) < 0.05
        except psutil.Error:
            alive = False
        if alive:
            keep.append(line)
        elif os.path.basename(folder).startswith("dojo-run-"):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    # A note appended meanwhile by another controller may be lost: then a folder of a
    # run that is later killed is missed here, never another program's removed.
    tmp = f"{path}.{os.getpid()}"
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write("".join(f"{line}\n" for line in keep))
        os.replace(tmp, path)
    except OSError:
        pass
    return removed


def child_env(extra=None) -> dict:
    env = dict(os.environ)
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # two saves within a second must never load a stale .pyc
    # Other pytest plugins in the environment (randomly, anyio, ...) cost start-up time
    # and may reorder or alter the run; the kit loads what it needs explicitly.
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    env.pop("DOJO_RESULTS", None)
    env.update(extra or {})
    return env


def run_kata(
    root: Path,
    kata: str,
    target: str,
    *,
    start_methods=None,
    wall: float = 120.0,
    env=None,
    test_files=None,
    args=(),
    prefix=(),
    results_pipe: bool = False,
    cancel: threading.Event | None = None,
) -> RunResult:
    """Run one kata's tests against ``target`` and return what the plugin recorded.

    Grading adds ``test_files`` (visible and hidden), pytest ``args`` (isolation,
    canaries), a ``prefix`` (the sandbox launcher) and ``results_pipe``: the judge writes
    its records into a pipe this process reads, a channel with no name in the file
    system, so no process of the run can find it and write into it."""
    if results_pipe:
        return _run_with_pipe(root, kata, target, start_methods, wall, env, test_files, args, prefix)
    fd, path = tempfile.mkstemp(prefix=f"dojo-{kata}-", suffix=".jsonl")
    os.close(fd)
    started = time.monotonic()
    try:
        command = [*prefix, *pytest_command(root, kata, target, path, start_methods, test_files, args)]
        proc, overran, output = _supervise(command, root, env, wall, cancel=cancel)
        run = results.read(path)
        # A timeout that ended the run (no SIGALRM: pytest-timeout's thread method ends the
        # process) leaves tests without a result: run them, appending to the same file.
        for _ in range(len(run.collected)):
            left = wall - (time.monotonic() - started)
            if overran or left <= 1 or not results.needs_resume(run) or (cancel and cancel.is_set()):
                break
            done = [f"--deselect={c.nodeid}" for c in run.cells]
            proc, overran, more = _supervise([*command, *done], root, env, left, cancel=cancel)
            output += more
            run = results.read(path)
        return RunResult(kata, target, proc.returncode, run, output, time.monotonic() - started, overran)
    finally:
        try:
            os.unlink(path)
        except OSError:  # a learner's process may have removed it: the run says so
            pass


def _run_with_pipe(root, kata, target, start_methods, wall, env, test_files, args, prefix) -> RunResult:
    read_end, write_end = os.pipe()
    chunks: list[bytes] = []

    def drain():
        while True:
            data = os.read(read_end, 65536)
            if not data:
                return
            chunks.append(data)

    def close_write_end():  # once the judge has its copy: the pipe ends when the judge's does
        nonlocal write_end
        os.close(write_end)
        write_end = -1

    reader = threading.Thread(target=drain, name=f"dojo-results-{kata}", daemon=True)
    reader.start()
    started = time.monotonic()
    try:
        command = pytest_command(root, kata, target, "-", start_methods, test_files, args)
        command = [*prefix, *(c for c in command if c != "--dojo-results=-"), f"--dojo-results-fd={write_end}"]
        proc, overran, output = _supervise(command, root, env, wall, pass_fds=(write_end,), on_start=close_write_end)
        reader.join(5.0)  # every writer is gone now: the pipe is at its end
    finally:
        if write_end >= 0:
            os.close(write_end)
    run = results.parse(b"".join(chunks).decode("utf-8", "replace").splitlines(keepends=True))
    os.close(read_end)
    return RunResult(kata, target, proc.returncode, run, output, time.monotonic() - started, overran)


def _supervise(command, root, env, wall, pass_fds=(), on_start=None, cancel=None) -> tuple:
    """Start ``command`` in a session and run folder of its own, wait up to ``wall``
    seconds, stop its tree past that (or as soon as ``cancel`` is set: a run nobody wants
    any more), kill what it left behind. Return the process, whether it overran, and
    everything it printed."""
    overran = False
    run_folder = RunFolder(root)
    with tempfile.TemporaryFile() as out, run_folder:
        with _active_lock:
            proc = subprocess.Popen(
                command,
                cwd=root,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=child_env({**(env or {}), **run_folder.env(), "DOJO_WALL": f"{wall:g}"}),
                **system.new_session(),
                pass_fds=pass_fds,
            )
            _active.add(proc.pid)
        if on_start:
            on_start()
        try:
            if cancel is None:
                proc.wait(timeout=wall)
            else:
                deadline = time.monotonic() + wall
                while proc.poll() is None:
                    if cancel.wait(0.05):
                        stop_tree(proc)
                    elif time.monotonic() >= deadline:
                        raise subprocess.TimeoutExpired(command, wall)
        except subprocess.TimeoutExpired:
            overran = True
            stop_tree(proc)
        finally:
            with _active_lock:
                _active.discard(proc.pid)
        kill_leftovers(proc.pid)
        reap_adopted()
        out.seek(0)
        output = out.read().decode("utf-8", "replace")
        if overran:  # stacks the run dumped itself before its wall (where there is no SIGUSR1)
            try:
                with open(os.path.join(run_folder.path, STACKS_FILE), encoding="utf-8", errors="replace") as fh:
                    dumped = fh.read()
            except OSError:
                dumped = ""
            if dumped.strip():
                output += "\n" + dumped
    return proc, overran, output


def stop_tree(proc: subprocess.Popen, grace: float = 0.3) -> None:
    """Stacks first (SIGUSR1 to pytest alone: the plugin's faulthandler; its children
    would die of it), then kill the whole tree."""
    try:
        tree = [psutil.Process(proc.pid), *psutil.Process(proc.pid).children(recursive=True)]
    except psutil.Error:
        tree = []
    if system.STACK_SIGNAL is not None:
        try:
            os.kill(proc.pid, system.STACK_SIGNAL)
        except OSError:
            pass
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
    if system.SESSIONS:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except OSError:
            pass
    for p in tree:
        try:
            p.kill()
        except psutil.Error:
            pass
    proc.wait()


def kill_leftovers(session_id: int) -> list[str]:
    """Kill processes still in the run's session (a daemon that outlived pytest); where
    there are no sessions, stop_tree's walk of the tree is all there is."""
    found = []
    if not system.SESSIONS:
        return found
    for p in psutil.process_iter(["pid"]):
        try:
            if os.getsid(p.pid) == session_id:
                found.append(procs.describe(p))
                p.kill()
        except (OSError, psutil.Error):
            continue
    return found


def reap_adopted() -> None:
    """Kill and reap orphans we adopted as a subreaper (``procs.set_subreaper``): a
    learner's process that left its run's session with setsid() and outlived the run.
    Runs in progress are direct children too, and are left alone."""
    with _active_lock:
        active = set(_active) | procs.infrastructure_pids()
        try:
            children = psutil.Process().children()
        except psutil.Error:
            return
        for child in children:
            if child.pid in active:
                continue
            try:
                child.kill()
            except psutil.Error:
                pass
            try:
                os.waitpid(child.pid, 0)
            except ChildProcessError:
                pass


class WarmRunner:
    """Client of dojo/warm.py: one warm process, a forked child per run.

    Falls back to a cold ``python -m pytest`` (run_kata) whenever the warm process is
    not there or dies; a result is never lost to the optimisation.
    """

    def __init__(self):
        self.proc: subprocess.Popen | None = None
        self._ids = 0
        self.closed = False  # after stop(): no new runs, and no cold fallback either
        self._in_flight: set[str] = set()  # run folders; stop() removes what a run left
        self._starting = threading.Lock()  # warm_up() in the background, a run meanwhile
        self._lock = threading.Lock()  # one conversation with the runner at a time
        self._prepared: dict | None = None  # the run made ready in advance, if any

    def start(self) -> bool:
        if not system.FORK:
            return False  # a warm runner forks its runs: without fork every run is cold
        with self._starting:
            if self.closed:
                return False
            return self._start()

    def _start(self) -> bool:
        if self.proc and self.proc.poll() is None:
            return True
        try:
            with _active_lock:
                self.proc = subprocess.Popen(
                    [sys.executable, "-c", "from dojo.warm import serve; serve()"],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                    env=child_env(),
                    start_new_session=True,
                    text=True,
                    bufsize=1,
                )
                _active.add(self.proc.pid)
            ready = self._read(timeout=30)
            return bool(ready and ready.get("event") == "ready")
        except OSError:
            self.proc = None
            return False

    def _read(self, timeout: float):
        import select

        if not self.proc or self.proc.stdout is None:
            return None
        ready, _, _ = select.select([self.proc.stdout], [], [], max(timeout, 0))
        if not ready:
            return None
        line = self.proc.stdout.readline()
        if not line:
            return None
        try:
            return json.loads(line)
        except ValueError:
            return None

    def run(
        self, root: Path, kata: str, target: str, *, start_methods=None, wall: float = 120.0, env=None, progress=None,
        cancel=None,
    ) -> RunResult:
        """``progress(cells_so_far, seconds)`` is called about once a second while it runs;
        setting ``cancel`` (a threading.Event) kills the run's process group at once."""
        if self.closed:
            return RunResult(kata, target, -1, results.Run({}, [], None), "", 0.0, False)
        if not self.start():
            return run_kata(root, kata, target, start_methods=start_methods, wall=wall, env=env, cancel=cancel)
        with self._lock:
            return self._run(root, kata, target, start_methods, wall, env, progress, cancel)

    def _new_run(self, root, kata, target, start_methods, env, op: str) -> dict:
        """A run folder with its results and output files, and the request for it."""
        # The run's results and output live in its folder: when the controller quits
        # mid-run, this thread may never reach its finally, and stop() removes the folder.
        self._ids += 1
        folder = RunFolder(root)
        folder_path = folder.__enter__()
        self._in_flight.add(folder_path)
        path = os.path.join(folder_path, f"{kata}.jsonl")
        out_path = os.path.join(folder_path, f"{kata}.out")
        for name in (path, out_path):
            open(name, "x").close()
        run_env = child_env({**(env or {}), **folder.env()})
        args = pytest_command(root, kata, target, path, start_methods)[3:]  # after "python -m pytest"
        request = {"op": op, "id": self._ids, "root": str(root), "args": args, "env": run_env, "output": out_path,
                   "target": target}
        key = json.dumps([str(root), kata, target, list(start_methods or ()), sorted((env or {}).items())])
        return {"folder": folder, "folder_path": folder_path, "path": path, "out_path": out_path,
                "request": request, "key": key}

    def _drop(self, run: dict) -> None:
        run["folder"].__exit__(None, None, None)
        self._in_flight.discard(run["folder_path"])

    def prepare(self, root: Path, kata: str, target: str, *, start_methods=None, env=None) -> bool:
        """Have the next run of ``kata`` made ready in the background (forked, configured,
        collected, waiting before its first test): a ``run`` with the same arguments then
        only lets it go. The kata file itself is read only then. False where there is no
        warm runner, or a run is in flight (nothing is waited for)."""
        if self.closed or not self._lock.acquire(blocking=False):
            return False
        try:
            if not self.start():
                return False
            self._forget_prepared()
            run = self._new_run(root, kata, target, start_methods, env, "prepare")
            try:
                self._send(run["request"])
                event = self._read(timeout=10)
                if not event or event.get("event") != "prepared":
                    raise OSError("warm runner did not prepare the run")
            except (OSError, ValueError):
                self._drop(run)
                self._stop_process()
                return False
            self._prepared = run
            return True
        finally:
            self._lock.release()

    def _forget_prepared(self) -> None:
        """The prepared run will not be asked for: the runner kills it (a new request
        does too), and its folder goes."""
        if self._prepared is not None:
            run, self._prepared = self._prepared, None
            try:
                self._send({"op": "discard", "id": run["request"]["id"]})
                self._read(timeout=10)
            except (OSError, ValueError):
                pass
            self._drop(run)

    def _send(self, request: dict) -> None:
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()

    def _run(self, root, kata, target, start_methods, wall, env, progress, cancel) -> RunResult:
        run = None
        started = time.monotonic()
        overran = False
        try:
            prepared, self._prepared = self._prepared, None
            if prepared is not None:
                key = json.dumps([str(root), kata, target, list(start_methods or ()), sorted((env or {}).items())])
                if prepared["key"] == key:
                    self._send({"op": "go", "id": prepared["request"]["id"]})
                    event = self._read(timeout=10)
                    if event and event.get("event") == "started":
                        run = prepared
                if run is None:  # not the run asked for, or stale: the runner has killed it
                    self._drop(prepared)
            if run is None:
                run = self._new_run(root, kata, target, start_methods, env, "run")
                self._send(run["request"])
                event = self._read(timeout=10)
            if not event or event.get("event") != "started":
                raise OSError("warm runner did not start the run")
            path, out_path = run["path"], run["out_path"]
            child = event["pid"]
            deadline = started + wall
            finished = None
            step = 0.1 if cancel is not None else 1.0
            reported = started
            while finished is None and time.monotonic() < deadline:
                finished = self._read(timeout=min(step, max(deadline - time.monotonic(), 0)))
                if finished is None:
                    if self.proc.poll() is not None:
                        raise OSError("warm runner died")
                    if cancel is not None and cancel.is_set():
                        break  # nobody wants this run any more
                    if progress and time.monotonic() - reported >= 1.0:
                        reported = time.monotonic()
                        progress(results.read(path).cells, reported - started)
            if finished is None and cancel is not None and cancel.is_set():
                try:
                    os.killpg(child, signal.SIGKILL)
                except OSError:
                    pass
                finished = self._read(timeout=10)
            elif finished is None:
                overran = True
                try:
                    os.kill(child, system.STACK_SIGNAL or signal.SIGTERM)  # stacks first
                except OSError:
                    pass
                time.sleep(0.2)  # give faulthandler its moment to write the stacks
                try:
                    os.killpg(child, signal.SIGKILL)
                except OSError:
                    pass
                finished = self._read(timeout=10)
            if finished and finished.get("event") == "stale":
                # The prepared run found the kata imported before "go": run afresh.
                self._drop(run)
                run = None
                return self._run(root, kata, target, start_methods, wall, env, progress, cancel)
            if not finished:
                raise OSError("warm runner lost the run")
            with open(out_path, encoding="utf-8", errors="replace") as fh:
                output = fh.read()
            return RunResult(kata, target, finished["returncode"], results.read(path), output, time.monotonic() - started, overran)
        except (OSError, BrokenPipeError, KeyError, ValueError):
            if self.closed:  # stopped while this run was in flight: the controller is leaving
                return RunResult(kata, target, -1, results.Run({}, [], None), "", 0.0, False)
            self._stop_process()
            if cancel is not None and cancel.is_set():
                return RunResult(kata, target, -1, results.Run({}, [], None), "", 0.0, False)
            return run_kata(root, kata, target, start_methods=start_methods, wall=wall, env=env, cancel=cancel)
        finally:
            if run is not None:
                self._drop(run)

    def stop(self) -> None:
        self.closed = True
        with self._starting:  # a warm-up in the background either finished or never starts
            self._stop_process()
        for folder in list(self._in_flight):
            shutil.rmtree(folder, ignore_errors=True)

    def _stop_process(self) -> None:
        if not self.proc:
            return
        try:
            if self.proc.poll() is None:
                try:
                    self.proc.stdin.write('{"op": "quit"}\n')
                    self.proc.stdin.flush()
                    self.proc.wait(timeout=2)
                except (OSError, subprocess.TimeoutExpired):
                    stop_tree(self.proc)
        finally:
            with _active_lock:
                _active.discard(self.proc.pid)
            kill_leftovers(self.proc.pid)
            self.proc = None
