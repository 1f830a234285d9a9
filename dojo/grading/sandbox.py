"""Confine a grading job: a cgroup, namespaces, a private /dev/shm, rlimits, its own uid.

    controller (root or not)
      │  Popen([*launch_prefix(slot, limits), sys.executable, "-m", "pytest", ...])
      ▼
    python -m dojo.grading.sandbox --slot N --job NAME --limits JSON -- CMD ...
      1. cgroup <own cgroup>/dojo-<controller pid>-<its start time>-<slot>
         (pids.max, memory limit); this process moves in, so all it starts is counted
      2. unshare: network + mount namespaces (root), or user + network + mount
         namespaces where unprivileged user namespaces are allowed
      3. mounts private; a fresh tmpfs (mode 1777) on /dev/shm; loopback up; as root,
         folders closed to other users on the interpreter's paths (pyenv's /root) become
         a tmpfs with those paths bound back read-only (_open_closed_folders)
      4. DOJO_SANDBOX={slot, limits, what is in force}; execvp(CMD)
      ▼
    judge (pytest): inside the cgroup and namespaces, still the controller's user
      └─ host (a multiprocessing child) calls enter_host() before importing learner code:
         rlimits; as root, a mount namespace of its own (private_view: the kit and every
         non-system top-level folder covered, its workspace bound back, a private /tmp,
         /proc with hidepid=invisible); setgroups([]) / setgid / setuid(Limits.uid + slot);
         dojo, sys.path and PYTHONPATH pointed at the workspace's toolkit copy
           └─ learner code and whatever it starts
    controller, afterwards: cleanup(slot) kills what is left in the cgroup, removes it

Every layer is best effort: what this machine lacks is skipped and ``detect()`` says so
(the grade report prints it as "limits in force"). The job's cgroup outlives the exec —
it holds the judge and everything the judge starts — so the controller must call
``cleanup(slot)`` (or ``cleanup(paths)``) after each job, before it reuses the slot.

Uids: the job in slot N runs its hosts as uid ``Limits.uid + N`` (default 61000 + N; gid
the same number, no supplementary groups). One uid per parallel job, because
``RLIMIT_NPROC`` counts per user: jobs sharing a uid would share one process budget, and
one fork bomb would fail its neighbours. 61000–61183 sits below systemd's DynamicUser
range (61184–65519); a uid that belongs to an account is refused. Grading controllers
running at once on one machine lease their uids (``UidLease``: a lock file per uid): a
slot whose uid another job holds gets the next free one, so no two jobs share a uid.

Linux only: elsewhere ``detect()`` says "off" for everything and the functions do nothing.
"""

from __future__ import annotations

import ctypes
import errno
import json
import os
import re
import signal
import stat
import subprocess
import sys
import threading
import time
import dataclasses
from dataclasses import asdict, dataclass, fields
from pathlib import Path

MODULE = "dojo.grading.sandbox"
ENV = "DOJO_SANDBOX"  # JSON: {"job", "slot", "limits", "cgroups", "in_force"}
SANDBOX_FAILED = 125  # the sandbox itself could not start the command (as env(1) and docker do)
KEYS = ("wall", "processes", "memory", "cpu", "fsize", "network", "shm", "uid", "readonly", "capabilities", "view")

MiB = 1 << 20
GiB = 1 << 30
UID_BASE = 61000
# The judge's share on top of the learner's budget: pytest, the resource tracker, a
# forkserver, the host processes themselves. pids.max counts threads as well.
JUDGE_TASKS = 32
JUDGE_MEMORY = 512 * MiB

CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_REMOUNT = 32
MS_NOEXEC = 8
MS_BIND = 4096
MS_MOVE = 8192
MS_REC = 16384
MNT_DETACH = 2
MS_PRIVATE = 1 << 18
SIOCGIFFLAGS = 0x8913
SIOCSIFFLAGS = 0x8914
IFF_UP = 1
PR_SET_NO_NEW_PRIVS = 38
PR_CAPBSET_DROP = 24
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_CLEAR_ALL = 4
_LINUX_CAPABILITY_VERSION_3 = 0x20080522

CGROUP_CONTROLLERS = ("pids", "memory")
JOB_NAME = re.compile(r"dojo-(\d+)-(\d+)-(\w+)\Z")


class SandboxError(Exception):
    """The sandbox cannot start a job safely (its cgroup still holds another job)."""


@dataclass(frozen=True)
class Limits:
    wall: float = 90.0  # seconds per kata run; the controller enforces it, carried here
    memory: int = 2 * GiB  # bytes: RLIMIT_AS of each host; the job's cgroup gets + JUDGE_MEMORY
    cpu: int = 60  # CPU seconds per host process (RLIMIT_CPU)
    nproc: int = 64  # processes and threads of learner code per job
    net: bool = True  # own network namespace: loopback only
    shm: bool = True  # private /dev/shm
    uid: int | None = UID_BASE  # hosts run as uid + slot when the grader is root; None: never
    fsize: int = 64 * MiB  # largest file a host may write (RLIMIT_FSIZE)
    # folders that stay read-only inside the job (the kit, the submissions, the output,
    # the installed packages): a host running as root cannot change what grades it
    readonly: tuple = ()
    # folders no host may see (the kit, dojo's source tree, the submissions, the results):
    # each host covers them in a mount namespace of its own before it drops its uid
    hidden: tuple = ()

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict) -> "Limits":
        known = {f.name for f in fields(cls)}
        kept = {k: v for k, v in data.items() if k in known}
        for key in ("readonly", "hidden"):
            if key in kept:
                kept[key] = tuple(kept[key])
        return cls(**kept)

    @classmethod
    def from_json(cls, text: str) -> "Limits":
        return cls.from_dict(json.loads(text))

    def slot_uid(self, slot: int) -> int | None:
        return None if self.uid is None else self.uid + slot

    @property
    def job_tasks(self) -> int:
        return self.nproc + JUDGE_TASKS

    @property
    def job_memory(self) -> int:
        return self.memory + JUDGE_MEMORY


# --- what is in force --------------------------------------------------------------------

_DETECTED: dict[str, dict[str, str]] = {}
_DETECTING = threading.Lock()  # one probe at a time: they share the probe's cgroup name


def detect(limits: Limits | None = None) -> dict[str, str]:
    """limit -> "on: <detail>" | "off: <why>", for the report's "limits in force".

    Inside a sandbox (the judge, a host) this is what the sandbox recorded when it started.
    Elsewhere it starts one sandbox with nothing to run (``--report``), reads what it
    could apply, and removes it again: the prediction runs the very code a job runs.
    Cached per process and per ``limits``.
    """
    limits = limits or Limits()
    if not _linux():
        verdicts = dict.fromkeys(KEYS, f"off: {sys.platform} has no cgroups, namespaces or rlimits this sandbox uses")
        verdicts["wall"] = _wall(limits)
        return verdicts
    state = current()
    if state is not None:
        return dict(state["in_force"])
    key = limits.to_json()
    with _DETECTING:
        if key not in _DETECTED:
            _DETECTED[key] = _probe(limits)
        return dict(_DETECTED[key])


def current() -> dict | None:
    """The record of the sandbox this process runs in (``None`` outside one)."""
    text = os.environ.get(ENV)
    if not text:
        return None
    try:
        state = json.loads(text)
        return state if isinstance(state, dict) and "in_force" in state else None
    except ValueError:
        return None


def _probe(limits: Limits) -> dict[str, str]:
    cmd = [sys.executable, "-m", MODULE]
    cmd += ["--slot", "0", "--job", job_name("probe"), "--limits", limits.to_json(), "--report"]
    try:
        done = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30)
        if done.returncode != 0:
            raise ValueError((done.stderr.strip().splitlines() or [f"status {done.returncode}"])[-1])
        state = json.loads(done.stdout)
    except (OSError, ValueError, subprocess.SubprocessError) as exc:
        return {key: f"off: the sandbox probe failed ({exc})" for key in KEYS}
    finally:
        try:
            cleanup(cgroup_paths("probe"))
        except OSError:
            pass
    return state["in_force"]


