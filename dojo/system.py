"""The platform layer: every operating-system means the learner side uses, in one place.

Each means is a module attribute, read when it is used (``system.STACK_SIGNAL``, never
``from dojo.system import STACK_SIGNAL``), so that dojo's own tests can take one away
(``selftest/test_seams.py``) and see the learner path run the way it does on a system
that lacks it. What each is, where it exists, and what dojo does without it:

    FORK          os.fork: the fork and forkserver start methods, the warm runner.
                  Linux, macOS. Without: spawn only; every run starts a fresh pytest.
    ALARM         SIGALRM and setitimer: a hanging test fails on the spot and the run
                  goes on. Linux, macOS. Without (Windows): pytest-timeout's thread
                  method ends the run after killing the test's processes; the runner
                  starts a new run after the test that hung.
    STACK_SIGNAL  SIGUSR1: ask a running process for its stacks (faulthandler).
                  Linux, macOS. Without: a run dumps its stacks itself
                  (faulthandler.dump_traceback_later) shortly before the controller's
                  wall limit, where there is no fork to spoil with the watchdog thread
                  (Windows); elsewhere it is killed with no stacks. A test's own
                  timeout still names the line either way.
    PROC          /proc: memory maps, sockets and cgroups of processes. Linux. Without:
                  process trees come from psutil alone; which /dev/shm objects are still
                  mapped, and which process holds a socket, is not known.
    AFFINITY      sched_getaffinity / sched_setaffinity. Linux. Without:
                  os.process_cpu_count() (3.13+) or os.cpu_count(); a test that narrows
                  the CPUs a kata may use says it cannot here.
    SHM_DIR       a listable /dev/shm. Linux. Without: leaks of shared memory come from
                  the resource tracker's records alone (macOS: shm_open names are not
                  files; Windows: the system frees a mapping with its last handle).
    SUBREAPER     prctl(PR_SET_CHILD_SUBREAPER): orphaned descendants stay ours. Linux.
                  Without: a process that left with setsid() and lost its parent is not
                  found by ancestry.
    SESSIONS      setsid and killpg: a run in a session of its own, killed as a group.
                  POSIX. Without (Windows): the run's tree is killed through psutil.

``missing()`` lists what this system lacks, for ``dojo doctor``. Standard library only:
the test-side toolkit imports this module.
"""

from __future__ import annotations

import os
import signal
import sys

LINUX = sys.platform.startswith("linux")
WINDOWS = sys.platform == "win32"

FORK = hasattr(os, "fork") and not WINDOWS
ALARM = hasattr(signal, "SIGALRM") and hasattr(signal, "setitimer")
STACK_SIGNAL = getattr(signal, "SIGUSR1", None)
PROC = os.path.isfile("/proc/self/maps")
AFFINITY = hasattr(os, "sched_getaffinity") and hasattr(os, "sched_setaffinity")
SHM_DIR = "/dev/shm" if os.path.isdir("/dev/shm") else None
SUBREAPER = LINUX
SESSIONS = hasattr(os, "setsid") and hasattr(os, "killpg")

PR_SET_CHILD_SUBREAPER = 36
PR_SET_DUMPABLE = 4


# The names katas.toml uses for them (``[kata.without.<means>]``).
MEANS = ("fork", "alarm", "stack_signal", "proc", "affinity", "shm_dir", "subreaper", "sessions")


def has(means: str) -> bool:
    """Whether this system has ``means`` (one of MEANS), as the layer sees it now."""
    found = {
        "fork": FORK, "alarm": ALARM, "stack_signal": STACK_SIGNAL is not None, "proc": PROC,
        "affinity": AFFINITY, "shm_dir": SHM_DIR is not None, "subreaper": SUBREAPER, "sessions": SESSIONS,
    }
    if means not in found:
        raise ValueError(f"unknown means {means!r} (known: {', '.join(MEANS)})")
    return found[means]


def start_methods() -> list[str]:
    """The multiprocessing start methods this system has, in multiprocessing's order."""
    import multiprocessing

    methods = multiprocessing.get_all_start_methods()
    if not FORK:
        methods = [m for m in methods if m not in ("fork", "forkserver")]
    return methods


def cpus() -> int:
    """CPUs this process may run on: its affinity where there is one, else what Python
    3.13+ says this process may use, else the machine's count."""
    if AFFINITY:
        return len(os.sched_getaffinity(0))
    count = getattr(os, "process_cpu_count", os.cpu_count)()
    return count or 1


def cpu_set() -> set[int]:
    """The CPUs this process may run on (the machine's, where there is no affinity)."""
    if AFFINITY:
        return set(os.sched_getaffinity(0))
    return set(range(os.cpu_count() or 1))


