"""One Process subclass per start method, made the same way for every toolkit context.

A toolkit context hands learner code processes that do something besides their target
(wait at a gate, write a journal, count a send). Each needs a subclass of every start
method's own Process class, at module level under a stable name, so that a spawn or
forkserver child can unpickle its process object; and each keeps multiprocessing's class
name as ``__name__``, so that default process names read ``ForkProcess-1`` as the
learner's own program would print them. Standard library only.
"""

from __future__ import annotations

from multiprocessing import context as _context

METHODS = (("fork", "ForkProcess"), ("spawn", "SpawnProcess"), ("forkserver", "ForkServerProcess"))


def process_classes(mixin: type, prefix: str, namespace: dict) -> dict:
    """``{start method: class}`` for the start methods this platform has (Windows: spawn
    only). Class ``prefix + "ForkProcess"`` (and so on) is ``mixin`` first, then the
    start method's Process class; it is also put into ``namespace``, the calling
    module's ``globals()``, where unpickling looks for it."""
    made = {}
    for method, name in METHODS:
        base = getattr(_context, name, None)
        if base is None:
            continue
        cls = type(f"{prefix}{name}", (mixin, base), {"__module__": namespace["__name__"]})
        cls.__qualname__ = f"{prefix}{name}"
        cls.__name__ = name  # default names: "ForkProcess-1", as without the toolkit
        namespace[cls.__qualname__] = cls
        made[method] = cls
    return made