def _wall(limits: Limits) -> str:
    return f"on: {limits.wall:g} s per kata run (enforced by the controller)"


def _verdicts(limits: Limits, cg: dict, ns: dict, uid: str) -> dict[str, str]:
    """The report's words for what ``_setup`` managed (rlimits are always applied)."""
    root = os.geteuid() == 0
    dropped = uid.startswith("on")
    if dropped:
        nproc = f"RLIMIT_NPROC={limits.nproc} for the job's own uid"
    elif not root:
        nproc = f"RLIMIT_NPROC=this user's tasks + {limits.nproc} (shared with all this user runs)"
    else:
        nproc = ""  # RLIMIT_NPROC does not bind root
    if cg.get("pids"):
        pids = f"{cg['pids']} for the job ({limits.nproc} + {JUDGE_TASKS} for the judge)"
        processes_text = f"on: {pids}; {nproc or 'no RLIMIT_NPROC (it does not bind root hosts)'}"
    elif nproc:
        processes_text = f"on: {nproc}; no cgroup ({cg['pids_off']})"
    else:
        processes_text = f"off: {cg['pids_off']}, and RLIMIT_NPROC does not bind root hosts"
    memory = f"on: RLIMIT_AS={_size(limits.memory)} per host process; "
    if cg.get("memory"):
        memory += f"{cg['memory']} for the job"
    else:
        memory += f"no limit for the job as a whole ({cg['memory_off']})"
    return {
        "wall": _wall(limits),
        "processes": processes_text,
        "memory": memory,
        "cpu": f"on: RLIMIT_CPU={limits.cpu} s per host process",
        "fsize": f"on: RLIMIT_FSIZE={_size(limits.fsize)} per file a host writes"
        + (f"; {ns['run_folder'][4:]}" if ns.get("run_folder", "").startswith("on") else ""),
        "network": ns["network"],
        "shm": ns["shm"],
        "uid": uid,
        "readonly": ns.get("readonly", "off: no mount namespace of its own"),
        "capabilities": (
            "on: hosts drop every capability, so they cannot read the judge's memory or files "
            "(the judge is not dumpable)"
            if root
            else "on: hosts have no capabilities (not root); the judge is not dumpable"
        ),
        "view": ns.get("view", "off: no mount namespace of its own, so hosts see what the grader sees"),
    }


# --- the controller's side ---------------------------------------------------------------


def launch_prefix(job_slot: int, limits: Limits | None = None, leave_nothing=()) -> list[str]:
    """What the controller puts before the judge's command (``[]`` where not Linux).

    The job's cgroup is named after this process and ``job_slot``, so the controller can
    find it again with ``cgroup_paths(job_slot)``; jobs running at the same time need
    different slots, and a slot may be reused only after ``cleanup(job_slot)``. The
    sandbox asks whether the slot's uid can run *its own* interpreter (``sys.executable``,
    as here): start the judge with that same Python.

    ``leave_nothing``: folders of this job's (its workspace) that the job's watchdog
    removes if the controller dies before the judge, as it does the run folder
    (``DOJO_TMPDIR``); a live controller removes them itself.
    """
    if not _linux():
        return []
    limits = limits or Limits()
    orphaned = [arg for path in leave_nothing for arg in ("--leave-nothing", os.fspath(path))]
    return [
        sys.executable, "-m", MODULE,
        "--slot", str(job_slot), "--job", job_name(job_slot), "--limits", limits.to_json(), *orphaned, "--",
    ]  # fmt: skip


UID_RANGE = 184  # 61000-61183: below systemd's DynamicUser range
LEASES = "/run/lock" if os.path.isdir("/run/lock") else "/tmp"


