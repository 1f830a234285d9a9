"""Traced inputs: numbers (and non-numbers) that record where they were computed, and
exceptions that record where they arrived. Standard library only.

    test:    tracer = Tracer(manager)                 log: a Manager list
             numbers = [tracer.number(16), tracer.number(-1), tracer.number("nine")]
    kata:    executor.submit(square_root, x)  ──pickled──> worker: math.sqrt(x)
             worker: math.sqrt reads x through x.__float__()   log: ("computed", x, where)
                     16 -> 16.0 -> 4.0 (a plain float)
                     -1, "nine": __float__ raises a ValueError / TypeError whose pickled
                     form is a receipt ──pickled──> caller: future.result() side
             caller: unpickling the receipt                    log: ("arrived", x, type, where)
                     gives back a ValueError / TypeError (the builtin's subclass, named like it)
             caller: the pool rebuilds it as a RAISED exception: _rebuild_exc() sets its
                     __cause__ to the worker's traceback  log: ("rebuilt", x, type, where)
                     (an exception the worker caught and RETURNED arrives as a value:
                     nothing rebuilds it, so it "arrives" but is never "rebuilt")
    test:    tracer.computed(), tracer.arrived(), tracer.rebuilt()  ->  plain data

A traced number is an int (or str) subclass: equal to, hashed like and printed like the
plain value, so it works as a dict key and comes back from a grading host as plain data.
math.sqrt() of an int subclass reads it through ``__float__``, so the trace sees exactly
where square_root(x) ran (``where.here()``: pid, start method, thread). The exceptions it
raises are ValueError, TypeError and OverflowError by name and by class
(``type(exc).__name__`` in the worker says "ValueError" too), the same messages math.sqrt
gives; the caller receives a subclass of the builtin exception named like it
(``type(exc).__name__ == "ValueError"``, ``isinstance(exc, ValueError)``; pickled again it
becomes the builtin itself). An exception that is caught inside the worker and dropped is
never pickled, so it never "arrives"; one that the worker returns as a value arrives but is
never "rebuilt": both ProcessPoolExecutor and multiprocessing.Pool send a raised exception
wrapped with its traceback, and unwrap it by setting ``exc.__cause__`` to a
(_)RemoteTraceback, which the arrived exception notices. That is how a test tells "raised
in the worker and carried back by the pool" from "swallowed in the worker" and from
"returned as a value".

Nothing here waits: it only records.
"""

from __future__ import annotations

import builtins

from dojo.toolkit.where import here

MAX_FLOAT_INT = 2**1024  # ints from here on cannot become a float: OverflowError


class Tracer:
    """Makes traced inputs that share one log (a Manager list)."""

    def __init__(self, manager):
        self._log = manager.list()

    def number(self, value, shown: str | None = None):
        """A traced ``value`` (an int or a str; ``shown`` is how it prints, e.g. "2**1024")."""
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise TypeError("trace ints or strs")
        cls = TracedStr if isinstance(value, str) else TracedInt
        return cls._make(value, self._log, shown)

    def computed(self) -> list:
        """``[(x, {"pid", "method", "thread"}), ...]``: each time square_root read a traced x."""
        return [(key, where) for kind, key, _, where in self._records() if kind == "computed"]

    def arrived(self) -> list:
        """``[(x, type_name, {"pid", ...}), ...]``: each time the exception a traced x raised
        was unpickled, i.e. arrived in another process."""
        return [(key, name, where) for kind, key, name, where in self._records() if kind == "arrived"]

    def rebuilt(self) -> list:
        """``[(x, type_name, {"pid", ...}), ...]``: each time the pool handed the exception a
        traced x raised back as a raised exception (it set the remote traceback as its
        cause), and where."""
        return [(key, name, where) for kind, key, name, where in self._records() if kind == "rebuilt"]

    def _records(self):
        return [(kind, key, name, dict(where)) for kind, key, name, where in self._log]


class _Traced:
    """What TracedInt and TracedStr share: the log travels with the value."""

    def _init(self, log, shown):
        self._log = log
        self._shown = shown
        return self

    def __reduce__(self):
        return (_rebuild, (type(self).__name__, self._plain(), self._log, self._shown))

    def __repr__(self):
        return self._shown or repr(self._plain())

    __str__ = __repr__

    def _record_computed(self):
        self._log.append(("computed", self._plain(), None, here()))


class TracedInt(_Traced, int):
    @classmethod
    def _make(cls, value, log, shown):
        return int.__new__(cls, value)._init(log, shown)

    def _plain(self):
        return int(self)

    def __str__(self):
        return self._shown or int.__repr__(self)

    def __float__(self):
        self._record_computed()
        value = int(self)
        if value < 0:
            raise _travelling("ValueError", "math domain error", self._log, value)
        if abs(value) >= MAX_FLOAT_INT:
            raise _travelling("OverflowError", "int too large to convert to float", self._log, value)
        return float(value)


class TracedStr(_Traced, str):
    @classmethod
    def _make(cls, value, log, shown):
        return str.__new__(cls, value)._init(log, shown)

    def _plain(self):
        return str.__str__(self)

    def __str__(self):
        return str.__str__(self)

    def __float__(self):
        # A plain str has no __float__, and math.sqrt("nine") raises exactly this.
        self._record_computed()
        raise _travelling("TypeError", "must be real number, not str", self._log, self._plain())


def _rebuild(cls_name, value, log, shown):
    cls = TracedStr if cls_name == "TracedStr" else TracedInt
    return cls._make(value, log, shown)


# --- exceptions that say where they arrive --------------------------------------------------


def _travelling_class(name):
    base = getattr(builtins, name)

    def __reduce__(self):
        return (_arrived, (name, self.args, self._dojo_log, self._dojo_key))

    # Named like its base, so type(exc).__name__ is "ValueError" wherever it is looked at.
    return type(name, (base,), {"__reduce__": __reduce__, "__module__": "builtins", "__qualname__": name})


_CLASSES = {name: _travelling_class(name) for name in ("ValueError", "TypeError", "OverflowError")}


def _travelling(name, message, log, key):
    exc = _CLASSES[name](message)
    exc._dojo_log = log
    exc._dojo_key = key
    return exc


def _arrived(name, args, log, key):
    """Unpickled on arrival: record where, and hand over an exception of the builtin's type
    that records when the pool rebuilds it as a raised one."""
    log.append(("arrived", key, name, here()))
    exc = _ARRIVED[name](*args)
    exc._dojo_log = log
    exc._dojo_key = key
    return exc


def _arrived_class(name):
    base = getattr(builtins, name)

    def get_cause(self):
        return BaseException.__cause__.__get__(self)

    def set_cause(self, cause):
        BaseException.__cause__.__set__(self, cause)
        # The pools' _rebuild_exc / rebuild_exc: the exception was raised in the worker
        # and sent back with its traceback, not returned as a value.
        if type(cause).__name__ in ("_RemoteTraceback", "RemoteTraceback") and getattr(self, "_dojo_log", None) is not None:
            self._dojo_log.append(("rebuilt", self._dojo_key, name, here()))

    def __reduce__(self):
        return (base, tuple(self.args))

    return type(
        name,
        (base,),
        {"__cause__": property(get_cause, set_cause), "__reduce__": __reduce__, "__module__": "builtins", "__qualname__": name},
    )


_ARRIVED = {name: _arrived_class(name) for name in ("ValueError", "TypeError", "OverflowError")}
