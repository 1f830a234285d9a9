"""Process trees and /dev/shm objects: the guards' side of the platform layer.

Trees come from psutil on every system. The means that only some systems have
(``/proc``, a listable ``/dev/shm``, ``prctl``, CPU affinity) are asked of
``dojo.system``, and every function here degrades to "nothing found" (or to the
resource tracker's records) where its means does not exist.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import psutil

from dojo import system

# What multiprocessing creates there: SharedMemory segments ("psm_"), named semaphores
# of spawn/forkserver contexts ("sem.mp-"), and the Windows-style names of other tools.
SHM_PREFIXES = ("psm_", "sem.mp-", "wnsm_", "mp-")


def set_subreaper() -> bool:
    """Make this process adopt its orphaned descendants.

    A learner's process that calls ``setsid()`` leaves our process group, and one whose
    parent died is re-parented to init; as a subreaper we stay their ancestor, so the
    guard still finds and kills them.
    """
    return system.prctl(system.PR_SET_CHILD_SUBREAPER, 1)


def set_dumpable(on: bool) -> bool:
    """PR_SET_DUMPABLE: a process that is not dumpable can be traced, and its /proc files
    (memory, descriptors) opened, only by a process with CAP_SYS_PTRACE. Reset at exec."""
    return system.prctl(system.PR_SET_DUMPABLE, 1 if on else 0)


def infrastructure_pids() -> set[int]:
    """Processes alive by design while the session lives: forkserver, resource tracker."""
    pids = set()
    try:
        from multiprocessing import forkserver

        pid = getattr(forkserver._forkserver, "_forkserver_pid", None)
        if pid:
            pids.add(pid)
    except Exception:  # pragma: no cover - private API moved
        pass
    try:
        from multiprocessing import resource_tracker

        pid = getattr(resource_tracker._resource_tracker, "_pid", None)
        if pid:
            pids.add(pid)
    except Exception:  # pragma: no cover - private API moved
        pass
    return pids


def has_children() -> bool | None:
    """Whether this process has any child at all, live or zombie, asked of the kernel
    without reaping anything (waitid with WNOWAIT); None where it cannot tell (Windows).
    No child means no descendant: an orphan adopted by a subreaper is its child. Cheap,
    unlike listing every process of the machine to find ours."""
    waitid = getattr(os, "waitid", None)
    if waitid is None:
        return None
    try:
        waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:
        return False
    except OSError:
        return None
    return True


def descendants(pid: int | None = None) -> list[psutil.Process]:
    """Every live or zombie descendant, except the session's infrastructure processes."""
    if (pid is None or pid == os.getpid()) and has_children() is False:
        return []
    try:
        procs = psutil.Process(pid or os.getpid()).children(recursive=True)
    except psutil.Error:
        return []
    infra = infrastructure_pids()
    if pid is None or pid == os.getpid():
        return [p for p in procs if p.pid not in infra]
    # below another process (a grading host): its own servers are infrastructure too
    return [p for p in procs if p.pid not in infra and not is_mp_server(p, pid)]


# multiprocessing's own servers, started on demand by whichever process first needs one (a
# grading host starts its own fork server): alive by design, gone when their starter is.
_MP_SERVERS = (
    "from multiprocessing.forkserver import main",
    "from multiprocessing.resource_tracker import main",
    "from dojo.tracker import main",
)


def is_mp_server(proc: psutil.Process, starter: int) -> bool:
    """A fork server or resource tracker that ``starter`` started for itself. (A process a
    fork server forked shows its server's command line too, but its parent is the server.)"""
    try:
        if proc.ppid() != starter:
            return False
        command = " ".join(proc.cmdline()[:4])
    except psutil.Error:
        return False
    return any(marker in command for marker in _MP_SERVERS)


def describe(proc: psutil.Process) -> str:
    try:
        with proc.oneshot():
            status = proc.status()
            cmd = " ".join(proc.cmdline()[:4]) or proc.name()
        return f"pid {proc.pid} ({status}): {cmd}"[:160]
    except psutil.Error:
        return f"pid {proc.pid} (gone)"


