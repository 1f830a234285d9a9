"""What kata tests import: the call contract and the determinism toolkit.

Workers that tests hand to learner code live in modules like this one, never in test
modules: a spawn or forkserver child imports the module that defines its target, and a
test module would drag pytest into every child.
"""

from __future__ import annotations

PLAIN_SCALARS = (type(None), bool, int, float, str)


class KataRaised(Exception):
    """The kata function raised; carries only its type name and message (plain data),
    as a grading host would send them back."""

    def __init__(self, type_name: str, message: str):
        super().__init__(f"{type_name}: {message}")
        self.type_name = type_name
        self.message = message


def check_plain(value, what: str, _depth: int = 0) -> None:
    """Refuse results that are not plain data (numbers, strings, lists, tuples, dicts)."""
    if _depth > 50:
        raise TypeError(f"{what} returned data nested deeper than 50 levels")
    if isinstance(value, PLAIN_SCALARS):
        return
    if isinstance(value, (list, tuple)):
        for item in value:
            check_plain(item, what, _depth + 1)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, PLAIN_SCALARS):
                raise TypeError(f"{what} returned a dict with a {type(key).__name__} key; use plain keys")
            check_plain(item, what, _depth + 1)
        return
    raise TypeError(
        f"{what} returned a {type(value).__module__}.{type(value).__qualname__}; "
        "kata functions return plain data (numbers, strings, lists, tuples, dicts), "
        "so that the result can travel between processes as JSON"
    )


# --- race amplification: dojo/toolkit/race.py ------------------------------------------

from dojo.toolkit.race import RaceContext, race_message  # noqa: E402,F401  (what race tests import)


# --- counting processes ------------------------------------------------------------------


class CountingContext:
    """A multiprocessing context that counts the processes created through it.

    ``ctx.Process(...)``, ``ctx.Pool(...)`` and ``ProcessPoolExecutor(mp_context=ctx)`` all
    create their workers through ``ctx.Process``, so ``ctx.created`` counts them from the
    outside, with no timing involved. Everything else is the real context's.
    """

    def __init__(self, ctx):
        self._ctx = ctx
        # Shared, so that a count made in a grading host (another process) is read here.
        self._created = ctx.Value("i", 0)

    @property
    def created(self) -> int:
        return self._created.value

    def Process(self, *args, **kwargs):
        with self._created.get_lock():
            self._created.value += 1
        return self._ctx.Process(*args, **kwargs)

    def Pool(self, processes=None, initializer=None, initargs=(), maxtasksperchild=None):
        from multiprocessing.pool import Pool

        return Pool(processes, initializer, initargs, maxtasksperchild, context=self)

    def get_start_method(self, allow_none=False):
        return self._ctx.get_start_method(allow_none)

    def get_context(self, method=None):
        return self if method is None else self._ctx.get_context(method)

    def __getattr__(self, name):
        if name == "_ctx" or (name.startswith("__") and name.endswith("__")):
            raise AttributeError(name)  # see TrackedLock.__getattr__: keeps it picklable
        return getattr(self._ctx, name)

    def __repr__(self):
        return f"<CountingContext {self._ctx.get_start_method()} created={self.created}>"