class UidLease:
    """A uid no other job on this machine uses while this lease is held, however many
    grading controllers run (each has its own slots; uids are per machine). A lock file
    per uid (``flock``, released by the kernel when its holder dies): the slot's own uid
    if it is free, else the next free one. ``limits`` is ``Limits`` with ``uid`` set so
    that ``limits.slot_uid(slot)`` is the leased uid. Use as a context manager."""

    def __init__(self, limits: "Limits", slot: int):
        self.limits, self.slot, self.uid, self._fd = limits, slot, None, None
        if limits.uid is None or not _linux() or os.geteuid() != 0:
            return
        import fcntl

        first = limits.uid + slot
        for n in range(UID_RANGE):
            uid = limits.uid + (first - limits.uid + n) % UID_RANGE
            try:
                fd = os.open(os.path.join(LEASES, f"dojo-uid-{uid}.lock"), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            except OSError:
                return
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                continue
            self.uid, self._fd = uid, fd
            self.limits = dataclasses.replace(limits, uid=uid - slot)
            return

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> "UidLease":
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def job_name(slot: int | str, owner: int | None = None) -> str:
    """``dojo-<controller pid>-<its start time>-<slot>``: unique to this controller (the
    start time tells a live controller from a new process that reuses a dead one's pid)."""
    owner = owner or os.getpid()
    return f"dojo-{owner}-{_start_time(owner) or 0}-{slot}"


def cgroup_paths(slot: int | str) -> list[Path]:
    """The job's cgroup folder in each hierarchy it uses (whether they exist yet or not)."""
    if not _linux():
        return []
    name = job_name(slot)
    return [base / name for base in _bases()]


def cleanup(handle, timeout: float = 5.0) -> list[str]:
    """Kill every process left in a job's cgroup and remove the cgroup.

    ``handle``: a slot (as given to ``launch_prefix``), a cgroup folder, or a list of them.
    Returns the processes it killed, described. Nothing is reaped: the judge is the
    controller's own child (its ``Popen.wait()`` wants the status) and orphans adopted by
    a subreaper controller are collected by ``procs.reap_children()``. Raises ``OSError``
    when the cgroup is still there after ``timeout`` seconds.
    """
    from dojo import procs  # psutil; kept out of the sandbox's own start-up

    import psutil

    if isinstance(handle, (list, tuple)):
        paths = [Path(p) for p in handle]
    elif isinstance(handle, Path) or (isinstance(handle, str) and "/" in handle):
        paths = [Path(handle)]
    else:
        paths = cgroup_paths(handle)
    paths = [p for p in paths if p.is_dir()]
    deadline = time.monotonic() + timeout
    killed: dict[int, str] = {}
    for path in paths:
        # cgroup v2 (Linux 5.14+) kills the whole group in one step, fork bomb included.
        _write(path / "cgroup.kill", "1", quiet=True)

    def members() -> set[int]:
        return {pid for path in paths for pid in _members(path)}

    def kill_all() -> bool:
        found = members()
        for pid in found - killed.keys():
            try:
                killed[pid] = procs.describe(psutil.Process(pid))
            except psutil.Error:
                killed[pid] = f"pid {pid}"
        for pid in found:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        return not found

    # A process may fork between our read and our kill; pids.max bounds how often.
    procs.wait_until(kill_all, timeout, step=0.01)
    left = []
    for path in paths:
        if not procs.wait_until(lambda: _rmdir(path), max(deadline - time.monotonic(), 0.1)):
            left.append(f"{path} ({', '.join(map(str, _members(path))) or 'busy'})")
    if left:
        raise OSError(errno.EBUSY, "job cgroup still in use after cleanup: " + "; ".join(left))
    return [killed[pid] for pid in sorted(killed)]


def stale_cleanup() -> list[str]:
    """Remove the job cgroups of controllers that are gone (crashed, killed), next to ours."""
    removed = []
    if not _linux():
        return removed
    for base in _bases():
        try:
            entries = list(base.iterdir())
        except OSError:
            continue
        for entry in entries:
            match = JOB_NAME.match(entry.name)
            if not match or not entry.is_dir():
                continue
            pid, start = int(match[1]), int(match[2])
            if _start_time(pid) == start:
                continue  # its controller is alive
            try:
                cleanup(entry)
                removed.append(str(entry))
            except OSError:
                pass
    return removed


# --- the host's side ---------------------------------------------------------------------


def enter_host(limits: Limits | dict | None = None, slot: int | None = None, toolkit: str | None = None) -> list[str]:
    """Confine this process: call it first thing in a host, before learner code is imported.

    Sets rlimits; as root inside a sandbox, gives the host a view of its own
    (``private_view``: the kit and everything in ``Limits.hidden`` covered, a private
    temporary folder, /proc showing its own uid only); then — where the sandbox found the
    slot's uid usable — drops to that uid, and points dojo's modules, ``sys.path`` and
    ``PYTHONPATH`` at ``toolkit`` (the workspace's copy of the test-side toolkit), since
    the dojo the judge imported is out of sight. Defaults come from the sandbox this
    process runs in. Returns what it applied.
    multiprocessing keeps working afterwards: the inherited resource tracker pipe, Pipes,
    fork/spawn/forkserver children (see ``_after_drop`` and ``_forget_inherited_forkserver``).
    """
    if not _linux():
        return []
    # Imported now: after the uid drop the standard library may be out of reach (where
    # the uid is refused, detect() says so and no drop happens; see _uid_verdict).
    import resource
    import tempfile
    from multiprocessing import forkserver, process

    state = current()
    if limits is None:
        limits = Limits.from_dict(state["limits"]) if state else Limits()
    elif isinstance(limits, dict):
        limits = Limits.from_dict(limits)
    if slot is None:
        slot = int(state["slot"]) if state else 0
    applied = []
    uid = limits.slot_uid(slot)
    drop = os.geteuid() == 0 and uid is not None and _uid_usable(limits, slot, state)

    def lower(name, value, hard=None, shown=None):
        res = getattr(resource, name)
        _, old_hard = resource.getrlimit(res)
        hard = value if hard is None else hard
        if old_hard != resource.RLIM_INFINITY and os.geteuid() != 0:
            value, hard = min(value, old_hard), min(hard, old_hard)
        resource.setrlimit(res, (value, hard))
        applied.append(f"{name}={shown or value}")

    lower("RLIMIT_AS", limits.memory, shown=_size(limits.memory))
    # SIGXCPU at the soft limit, SIGKILL one second later if it is ignored.
    lower("RLIMIT_CPU", limits.cpu, limits.cpu + 1, shown=f"{limits.cpu} s")
    lower("RLIMIT_FSIZE", limits.fsize, shown=_size(limits.fsize))
    # A write past the limit then fails with EFBIG ("File too large") instead of the
    # process dying of SIGXFSZ without a word.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    lower("RLIMIT_CORE", 0)
    if drop or os.geteuid() == 0:
        # Binds only once the uid is not root (a root host is held by the cgroup).
        lower("RLIMIT_NPROC", limits.nproc)
    else:
        # RLIMIT_NPROC counts every task of the real uid, machine-wide: leave room for
        # what this user already runs, or the host could not start a single child.
        lower("RLIMIT_NPROC", _tasks_of(os.getuid()) + limits.nproc)
    _forget_inherited_forkserver(forkserver._forkserver)
    keep = [os.getcwd(), toolkit]
    real_exe = os.path.realpath(sys.executable)  # before anything is covered
    if os.geteuid() == 0 and state is not None and state["in_force"].get("view", "").startswith("on"):
        # multiprocessing's folder is bound back unless hidden: under fork it is the judge's
        # own, where the judge's fork server listens (plugin._prepare_for_hosts hides it)
        recorded = process.current_process()._config.get("tempdir")
        if recorded and any(_within(os.path.realpath(recorded), os.path.realpath(h)) for h in limits.hidden if h):
            recorded = None
        keep = [os.getcwd(), os.environ.get("DOJO_TMPDIR"), os.environ.get("TMPDIR"),
                recorded, sys.base_prefix, os.path.dirname(os.path.realpath(sys.executable)), toolkit]
        # the venv, and the main script's folder (a spawn child re-runs the script), unless hidden
        main = getattr(sys.modules.get("__main__"), "__file__", None)
        for path in (sys.prefix, os.path.dirname(os.path.abspath(main)) if main else None):
            if path and not any(_within(os.path.realpath(path), os.path.realpath(h)) for h in limits.hidden):
                keep.append(path)
        try:
            applied += private_view(limits.hidden, keep, limits)
        except OSError as exc:
            applied.append(f"no private view ({_oserror(exc)})")
    if os.geteuid() == 0 and not drop:
        # Root without its powers: no ptrace of the judge (which is not dumpable), no
        # reading its descriptors through /proc, no mounts, no raising limits back.
        _drop_capabilities()
        applied.append("capabilities=none no_new_privs")
    if toolkit or limits.hidden:
        _blank_start_strings()  # while /proc/self/environ is still readable (before the drop)
    if drop:
        _hand_over_shm(uid, uid)
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
        _prctl(PR_SET_NO_NEW_PRIVS, 1)  # no way back up through a setuid program
        _after_drop(process.current_process()._config, tempfile)
        applied.append(f"uid={uid} gid={uid} groups=[] no_new_privs")
    if toolkit or limits.hidden:
        _rehome(limits.hidden, toolkit, [k for k in keep if k], real_exe)
    return applied


def _rehome(hidden, toolkit: str | None, keep=(), real_exe: str | None = None) -> None:
    """After the kit went out of sight: dojo's modules, ``sys.path``, ``PYTHONPATH`` and
    the interpreter children start with all point at what the host can still reach (the
    workspace's toolkit copy, the real interpreter), and no variable names a hidden path."""
    hidden = [os.path.realpath(h) for h in hidden if h]
    keep = [os.path.realpath(k) for k in keep]

    def gone(path: str) -> bool:
        try:
            names = {os.path.abspath(path), os.path.realpath(path)}
        except (OSError, ValueError):
            return False
        return any(any(_within(n, h) for h in hidden) and not any(_within(n, k) for k in keep) for n in names)

    if toolkit and os.path.isdir(toolkit):
        from pathlib import PurePath

        package = getattr(sys.modules.get("dojo"), "__path__", None)
        old = os.path.abspath(list(package)[0]) if package else None
        new = os.path.join(toolkit, "dojo")
        for name, module in list(sys.modules.items()):
            if name != "dojo" and not name.startswith("dojo."):
                continue
            if old and old != new:
                # module constants naming the package's own data files (i18n's catalogue);
                # not its source files, which name code already loaded (frames keep the name)
                for attr, value in list(vars(module).items()):
                    if (isinstance(value, (str, PurePath)) and not attr.startswith("__") and _within(str(value), old)
                            and not str(value).endswith(".py")):
                        moved = os.path.join(new, os.path.relpath(str(value), old))
                        setattr(module, attr, type(value)(moved) if isinstance(value, PurePath) else moved)
            rel = name.split(".")[1:]
            if getattr(module, "__path__", None) is not None:
                folder = os.path.join(toolkit, "dojo", *rel)
                module.__path__ = [folder] if os.path.isdir(folder) else []
                where = os.path.join(folder, "__init__.py")
            else:
                where = os.path.join(toolkit, "dojo", *rel[:-1], f"{rel[-1]}.py")
            if getattr(module, "__file__", None) and gone(module.__file__):
                module.__file__ = where
                module.__cached__ = None
        sys.path[:] = [toolkit, *(p for p in sys.path if p != toolkit and not gone(p))]
        sys.path_importer_cache.clear()
    else:
        sys.path[:] = [p for p in sys.path if not gone(p)]
    if gone(sys.executable):
        real = real_exe or os.path.realpath(sys.executable)
        if not gone(real):
            from multiprocessing import spawn

            sys.executable = sys._base_executable = real
            spawn.set_executable(real)
    for key, value in list(os.environ.items()):
        if key == ENV or not any(h in value for h in hidden) or (value.startswith("/") and os.pathsep not in value and not gone(value)):
            continue
        if key.endswith("PATH"):
            kept = [p for p in value.split(os.pathsep) if p and not gone(p)]
            os.environ[key] = os.pathsep.join(kept)
        else:
            del os.environ[key]
    if toolkit and os.path.isdir(toolkit):
        os.environ["PYTHONPATH"] = os.pathsep.join([toolkit, *(p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p and p != toolkit)])
    text = os.environ.get(ENV)
    if text:
        for h in sorted(hidden, key=len, reverse=True):
            text = text.replace(json.dumps(h)[1:-1], "(hidden)")
        os.environ[ENV] = text
    sys.argv[:] = [os.path.basename(a) if a.startswith("/") and gone(a) else a for a in sys.argv]
    if hasattr(sys, "orig_argv"):
        sys.orig_argv[:] = [os.path.basename(a) if a.startswith("/") and gone(a) else a for a in sys.orig_argv]
    if gone(sys.prefix):
        sys.prefix = sys.exec_prefix = sys.base_prefix


def _blank_start_strings() -> None:
    """Blank this process's own /proc/self/cmdline and /proc/self/environ: a fork host's
    are the judge's (its interpreter's path, its arguments), a spawn host's environment
    is the judge's too. The C environment is first moved to fresh strings (setenv copies),
    so that what this process starts still inherits ``os.environ``."""
    try:
        with open("/proc/self/stat", "rb") as f:
            fields_ = f.read().rsplit(b")", 1)[1].split()
        arg_start, arg_end, env_start, env_end = (int(x) for x in fields_[45:49])
        with open("/proc/self/cmdline", "rb") as f:
            cmdline = f.read()
        with open("/proc/self/environ", "rb") as f:
            environ = f.read()
    except (OSError, ValueError, IndexError):
        return
    for key, value in os.environ.items():
        try:
            os.putenv(key, value)
        except (OSError, ValueError):
            pass
    for start, end, seen, text in ((arg_start, arg_end, cmdline, b"dojo-host"), (env_start, env_end, environ, b"")):
        size = end - start
        if 0 < size < (1 << 20) and ctypes.string_at(start, min(size, len(seen))) == seen[:size]:
            ctypes.memset(start, 0, size)
            ctypes.memmove(start, text, min(len(text), size - 1))


_UID_VERDICTS: dict[tuple, str] = {}


def _uid_usable(limits: Limits, slot: int, state: dict | None) -> bool:
    if state is not None:
        return state["in_force"].get("uid", "").startswith("on")
    key = (limits.slot_uid(slot), os.path.realpath(sys.executable), os.getcwd())
    if key not in _UID_VERDICTS:
        _UID_VERDICTS[key] = _uid_verdict(limits, slot)
    return _UID_VERDICTS[key].startswith("on")


def _forget_inherited_forkserver(server) -> None:
    """A forked host inherits the judge's forkserver record: starting a forkserver child
    then fails with ChildProcessError (CPython waits for a pid that is not its child), and
    the judge's server is no place for learner code anyway (its children would have
    neither the host's rlimits nor its uid). A host that just started has no forkserver of
    its own, so whatever is recorded is inherited: forget it."""
    if server._forkserver_pid is not None:
        try:
            os.close(server._forkserver_alive_fd)  # our copy: the judge's server may end
        except (OSError, TypeError):
            pass
        server._forkserver_address = None
        server._forkserver_alive_fd = None
        server._forkserver_pid = None
        server._lock = threading.Lock()


def _drop_capabilities() -> None:
    """Empty the bounding set (nothing comes back at exec), then every set of this process."""
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in range(64):
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 and ctypes.get_errno() == errno.EINVAL:
            break  # past the last capability this kernel knows
    libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]

    header = Header(_LINUX_CAPABILITY_VERSION_3, 0)
    data = (Data * 2)()
    if libc.capset(ctypes.byref(header), data) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"capset: {os.strerror(err)}")
    _prctl(PR_SET_NO_NEW_PRIVS, 1)