def is_zombie(proc: psutil.Process) -> bool:
    try:
        return proc.status() == psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def kill_tree(procs: list[psutil.Process], grace: float = 1.0) -> None:
    """SIGTERM, wait up to ``grace`` seconds, then SIGKILL whatever is left; reap ours."""
    alive = [p for p in procs if not is_zombie(p)]
    for p in alive:
        _signal(p, signal.SIGTERM)
    _, still = psutil.wait_procs(alive, timeout=grace)
    for p in still:
        _signal(p, signal.SIGKILL)
    psutil.wait_procs(still, timeout=grace)
    reap_children()


def kill_descendants(grace: float = 0.5) -> list[str]:
    """Kill every descendant (infrastructure aside); return what was found, described."""
    procs = descendants()
    found = [describe(p) for p in procs]
    if procs:
        kill_tree(procs, grace)
    return found


def unjoined_children() -> dict:
    """pid -> name of multiprocessing children this process started and never joined."""
    from multiprocessing import process

    return {
        p.pid: p.name
        for p in list(getattr(process, "_children", ()))
        if getattr(p, "_popen", None) is not None and p._popen.returncode is None
    }


def reap_children() -> None:
    """Collect exit statuses so that no child of ours stays a zombie.

    multiprocessing's own children are joined through multiprocessing (reaping them with
    waitpid behind its back would leave their Process objects waiting forever).
    """
    import multiprocessing

    multiprocessing.active_children()
    if has_children() is False:
        return
    known = {p.pid for p in multiprocessing.active_children()}
    try:
        children = psutil.Process().children()
    except psutil.Error:
        return
    for child in children:
        if child.pid in known or child.pid in infrastructure_pids():
            continue
        if is_zombie(child):
            try:
                os.waitpid(child.pid, os.WNOHANG)
            except ChildProcessError:
                pass


def _signal(proc: psutil.Process, sig: int) -> None:
    try:
        proc.send_signal(sig)
    except psutil.Error:
        pass


def shm_names() -> set[str]:
    """multiprocessing's objects in /dev/shm right now (none known where it cannot be listed)."""
    if system.SHM_DIR is None:
        return set()
    try:
        return {n for n in os.listdir(system.SHM_DIR) if n.startswith(SHM_PREFIXES)}
    except OSError:
        return set()


def shm_existing(names) -> set[str]:
    """Which of ``names`` (from a tracker's ledger: any name a program chose, not only
    multiprocessing's own) exist in /dev/shm right now. Nothing else there is looked at.
    Where /dev/shm cannot be listed, the ledger is all there is: every name is taken to
    exist (a tracker records each unlink that multiprocessing makes)."""
    names = {n for n in names if "/" not in n and n not in ("", ".", "..")}
    if system.SHM_DIR is None:
        return names
    return {n for n in names if os.path.exists(os.path.join(system.SHM_DIR, n))}


def shm_in_use(names: set[str]) -> set[str]:
    """Which of ``names`` some live process still maps (none known without /proc).

    Compared by inode, not by path: glibc's sem_open maps a temporary file and only then
    links it under its ``sem.`` name, so a live semaphore's mapping never shows its name.
    """
    if not names or not system.PROC or system.SHM_DIR is None:
        return set()
    by_inode = {}
    for name in names:
        try:
            by_inode[str(os.stat(os.path.join(system.SHM_DIR, name)).st_ino)] = name
        except OSError:
            continue
    used = set()
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/maps", encoding="utf-8", errors="replace") as maps:
                for line in maps:
                    if "/dev/shm/" in line:
                        inode = line.split(None, 5)[4]
                        if inode in by_inode:
                            used.add(by_inode[inode])
        except (OSError, IndexError):
            continue
    return used


