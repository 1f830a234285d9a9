"""The judge and the Manager servers its tests start, in grading mode.

A test may start a Manager (``mp_context.Manager()``) and hand its proxies to the kata:
a pool's workers must reach what the test observes. Whoever holds a proxy holds the
server's address and authentication key, so learner code can talk to that server
directly, and a server unpickles whatever it is sent. Two rules keep that from reaching
further than learner code already reaches:

    judge (root, the kit in sight)            Manager server started by a test
      reads proxies: only plain data  <────    confined as a host is, before it serves:
      (PlainUnpickler, refuses any class         rlimits, private view, the job's uid
       but a few builtins and exceptions)        (sandbox.enter_host); an abstract socket
                                                 address both ends reach

- every Manager the judge starts runs ``hosting.confine_server`` first, so
  code a learner gets the server to run runs as the learner's own code does.
- ``judge_reads_plain``: everything the judge itself unpickles from another process
  (proxy replies, queues) may hold plain data and exceptions only. A server the learner
  took over could otherwise send the judge a pickle that runs code as the judge.

Both are in force only in the judge's own process (its children, forked with the patch,
unpickle as usual) and are undone at the end of the session.
"""

from __future__ import annotations

import builtins
import io
import os
import pickle
import secrets

from multiprocessing import managers, reduction

from dojo import hosting

# Classes a pickle from another process may name when the judge reads it: containers
# pickle builds from these, the exceptions a proxy call may carry back.
PLAIN = {
    ("builtins", name)
    for name in ("bool", "int", "float", "complex", "str", "bytes", "bytearray", "list", "tuple", "dict", "set",
                 "frozenset", "slice", "range")
} | {
    ("builtins", name)
    for name, value in vars(builtins).items()
    if isinstance(value, type) and issubclass(value, BaseException)
} | {
    ("multiprocessing.managers", "Token"),
    ("multiprocessing.managers", "RemoteError"),
}


class NotPlain(pickle.UnpicklingError):
    """What another process sent the judge names a class the judge does not read."""


class PlainUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) in PLAIN:
            return super().find_class(module, name)
        raise NotPlain(
            f"another process sent the judge a pickle naming {module}.{name}; in grading the judge reads only "
            "plain data (numbers, text, lists, tuples, dicts, sets) and exceptions from the processes a test starts"
        )

    def persistent_load(self, pid):
        raise NotPlain("another process sent the judge a pickle with a persistent id")


def plain_loads(data, /, *, fix_imports=True, encoding="ASCII", errors="strict", buffers=()):
    return PlainUnpickler(io.BytesIO(data), fix_imports=fix_imports, encoding=encoding, errors=errors,
                          buffers=buffers).load()


_installed: dict = {}


def install(spec: dict) -> None:
    """In the judge: read only plain data from other processes; with ``spec["limits"]``,
    confine every Manager server the judge starts as a host (``spec``: limits, slot, root,
    toolkit, private_fds, as ``hosting.Hosts`` gives a host)."""
    if _installed:
        return
    judge = os.getpid()
    loads = reduction.ForkingPickler.__dict__["loads"]
    start = managers.BaseManager.start
    original = loads.__func__ if isinstance(loads, staticmethod) else loads

    def guarded_loads(data, /, **kwargs):
        if os.getpid() == judge:
            return plain_loads(data, **kwargs)
        return original(data, **kwargs)

    def confined_start(self, initializer=None, initargs=()):
        if os.getpid() == judge and spec.get("limits") is not None:
            if self._address is None and _abstract_sockets():
                # The server's own temporary folder is out of the judge's sight once it
                # has a view of its own: listen where every process of the job can reach.
                self._address = f"\0dojo-manager-{judge}-{secrets.token_hex(8)}"
            forked = self._ctx.get_start_method() == "fork"  # only a fork child has the judge's descriptors
            own = dict(spec, private_fds=list(spec.get("private_fds", ())) if forked else [])
            initargs = (own, initializer, tuple(initargs))
            initializer = hosting.confine_server  # a module a spawned server can import
        return start(self, initializer, initargs)

    _installed.update(loads=loads, start=start)
    reduction.ForkingPickler.loads = staticmethod(guarded_loads)
    managers.BaseManager.start = confined_start


def uninstall() -> None:
    if not _installed:
        return
    reduction.ForkingPickler.loads = _installed["loads"]
    managers.BaseManager.start = _installed["start"]
    _installed.clear()


def _abstract_sockets() -> bool:
    from multiprocessing import util

    return bool(getattr(util, "abstract_sockets_supported", False))