def _hand_over_shm(uid: int, gid: int) -> None:
    """Give the new uid the /dev/shm objects this host already maps.

    Semaphores and SharedMemory that the judge made (as root, mode 600) and passed to the
    host stay usable in the host after setuid, but a spawn or forkserver child re-opens
    them by name and would get EACCES. Only objects the host maps are handed over: it
    could already read and write them.
    """
    inodes = set()
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as maps:
            for line in maps:
                if "/dev/shm/" in line:
                    parts = line.split(None, 5)
                    if len(parts) > 4:
                        inodes.add(int(parts[4]))
        entries = os.listdir("/dev/shm")
    except (OSError, ValueError):
        return
    for name in entries:
        path = os.path.join("/dev/shm", name)
        try:
            st = os.lstat(path)
            if st.st_ino in inodes and stat.S_ISREG(st.st_mode) and st.st_uid != uid:
                os.chown(path, uid, gid, follow_symlinks=False)
        except OSError:
            continue


def _after_drop(config: dict, tempfile) -> None:
    """Temporary folders the judge chose (as root, mode 700) are no longer ours."""
    tempdir = config.get("tempdir")
    if tempdir and not os.access(tempdir, os.W_OK | os.X_OK):
        # multiprocessing puts the forkserver's socket there; make a new one of our own.
        config.pop("tempdir", None)
    if tempfile.tempdir and not os.access(tempfile.tempdir, os.W_OK | os.X_OK):
        tempfile.tempdir = None


def _tasks_of(uid: int) -> int:
    """Tasks (threads) whose real uid is ``uid``: what RLIMIT_NPROC counts."""
    count = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as f:
                status = dict(line.split(":", 1) for line in f if ":" in line)
            if int(status["Uid"].split()[0]) == uid:
                count += int(status["Threads"])
        except (OSError, KeyError, ValueError):
            continue
    return count


# --- the sandbox itself: python -m dojo.grading.sandbox ----------------------------------


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = []
    if "--" in argv:
        command = argv[argv.index("--") + 1 :]
        argv = argv[: argv.index("--")]
    import argparse

    parser = argparse.ArgumentParser(prog="python -m dojo.grading.sandbox", description=__doc__.splitlines()[0])
    parser.add_argument("--slot", type=int, required=True)
    parser.add_argument("--job", required=True, help="the job's cgroup name (see job_name)")
    parser.add_argument("--limits", required=True, help="Limits as JSON")
    parser.add_argument("--report", action="store_true", help="set up, print what is in force as JSON, exit")
    parser.add_argument("--leave-nothing", action="append", default=[], metavar="FOLDER",
                        help="a folder of the job's that its watchdog removes if the controller dies first")
    args = parser.parse_args(argv)
    if not args.report and not command:
        parser.error("nothing to run: give the command after --")
    # Opened before the job's mount namespace exists: through these, the watchdog reaches
    # the folders as the controller sees them, not the read-only (or tmpfs-covered) job view.
    orphans = _open_orphans([*args.leave_nothing, os.environ.get("DOJO_TMPDIR") or ""]) if not args.report else []
    try:
        state = _setup(args.job, args.slot, Limits.from_json(args.limits))
    except SandboxError as exc:
        print(f"dojo sandbox: {exc}", file=sys.stderr)
        return SANDBOX_FAILED
    if args.report:
        print(json.dumps(state))
        return 0
    os.environ[ENV] = json.dumps(state)
    _start_watchdog(state["cgroups"], orphans)
    for parent, _path in orphans:
        os.close(parent)
    # Python ignores SIGPIPE (and we may have ignored SIGXFSZ): give the command the
    # dispositions it would get from a shell, as subprocess's restore_signals does.
    for sig in (signal.SIGPIPE, signal.SIGXFSZ):
        signal.signal(sig, signal.SIG_DFL)
    try:
        os.execvp(command[0], command)
    except OSError as exc:
        print(f"dojo sandbox: cannot run {command[0]}: {exc}", file=sys.stderr)
        return SANDBOX_FAILED