def prctl(option: int, value: int) -> bool:
    """Linux's prctl(option, value); False where there is none or it refused."""
    if not SUBREAPER:
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(option, value, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def new_session() -> dict:
    """``subprocess.Popen`` arguments that start a child in a session (or, on Windows, a
    process group) of its own."""
    if SESSIONS:
        return {"start_new_session": True}
    if WINDOWS:
        import subprocess

        return {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}
    return {}


def on_quit_signals(handler) -> None:
    """Call ``handler(signum, frame)`` when this process is asked to end: SIGTERM, and
    SIGHUP where there is one (the terminal was closed). Windows has neither to catch
    (closing the console ends the process); SIGINT stays Python's KeyboardInterrupt."""
    for name in ("SIGTERM", "SIGHUP"):
        number = getattr(signal, name, None)
        if number is not None and not WINDOWS:
            signal.signal(number, handler)


# Keys that are not characters, by name: what Keys.read gives for them.
_ESCAPES = {"[A": "up", "[B": "down", "[C": "right", "[D": "left", "OA": "up", "OB": "down", "OC": "right",
            "OD": "left", "[5~": "pageup", "[6~": "pagedown", "[H": "home", "[F": "end"}
_WINDOWS_KEYS = {"H": "up", "P": "down", "M": "right", "K": "left", "I": "pageup", "Q": "pagedown", "G": "home",
                 "O": "end"}
_NAMED = {"\r": "enter", "\n": "enter", "\x1b": "esc", "\x7f": "backspace", "\x08": "backspace"}


class Keys:
    """Key presses from the terminal, without Enter: ``with Keys() as keys:``, then
    ``keys.read(timeout)`` gives one character, a key's name ("up", "down", "left",
    "right", "pageup", "pagedown", "home", "end", "enter", "esc", "backspace") or None.
    POSIX: the terminal in cbreak mode (restored on exit), arrows read as the escape
    sequences terminals send; Windows: msvcrt, arrows as its two-character codes."""

    def __enter__(self) -> "Keys":
        self._old = None
        self._pending = ""
        if not WINDOWS:
            import termios
            import tty

            self._fd = sys.stdin.fileno()
            self._old = termios.tcgetattr(self._fd)
            tty.setcbreak(self._fd)
        return self

    def read(self, timeout: float = 0.2) -> str | None:
        ch = self._raw(timeout)
        if ch is None:
            return None
        if WINDOWS and ch in ("\x00", "\xe0"):  # a function or arrow key: its code follows
            return _WINDOWS_KEYS.get(self._raw(0.05) or "", None)
        if ch == "\x1b":
            seq = self._raw(0.03) or ""
            if seq not in ("[", "O"):  # Esc alone, or Esc and then a key typed quickly
                self._pending = seq
                return "esc"
            # A CSI sequence ends at its final byte (@ to ~); an SS3 one after one character.
            while (more := self._raw(0.03)) is not None:
                seq += more
                if seq[0] == "O" or "@" <= more <= "~":
                    break
            return _ESCAPES.get(seq)  # None: a key we do not use (F-keys, with modifiers)
        return _NAMED.get(ch, ch)

    def _raw(self, timeout: float) -> str | None:
        if self._pending:
            ch, self._pending = self._pending[0], self._pending[1:]
            return ch
        if WINDOWS:
            import msvcrt
            import time

            deadline = time.monotonic() + timeout
            while True:
                if msvcrt.kbhit():
                    return msvcrt.getwch()
                if time.monotonic() >= deadline:
                    return None
                time.sleep(0.02)
        import select

        ready, _, _ = select.select([self._fd], [], [], timeout)
        if not ready:
            return None
        data = os.read(self._fd, 1)
        if data and data[0] >= 0xC0:  # the first byte of a UTF-8 character (한, é): the rest follow
            need = 1 if data[0] < 0xE0 else 2 if data[0] < 0xF0 else 3
            while need and (more := os.read(self._fd, need)):
                data, need = data + more, need - len(more)
        return data.decode(errors="ignore") or None

    def __exit__(self, *exc) -> None:
        if self._old is not None:
            import termios

            termios.tcsetattr(self._fd, termios.TCSADRAIN, self._old)


def missing() -> list[tuple[str, str]]:
    """(means, what is weaker without it) for each means this system lacks."""
    gaps = []
    if not FORK:
        gaps.append(("fork", "spawn is the only start method; every run starts a fresh pytest"))
    if not ALARM:
        gaps.append(("SIGALRM", "a test that hangs has its processes killed and ends its pytest run; dojo starts "
                                "a new run with the tests after it"))
    if STACK_SIGNAL is None:
        gaps.append(("SIGUSR1", "a run stopped at its wall limit shows the stacks it dumped itself a second "
                                "before" if not FORK else "a run stopped at its wall limit shows no stacks"))
    if not PROC:
        gaps.append(("/proc", "which shared-memory objects are still mapped, and which process holds a socket, "
                              "is not known"))
    if not AFFINITY:
        gaps.append(("CPU affinity", "tests that narrow the CPUs a kata may use cannot run"))
    if SHM_DIR is None:
        gaps.append(("/dev/shm", "shared-memory leaks come from the resource tracker's records alone"))
    if not SUBREAPER:
        gaps.append(("subreaper", "a process that escaped with setsid() and lost its parent may outlive a run"))
    if not SESSIONS:
        gaps.append(("sessions", "a run's processes are killed one by one through psutil, not as a group"))
    return gaps