def remove_shm(name: str) -> bool:
    """Unlink a leaked object and tell the resource tracker it is gone, so that it does
    not warn about it again at exit. False if it was already gone. Where /dev/shm is not
    a folder, through shm_unlink / sem_unlink, as the tracker itself would."""
    semaphore = name.startswith("sem.")
    tracked = "/" + (name[4:] if semaphore else name)
    try:
        if system.SHM_DIR is not None:
            os.unlink(os.path.join(system.SHM_DIR, name))
        elif semaphore:
            import _multiprocessing

            _multiprocessing.sem_unlink(tracked)
        else:
            import _posixshmem

            _posixshmem.shm_unlink(tracked)
    except (OSError, ImportError, AttributeError):
        return False
    try:
        from multiprocessing import resource_tracker

        if resource_tracker._resource_tracker._fd is not None:
            resource_tracker.unregister(tracked, "semaphore" if semaphore else "shared_memory")
    except Exception:  # pragma: no cover - best effort
        pass
    return True


def wait_until(predicate, timeout: float, step: float = 0.005) -> bool:
    """Poll ``predicate`` until it holds or ``timeout`` passes (used only where the OS gives
    no event to wait on, such as another process's exit status)."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(step)


def usable_cpus(proc_self: Path = Path("/proc/self"), cgroup_root: Path = Path("/sys/fs/cgroup")) -> int:
    """How many CPUs this process may really use: its affinity, capped by a cgroup CPU quota.

    ``os.cpu_count()`` counts the host's CPUs, and affinity alone misses ``docker --cpus``
    and the quotas of grading containers; sizing a pool from them oversubscribes the box.
    The quota is the tightest ``cpu.max`` (v2) or ``cpu.cfs_quota_us`` (v1) on the way
    from this process's cgroup up to the root, rounded up to whole CPUs.
    """
    cpus = system.cpus()
    quota = _cgroup_cpu_quota(proc_self, cgroup_root)
    if quota is not None:
        cpus = min(cpus, quota)
    return max(cpus, 1)


def _cgroup_cpu_quota(proc_self: Path, cgroup_root: Path) -> int | None:
    try:
        lines = (proc_self / "cgroup").read_text().splitlines()
    except OSError:
        return None
    folders = []  # (folder, how to read its quota)
    for line in lines:
        _, controllers, path = line.split(":", 2)
        rel = path.lstrip("/")
        if controllers == "":
            folders += [(f, _v2_quota) for f in _up_to(cgroup_root, cgroup_root / rel)]
        elif "cpu" in controllers.split(","):
            for mount in (cgroup_root / controllers, cgroup_root / "cpu", cgroup_root / "cpu,cpuacct"):
                if mount.is_dir():
                    folders += [(f, _v1_quota) for f in _up_to(mount, mount / rel)]
                    break
    quotas = [q for folder, read in folders if (q := read(folder)) is not None]
    return min(quotas) if quotas else None


def _up_to(root: Path, folder: Path) -> list[Path]:
    """``folder`` and its parents up to ``root``; where the folder is not mounted here (a
    container sees its own cgroup as the root), the root alone."""
    if not folder.is_dir():
        return [root]
    chain = [folder]
    while chain[-1] != root and root in chain[-1].parents:
        chain.append(chain[-1].parent)
    return chain


def _v2_quota(folder: Path) -> int | None:
    try:
        quota, period = (folder / "cpu.max").read_text().split()
    except (OSError, ValueError):
        return None
    return None if quota == "max" else _whole_cpus(int(quota), int(period))


def _v1_quota(folder: Path) -> int | None:
    try:
        quota = int((folder / "cpu.cfs_quota_us").read_text())
        period = int((folder / "cpu.cfs_period_us").read_text())
    except (OSError, ValueError):
        return None
    return None if quota <= 0 else _whole_cpus(quota, period)


def _whole_cpus(quota: int, period: int) -> int:
    return max(-(-quota // period), 1) if period > 0 else 1