def _open_orphans(paths) -> list[tuple[int, str]]:
    """(fd of the parent folder, path) for each folder in ``paths`` that is a real folder."""
    opened = []
    for path in paths:
        if not path:
            continue
        path = os.path.abspath(path)
        parent, name = os.path.split(path)
        try:
            fd = os.open(parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except OSError:
            continue
        try:
            if stat.S_ISDIR(os.stat(name, dir_fd=fd, follow_symlinks=False).st_mode):
                opened.append((fd, path))
                continue
        except OSError:
            pass
        os.close(fd)
    return opened


def _remove_at(parent: int, name: str) -> None:
    """Remove ``name`` in the folder ``parent`` and everything below it, never following a
    symbolic link (the folders' contents were written by the job)."""
    try:
        if not stat.S_ISDIR(os.stat(name, dir_fd=parent, follow_symlinks=False).st_mode):
            os.unlink(name, dir_fd=parent)
            return
        fd = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=parent)
    except OSError:
        return
    try:
        with os.scandir(fd) as entries:
            names = [entry.name for entry in entries]
        for child in names:
            _remove_at(fd, child)
    except (OSError, RecursionError):
        pass
    finally:
        os.close(fd)
    try:
        os.rmdir(name, dir_fd=parent)
    except OSError:
        pass


def _start_watchdog(cgroups, orphans=()) -> None:
    """Leave behind a watchdog that ends the job if the grader dies before the judge does.

    A grader killed outright (SIGKILL, an out-of-memory kill, a container stopped) cannot
    clean up its job: the judge and its hosts would run on until their own timeouts, and
    stay in the job's cgroup until the next grade's ``stale_cleanup``. The watchdog is a
    grandchild of this process (so never a child of the judge it watches), in the job's
    cgroup, root like the grader; a host, with its own uid and /proc showing only that
    uid, can neither see nor signal it. It waits on two pidfds: the judge's (this process,
    once it has exec'd) ending first means all is well and it exits; the grader's ending
    first means it kills every other process in the job's cgroup, removes the job's
    folders (``orphans``: the fds of their parent folders, opened before the job's mount
    namespace, and their paths), then exits. Linux 5.3+ (pidfd_open); elsewhere there is none."""
    if not cgroups or not hasattr(os, "pidfd_open"):
        return
    try:
        grader = os.pidfd_open(os.getppid())
        judge = os.pidfd_open(os.getpid())
    except OSError:
        return
    middle = os.fork()
    if middle == 0:
        try:
            if os.fork() == 0:
                _watch(grader, judge, [Path(p) for p in cgroups], list(orphans))
        finally:
            os._exit(0)
    os.waitpid(middle, 0)
    os.close(grader)
    os.close(judge)


def _watch(grader: int, judge: int, cgroups: list[Path], orphans: list[tuple[int, str]]) -> None:
    import select

    os.setsid()  # out of the judge's process group and session
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)
    keep = {grader, judge, *(fd for fd, _path in orphans)}
    for fd in set(range(max(keep))) - keep:
        try:
            os.close(fd)
        except OSError:
            pass
    os.closerange(max(keep) + 1, 1 << 16)
    ready, _, _ = select.select([grader, judge], [], [])
    if grader not in ready:
        return  # the judge ended first: the grader, alive, cleans up its job
    me = os.getpid()
    for _ in range(1000):  # a fork bomb forks between our read and our kill; pids.max bounds it
        others = {pid for path in cgroups for pid in _members(path)} - {me}
        if not others:
            break
        for pid in others:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.01)
    for parent, path in orphans:
        # A mount point in this namespace (the job's read-only workspace, its run folder's
        # tmpfs) cannot be removed, whichever mount the parent fd reaches it through.
        for point in reversed(_mounts_under(path)):
            try:
                _libc_call("umount2", os.fsencode(point), MNT_DETACH)
            except OSError:
                pass
        _remove_at(parent, os.path.basename(path))


def _setup(job: str, slot: int, limits: Limits) -> dict:
    cg = _join_cgroups(job, limits)
    ns = _unshare(limits)
    uid = _uid_verdict(limits, slot, ns.get("opened", ""))
    return {
        "job": job,
        "slot": slot,
        "limits": asdict(limits),
        "cgroups": cg["paths"],
        "in_force": _verdicts(limits, cg, ns, uid),
    }


def _join_cgroups(job: str, limits: Limits) -> dict:
    """Create the job's cgroup in every hierarchy that has pids or memory, set the limits,
    move this process in. Returns words for the report and the folders made."""
    result: dict = {"paths": []}
    try:
        found = _hierarchies(_read("/proc/self/mountinfo"), _read("/proc/self/cgroup"))
    except OSError as exc:
        found = {}
        result["pids_off"] = result["memory_off"] = f"cgroups unreadable ({exc.strerror})"
    settings = {
        "pids": [("pids.max", str(limits.job_tasks), True)],
        "memory": [
            # v1 wants limit_in_bytes before memsw; swap may not be accounted at all.
            ("memory.limit_in_bytes", str(limits.job_memory), True),
            ("memory.memsw.limit_in_bytes", str(limits.job_memory), False),
            ("memory.max", str(limits.job_memory), True),
            ("memory.swap.max", "0", False),
        ],
    }
    shown = {"pids": f"pids.max={limits.job_tasks}", "memory": f"memory limit {_size(limits.job_memory)}"}
    made: dict[Path, list[str]] = {}
    for controller in CGROUP_CONTROLLERS:
        h = found.get(controller)
        if h is None:
            result.setdefault(f"{controller}_off", f"no cgroup {controller} controller here")
            continue
        path = h.base / job
        try:
            if h.version == 2:
                _enable_v2(h.base, controller)
            if path not in made:
                _make_job_cgroup(path)
                made[path] = []
            written = False
            for file, value, needed in settings[controller]:
                if (path / file).exists():
                    _write(path / file, value, quiet=not needed)
                    written = written or needed
            if not written:
                raise OSError(errno.ENOENT, f"no {controller} limit file in {path}")
            made[path].append(controller)
            result[controller] = f"cgroup v{h.version} {shown[controller]}"
        except OSError as exc:
            result[f"{controller}_off"] = f"cgroup v{h.version}: {_oserror(exc)}"
    for path, controllers in made.items():
        try:
            _write(path / "cgroup.procs", str(os.getpid()))
            result["paths"].append(str(path))
        except OSError as exc:
            for controller in controllers:
                result.pop(controller, None)
                result[f"{controller}_off"] = f"cannot join {path} ({_oserror(exc)})"
            _rmdir(path)
    return result


def _make_job_cgroup(path: Path) -> None:
    try:
        path.mkdir()
    except FileExistsError:
        if _members(path):
            raise SandboxError(f"{path} still holds processes of an earlier job: call cleanup() before reusing a slot")


def _enable_v2(base: Path, controller: str) -> None:
    """cgroup v2: a child gets a controller only if its parent delegates it."""
    if controller in _read(base / "cgroup.subtree_control").split():
        return
    try:
        _write(base / "cgroup.subtree_control", f"+{controller}")
    except OSError as exc:
        if exc.errno == errno.EBUSY:
            raise OSError(
                exc.errno,
                f"cannot enable {controller} below {base}: it holds processes (the grader's own); "
                "start the grader in a cgroup of its own, e.g. systemd-run --scope -p Delegate=yes",
            ) from None
        raise


