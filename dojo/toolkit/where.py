"""Where is this code running? Plain facts about the current process. Standard library only.

Probes that tests hand to learner code (dojo.toolkit.gates, dojo.toolkit.traced) call ``here()``
from inside a task and record the answer, so a test can tell afterwards whether the work
ran in a worker process, which start method made that process, and whether it ran in a
thread of someone else's process.
"""

from __future__ import annotations

import multiprocessing
import os
import threading

# The Process classes of the three contexts: a process knows which one started it.
_METHOD_OF_CLASS = {"ForkProcess": "fork", "SpawnProcess": "spawn", "ForkServerProcess": "forkserver"}


def start_method() -> str:
    """The start method that made the current process.

    A process started through ``get_context(m)`` (a Pool's or an executor's worker too) is
    an instance of that context's Process class. One started through the module's default
    context (``multiprocessing.Process``, ``ProcessPoolExecutor()`` without mp_context) is
    a plain ``Process``: "default:<method>" says so, and which method that default was.
    The main process of a program says "main".
    """
    cls = type(multiprocessing.current_process()).__name__
    if cls in _METHOD_OF_CLASS:
        return _METHOD_OF_CLASS[cls]
    if cls == "_MainProcess":
        return "main"
    return f"default:{multiprocessing.get_start_method()}"


def here() -> dict:
    """``{"pid", "method", "thread"}``: this process, the start method that made it, and
    "main" or the name of the thread the code runs in."""
    thread = threading.current_thread()
    return {
        "pid": os.getpid(),
        "method": start_method(),
        "thread": "main" if thread is threading.main_thread() else thread.name,
    }


def timeout_scale() -> float:
    """DOJO_TIMEOUT_SCALE, as the plugin reads it: stretches every patience on a slow machine."""
    try:
        return max(float(os.environ.get("DOJO_TIMEOUT_SCALE", "1") or 1), 0.1)
    except ValueError:
        return 1.0