def _unshare(limits: Limits) -> dict[str, str]:
    """Own network namespace (loopback up) and a private /dev/shm, where allowed."""
    verdict = {
        "network": "off: disabled (Limits.net is false)",
        "shm": "off: disabled (Limits.shm is false)",
    }
    flags = (CLONE_NEWNET if limits.net else 0) | (CLONE_NEWNS if limits.shm else 0)
    if not flags:
        return verdict
    root = os.geteuid() == 0
    uid, gid = os.getuid(), os.getgid()
    try:
        if root:
            _libc_call("unshare", flags)
        else:
            # Without root, a user namespace grants the rights for the other two. The
            # user maps to itself: the judge keeps its uid and loses these rights at exec.
            _libc_call("unshare", flags | CLONE_NEWUSER)
            _write("/proc/self/setgroups", "deny")
            _write("/proc/self/uid_map", f"{uid} {uid} 1")
            _write("/proc/self/gid_map", f"{gid} {gid} 1")
    except OSError as exc:
        why = _oserror(exc)
        if not root and exc.errno in (errno.EPERM, errno.EINVAL, errno.ENOSPC):
            why = f"not root and user namespaces are disabled ({why})"
        for key, wanted in (("network", limits.net), ("shm", limits.shm)):
            if wanted:
                verdict[key] = f"off: {why}"
        return verdict
    if limits.net:
        try:
            _loopback_up()
            verdict["network"] = "on: own network namespace, loopback only"
        except OSError as exc:
            verdict["network"] = f"on: own network namespace, no network at all (loopback stays down: {_oserror(exc)})"
    if limits.shm:
        try:
            _libc_call("mount", b"none", b"/", None, MS_REC | MS_PRIVATE, None)
            options = f"size={limits.memory},nr_inodes=16384,mode=1777".encode()
            _libc_call("mount", b"tmpfs", b"/dev/shm", b"tmpfs", MS_NOSUID | MS_NODEV, options)
            verdict["shm"] = f"on: private tmpfs on /dev/shm ({_size(limits.memory)}, mode 1777)"
        except OSError as exc:
            verdict["shm"] = f"off: {_oserror(exc)}"
        verdict["run_folder"] = _private_run_folder(limits)
        if root:
            verdict["opened"] = _open_closed_folders(_needed_by_hosts())
        verdict["readonly"] = _read_only(limits)
        verdict["view"] = _view_verdict(limits, root)
    return verdict


RUN_FOLDER_INODES = 4096


def _private_run_folder(limits: Limits) -> str:
    """The run folder (``DOJO_TMPDIR``, with the run's ``TMPDIR`` in it) becomes a tmpfs of
    the job's own: what the judge and its hosts write there (ledgers, stack files,
    multiprocessing's sockets) is capped in bytes and files, and goes with the job's
    mount namespace, even if the controller is killed before it removes the folder. Only
    the job reads it: the controller gets its results through a pipe."""
    folder = os.environ.get("DOJO_TMPDIR")
    if not folder or not os.path.isdir(folder):
        return "off: no run folder"
    tmp = os.environ.get("TMPDIR") or ""
    try:
        options = f"mode=755,size={limits.fsize},nr_inodes={RUN_FOLDER_INODES}"
        _libc_call("mount", b"tmpfs", os.fsencode(folder), b"tmpfs", MS_NOSUID | MS_NODEV, options.encode())
        if tmp and _within(tmp, folder) and tmp != folder:
            os.makedirs(tmp, exist_ok=True)
            os.chmod(tmp, 0o1777)  # sticky and open to all, as the folder it covers
    except OSError as exc:
        return f"off: {_oserror(exc)}"
    return f"on: the run folder is a private tmpfs ({_size(limits.fsize)}, {RUN_FOLDER_INODES} files)"


def _read_only(limits: Limits) -> str:
    """Bind the kit, the submissions, the output, the installed packages and the cgroup
    tree read-only onto themselves in the job's mount namespace. The cgroup tree matters
    most: a host running as root could otherwise move itself out of the job's cgroup."""
    done, failed = [], []
    for path in ("/sys/fs/cgroup", *limits.readonly):
        if not os.path.isdir(path):
            continue
        try:
            _libc_call("mount", os.fsencode(path), os.fsencode(path), None, MS_BIND | MS_REC, None)
            # a remount is not recursive: each mount below (cgroup v1 has one per
            # controller) is made read-only on its own
            for point in _mounts_under(path):
                _libc_call("mount", b"none", os.fsencode(point), None, MS_BIND | MS_REMOUNT | MS_RDONLY, None)
            done.append(path)
        except OSError as exc:
            failed.append(f"{path} ({_oserror(exc)})")
    if failed:
        return f"off: could not make read-only: {', '.join(failed)}"
    return f"on: read-only in the job: {', '.join(done)}"


def _mounts_under(path: str) -> list[str]:
    """Mount points at or below ``path`` in this mount namespace, outermost first."""
    points = []
    for line in _read("/proc/self/mountinfo").splitlines():
        fields_ = line.split()
        if len(fields_) > 4:
            point = _unescape(fields_[4])
            if point == path or point.startswith(path.rstrip("/") + "/"):
                points.append(point)
    return sorted(set(points), key=len)


# Top-level folders a host keeps as they are (the system); every other one (/home, /opt,
# /srv, /work, /root, /tmp, ...) is covered in its view, with only what it needs bound back.
SYSTEM_TOPS = ("bin", "boot", "dev", "etc", "lib", "lib32", "lib64", "libx32", "proc", "run", "sbin", "sys", "usr",
               "var", "nix", "gnu", "snap")
TMP_TOPS = ("/tmp", "/var/tmp")


def _needed_by_hosts() -> list[str]:
    """What a host (and the judge) must reach: the interpreter (its prefix, the venv, the
    real executable), the folders on ``sys.path`` (the standard library, the site-packages
    dojo and its dependencies come from), dojo itself, the workspace (the sandbox starts
    there), the run's own folder and the temporary folder."""
    dojo_root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    found = [sys.base_prefix, sys.prefix, os.path.dirname(os.path.realpath(sys.executable)), dojo_root]
    found += [p for p in sys.path if p]
    found += [os.getcwd(), os.environ.get("DOJO_TMPDIR") or "", os.environ.get("TMPDIR") or "", "/tmp"]
    out = []
    for path in found:
        if not path:
            continue
        real = os.path.realpath(path)
        if os.path.isdir(real) and real not in out:
            out.append(real)
    return out


def _first_closed(path: str) -> str | None:
    """The outermost folder above ``path`` that other users may not enter."""
    parts = Path(path).parts
    for i in range(2, len(parts)):
        folder = str(Path(*parts[:i]))
        try:
            if not os.stat(folder).st_mode & stat.S_IXOTH:
                return folder
        except OSError:
            return None
    return None


def _outermost(paths) -> list[str]:
    """``paths`` without those inside another of them."""
    keep = []
    for path in sorted(set(paths), key=len):
        if not any(path == k or path.startswith(k.rstrip("/") + "/") for k in keep):
            keep.append(path)
    return keep


def _within(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def _open_closed_folders(needed: list[str]) -> str:
    """In the job's mount namespace (root, mounts private): over every folder closed to
    other users that lies on a path hosts need (pyenv's /root, mode 700), a tmpfs (mode
    755), with the needed paths bound back read-only at their own paths. The hosts' uid
    can then run the interpreter and the venv where they are (pyenv's binary has a RUNPATH
    there, a venv's pyvenv.cfg an absolute home), and sees nothing else of that folder.

    Each needed path is held by an O_PATH descriptor before its folder is covered (the
    staging point), then bound from it onto a folder made in the tmpfs (``mount --bind
    /proc/self/fd/N``), then made read-only. Returns words for the uid verdict."""
    groups: dict[str, list[str]] = {}
    for path in needed:
        closed = _first_closed(path)
        if closed:
            groups.setdefault(closed, []).append(path)
    done = []
    for closed, paths in sorted(groups.items()):
        paths = _outermost(paths)
        held = {}
        try:
            for path in paths:
                held[path] = os.open(path, os.O_PATH | os.O_DIRECTORY)
            mode = stat.S_IMODE(os.stat(closed).st_mode)
            _libc_call("mount", b"tmpfs", os.fsencode(closed), b"tmpfs", MS_NOSUID | MS_NODEV,
                       b"mode=755,size=1m,nr_inodes=1024")
            for path, fd in held.items():
                _make_folders(closed, path)
                _libc_call("mount", f"/proc/self/fd/{fd}".encode(), os.fsencode(path), None, MS_BIND | MS_REC, None)
                for point in _mounts_under(path):
                    _libc_call("mount", b"none", os.fsencode(point), None, MS_BIND | MS_REMOUNT | MS_RDONLY, None)
            _libc_call("mount", b"tmpfs", os.fsencode(closed), b"tmpfs", MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV,
                       b"mode=755")
            done.append(f"{closed} (mode {mode:o}) is an empty tmpfs in the job, with {', '.join(paths)} "
                        "bound back read-only")
        except OSError as exc:
            done.append(f"{closed} could not be opened ({_oserror(exc)})")
        finally:
            for fd in held.values():
                os.close(fd)
    return "; ".join(done)


def _make_folders(top: str, path: str) -> None:
    """``path``'s folders below ``top`` (a fresh tmpfs), each mode 755."""
    current = top
    for part in Path(path).relative_to(top).parts:
        current = os.path.join(current, part)
        if not os.path.isdir(current):
            os.mkdir(current)
        os.chmod(current, 0o755)


def _view_verdict(limits: Limits, root: bool) -> str:
    if not root:
        return "off: the grader is not root, so hosts cannot have a mount namespace of their own"
    return ("on: each host, in a mount namespace of its own, covers the kit, dojo's source tree, the submissions, "
            "other jobs' workspaces and every top-level folder but the system's (only its workspace, run folder "
            "and interpreter are bound back); /tmp is a private tmpfs; its /proc shows only its own uid's "
            "processes (hidepid=invisible)")


def _cover_point(path: str) -> str:
    """What to cover to hide ``path``: its top-level folder (``/work`` for ``/work/main``),
    so that no mount point names it; the path itself below a system folder."""
    parts = Path(path).parts
    if len(parts) < 2:
        return path
    if parts[1] in SYSTEM_TOPS:
        return os.path.dirname(path) if os.path.isfile(path) else path
    return os.path.join("/", parts[1])


def private_view(hidden, keep, limits: Limits | None = None) -> list[str]:
    """A host's own mount namespace, made as root right before the uid drop: every folder
    in ``hidden``, and every top-level folder but the system's (``SYSTEM_TOPS``), becomes
    an empty tmpfs with only the ``keep`` paths under it bound back (so the kit, dojo's
    source tree, other jobs' workspaces and any other copy of the kit on the machine are
    gone), the temporary folder becomes a private tmpfs (size-capped), and /proc shows
    only the processes of the host's own uid. Returns what was done.

    Per top-level folder T: a tmpfs is made at a staging point, the kept paths under T are
    bound into it, every mount below T is detached (the job's read-only binds of the kit
    would otherwise still be listed in /proc/self/mountinfo), and the tmpfs is moved onto T."""
    limits = limits or Limits()
    _libc_call("unshare", CLONE_NEWNS)
    _libc_call("mount", b"none", b"/", None, MS_REC | MS_PRIVATE, None)
    keep = _outermost(os.path.realpath(k) for k in keep if k and os.path.isdir(k))
    tops = {_cover_point(os.path.realpath(h)) for h in hidden if h}
    tops |= {t for t in TMP_TOPS if os.path.isdir(t)}
    try:  # every non-system top-level folder: other copies of the kit, other users' homes
        tops |= {os.path.join("/", d) for d in os.listdir("/") if d not in SYSTEM_TOPS}
    except OSError:
        pass
    system = {os.path.join("/", d) for d in SYSTEM_TOPS} | {"/"}  # never covered whole
    tops = _outermost(t for t in tops if t not in system and os.path.isdir(t) and not os.path.islink(t))
    done = []
    cwd = os.getcwd()
    for top in tops:
        under = [k for k in keep if _within(k, top) and k != top]
        if any(_within(top, k) for k in keep):
            continue  # a kept path holds it: it stays as it is
        _cover(top, under, scratch=top in TMP_TOPS, limits=limits)
        done.append(top)
    try:
        os.chdir(cwd)  # the kept workspace's new mount, not the detached one
    except OSError:
        pass
    for path in hidden:  # a hidden folder inside a kept one (the judge's, in the run folder)
        real = os.path.realpath(path) if path else ""
        if (real and os.path.isdir(real) and any(_within(real, k) for k in keep)
                and not any(_within(k, real) for k in keep)):
            _libc_call("mount", b"tmpfs", os.fsencode(real), b"tmpfs", MS_NOSUID | MS_NODEV | MS_RDONLY,
                       b"mode=755,size=4k,nr_inodes=16")
            done.append(real)
    _libc_call("mount", b"proc", b"/proc", b"proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, b"hidepid=invisible")
    return [f"covered {', '.join(done)}", "/proc hidepid=invisible"]


def _cover(top: str, keep: list[str], scratch: bool, limits: Limits) -> None:
    stage = _stage_folder(top)
    options = (f"mode=1777,size={limits.fsize},nr_inodes=4096" if scratch else "mode=755,size=1m,nr_inodes=1024")
    _libc_call("mount", b"tmpfs", os.fsencode(stage), b"tmpfs", MS_NOSUID | MS_NODEV, options.encode())
    moved = False
    try:
        for path in keep:
            inner = os.path.join(stage, os.path.relpath(path, top))
            _make_folders(stage, inner)
            _libc_call("mount", os.fsencode(path), os.fsencode(inner), None, MS_BIND | MS_REC, None)
        for point in sorted(_mounts_under(top), key=len, reverse=True):
            if point != top and not _within(point, stage):
                try:
                    _libc_call("umount2", os.fsencode(point), MNT_DETACH)
                except OSError:
                    pass  # already gone with a mount above it
        if not scratch:
            for path in os.listdir(stage):
                os.chmod(os.path.join(stage, path), 0o755)
        _libc_call("mount", os.fsencode(stage), os.fsencode(top), None, MS_MOVE, None)
        moved = True
        if not scratch:
            _libc_call("mount", b"tmpfs", os.fsencode(top), b"tmpfs", MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV,
                       b"mode=755")
    finally:
        if not moved:
            try:
                _libc_call("umount2", os.fsencode(stage), MNT_DETACH)
            except OSError:
                pass
        try:
            os.rmdir(stage)
        except OSError:
            pass


def _stage_folder(top: str) -> str:
    """An empty folder outside ``top`` to build its cover in (the job's own /dev/shm)."""
    for base in ("/dev/shm", "/run", "/mnt", "/var/tmp", "/tmp"):
        if os.path.isdir(base) and not _within(base, top) and not _within(top, base):
            try:
                path = os.path.join(base, f".dojo-stage-{os.getpid()}")
                os.mkdir(path, 0o700)
                return path
            except OSError:
                continue
    raise OSError(errno.ENOENT, f"no folder outside {top} to stage its cover in")


def _loopback_up() -> None:
    """``ip link set lo up`` without the ip binary: SIOCGIFFLAGS, set IFF_UP, SIOCSIFFLAGS."""
    import fcntl
    import socket
    import struct

    ifreq = "16sH22x"  # struct ifreq: the name, then ifr_flags in a 24-byte union
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        flags = struct.unpack(ifreq, fcntl.ioctl(s, SIOCGIFFLAGS, struct.pack(ifreq, b"lo", 0)))[1]
        fcntl.ioctl(s, SIOCSIFFLAGS, struct.pack(ifreq, b"lo", flags | IFF_UP))


def _uid_verdict(limits: Limits, slot: int, opened: str = "") -> str:
    """Can the slot's uid run this Python here? Asked by doing it: a child drops to the uid
    and starts ``sys.executable`` in the temporary folder, where workspaces are made
    (``os.access`` answers for root). ``opened``: what the job's mount namespace did to
    folders closed to other users (``_open_closed_folders``), said in the verdict."""
    uid = limits.slot_uid(slot)
    if uid is None:
        return "off: disabled (Limits.uid is None)"
    if os.geteuid() != 0:
        return "off: the grader is not root, so hosts run as the grader's own user"
    import pwd

    try:
        return f"off: uid {uid} is the account {pwd.getpwuid(uid).pw_name!r}; choose a Limits.uid no account uses"
    except KeyError:
        pass
    import tempfile

    # where grading workspaces are made (world-readable folders in the temporary folder):
    # a host starts there, whatever folder the grader was started from
    where = tempfile.gettempdir()
    code = "import os, sys; os.chdir(sys.argv[1]); import dojo"
    try:
        done = subprocess.run(
            [sys.executable, "-c", code, where],
            user=uid, group=uid, extra_groups=[], cwd="/",
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            text=True, timeout=30,
        )  # fmt: skip
        failure = None if done.returncode == 0 else (done.stderr.strip().splitlines() or [f"status {done.returncode}"])[-1]
    except (OSError, subprocess.SubprocessError) as exc:
        failure = str(exc)
    if failure is None:
        text = f"on: hosts run as uid {limits.uid} + job slot (this one: {uid}), no supplementary groups"
        return f"{text}; {opened}" if opened else text
    why = f"; tried: {opened}" if opened else " (no mount namespace of the job's own to open it in)"
    for path in (sys.executable, os.path.realpath(sys.executable), os.path.join(where, "x")):
        closed = _closed_folder(path, uid)
        if closed:
            return f"off: {path} is not reachable by uid {uid} ({closed}){why}"
    return f"off: uid {uid} cannot run {sys.executable} here: {failure}{why if opened else ''}"


def _closed_folder(path: str, uid: int) -> str | None:
    """The first folder on ``path`` that ``uid`` (gid the same) may not enter."""
    parts = Path(path).parts
    for i in range(1, len(parts)):
        folder = Path(*parts[:i])
        try:
            st = os.stat(folder)
        except OSError:
            return None
        mode = st.st_mode
        if st.st_uid == uid:
            ok = mode & stat.S_IXUSR
        elif st.st_gid == uid:
            ok = mode & stat.S_IXGRP
        else:
            ok = mode & stat.S_IXOTH
        if not ok:
            return f"{folder} is mode {stat.S_IMODE(mode):o}, not searchable by others"
    return None


# --- cgroup hierarchies ------------------------------------------------------------------


@dataclass(frozen=True)
class Hierarchy:
    version: int  # 1 or 2
    base: Path  # this process's own cgroup folder in it: job cgroups are made below


def _hierarchies(mountinfo: str, cgroup: str) -> dict[str, Hierarchy]:
    """controller -> the hierarchy that offers it to this process (v1 where it is bound
    there; a controller bound to v1 cannot be on v2 at the same time)."""
    own_v1: dict[str, str] = {}
    own_v2 = None
    for line in cgroup.splitlines():
        number, _, rest = line.partition(":")
        names, _, path = rest.partition(":")
        if number == "0" and names == "":
            own_v2 = path
        else:
            for name in names.split(","):
                own_v1[name] = path
    found: dict[str, Hierarchy] = {}
    v2_base = None
    for line in mountinfo.splitlines():
        left, _, right = line.partition(" - ")
        mount, extra = left.split(), right.split()
        if len(mount) < 5 or len(extra) < 3:
            continue
        root, point = _unescape(mount[3]), _unescape(mount[4])
        if extra[0] == "cgroup":
            options = extra[2].split(",")
            for controller in CGROUP_CONTROLLERS:
                if controller in options and controller in own_v1 and controller not in found:
                    base = _inside(point, root, own_v1[controller])
                    if base:
                        found[controller] = Hierarchy(1, base)
        elif extra[0] == "cgroup2" and own_v2 is not None and v2_base is None:
            v2_base = _inside(point, root, own_v2)
    if v2_base is not None:
        try:
            offered = _read(v2_base / "cgroup.controllers").split()
        except OSError:
            offered = []
        for controller in CGROUP_CONTROLLERS:
            if controller not in found and controller in offered:
                found[controller] = Hierarchy(2, v2_base)
    return found


def _bases() -> list[Path]:
    try:
        found = _hierarchies(_read("/proc/self/mountinfo"), _read("/proc/self/cgroup"))
    except OSError:
        return []
    return list(dict.fromkeys(h.base for h in found.values()))


def _inside(point: str, root: str, own: str) -> Path | None:
    """Where cgroup ``own`` is, given a mount of the hierarchy's ``root`` at ``point``."""
    if root == "/":
        rel = own
    elif own == root or own.startswith(root.rstrip("/") + "/"):
        rel = own[len(root) :]
    else:
        return None  # our cgroup is not visible through this mount
    return Path(point) / rel.lstrip("/")


def _unescape(field: str) -> str:
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m[1], 8)), field)


def _members(path: Path) -> list[int]:
    try:
        return [int(p) for p in _read(path / "cgroup.procs").split()]
    except (OSError, ValueError):
        return []


def _rmdir(path: Path) -> bool:
    try:
        path.rmdir()
        return True
    except FileNotFoundError:
        return True
    except OSError:
        return False


# --- small helpers -----------------------------------------------------------------------


def _linux() -> bool:
    return sys.platform.startswith("linux")


def _read(path) -> str:
    with open(path, encoding="utf-8") as f:
        return f.read()


def _write(path, text: str, quiet: bool = False) -> None:
    try:
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
    except OSError:
        if not quiet:
            raise


def _start_time(pid: int) -> int | None:
    """Field 22 of /proc/<pid>/stat: when the process started, in clock ticks after boot."""
    try:
        text = _read(f"/proc/{pid}/stat")
        return int(text[text.rindex(")") + 2 :].split()[19])
    except (OSError, ValueError, IndexError):
        return None


_LIBC = None


def _libc_call(name: str, *args) -> None:
    """Call a libc function that returns 0 or -1/errno (unshare, mount): os.unshare is 3.12+."""
    global _LIBC
    if _LIBC is None:
        _LIBC = ctypes.CDLL(None, use_errno=True)
    fn = getattr(_LIBC, name)
    converted = [ctypes.c_ulong(a) if isinstance(a, int) and name == "mount" else a for a in args]
    if fn(*converted) != 0:
        code = ctypes.get_errno()
        raise OSError(code, f"{name}: {os.strerror(code)}")


def _prctl(option: int, value: int) -> None:
    try:
        _libc_call("prctl", option, value, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _oserror(exc: OSError) -> str:
    if exc.filename:
        return f"{exc.strerror}: {exc.filename}"
    return exc.strerror or str(exc)


def _size(n: int) -> str:
    for unit, scale in (("GiB", GiB), ("MiB", MiB)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{n} bytes"


if __name__ == "__main__":
    sys.exit(main())
