"""Watch where a program's HTTP requests get their timeout from. Standard library only.

    test:  ctx = TimeoutWatchContext(mp_context)      a CountingContext (dojo.testing) that
           with ctx.watching() as watched:            also installs an urllib opener in the
               kata.page_sizes(ctx, urls, timeout)    process that runs the kata
           ctx.requests()                             what each urllib request saw:
           watched["before"], watched["after"]        the socket default before and after
                                                       (in the test's own process)

Every ``urllib.request.urlopen(...)`` made in the kata's process, by any thread, goes
through the installed opener (``urllib.request.install_opener``); for each http request it
records, before connecting:

- whether the request carries a timeout of its own (``urlopen(url, timeout=...)`` sets
  ``request.timeout``; without one it is ``socket._GLOBAL_DEFAULT_TIMEOUT``, and
  ``timeout=None`` means no timeout at all: neither counts as its own), and
- the process-wide default ``socket.getdefaulttimeout()`` at that moment, against the one the
  process had when the watch began.

``socket.setdefaulttimeout(t)`` is process-global state: while it is set, every socket that
any code of the process opens without a timeout of its own (another library, another
thread, the caller's next download) gets ``t``. A request made while the default differs
from what it was shows that the program changed it, whether it puts it back afterwards or
not; ``watched["after"]`` shows one that is left behind (only meaningful when the kata ran
in the test's own process). ``watching()`` puts the default and urllib's opener back on the
way out, so that nothing leaks into the next test.

The records live in shared memory made by the test. In a grading host started by spawn or
forkserver the context installs the opener when it is unpickled (before the kata is even
imported); a fork host inherits the one the test installed. Programs that do not use
urllib's global opener (``build_opener().open(...)``, http.client) are simply not seen:
``requests()`` then counts fewer requests, and no verdict is drawn from what was not seen.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import urllib.parse
import urllib.request

from dojo.testing import CountingContext

# Slots of the shared record.
_REQUESTS, _OWN_TIMEOUT, _NO_TIMEOUT, _DEFAULT_CHANGED = range(4)
_COUNTS = 4

_installed = None  # (watch, default before) in this process, while a watch is installed
_lock = threading.Lock()


class _WatchingHTTPHandler(urllib.request.HTTPHandler):
    """urllib's own HTTP handler, which notes where each request's timeout comes from."""

    def http_open(self, req):
        installed = _installed
        if installed is not None:
            watch, before = installed
            watch._note(req, before)
        return super().http_open(req)


def _install(watch) -> None:
    """Route this process's urlopen() through a watching opener (urllib's default handlers,
    with the watching HTTP handler in place of HTTPHandler)."""
    global _installed
    with _lock:
        _installed = (watch, socket.getdefaulttimeout())
        urllib.request.install_opener(urllib.request.build_opener(_WatchingHTTPHandler))


class TimeoutWatchContext(CountingContext):
    """A CountingContext that also records, for the urllib requests made in the process
    that runs the kata, whether each carried its own timeout and whether the process-wide
    socket default had been changed when it was made."""

    IGNORED_PATHS = ("/stats",)  # the test's own questions to its server

    def __init__(self, ctx):
        super().__init__(ctx)
        self._counts = ctx.Array("i", _COUNTS)
        self._changed_to = ctx.Array("d", 1)  # the changed default (-1.0 for None)

    def __setstate__(self, state):
        # Unpickled in a grading host (spawn, forkserver), before the kata is imported.
        self.__dict__.update(state)
        _install(self)

    def _note(self, req, before) -> None:
        path = urllib.parse.urlparse(req.full_url).path
        if path in self.IGNORED_PATHS:
            return
        now = socket.getdefaulttimeout()
        counts = self._counts
        with counts.get_lock():
            counts[_REQUESTS] += 1
            own = getattr(req, "timeout", socket._GLOBAL_DEFAULT_TIMEOUT)
            if own is None or own is socket._GLOBAL_DEFAULT_TIMEOUT:  # None: no timeout at all
                counts[_NO_TIMEOUT] += 1
            else:
                counts[_OWN_TIMEOUT] += 1
            if now != before:
                counts[_DEFAULT_CHANGED] += 1
                self._changed_to[0] = -1.0 if now is None else now

    @contextlib.contextmanager
    def watching(self):
        """Install the watch in this process for the block; yield a dict that gets
        ``before`` and, on the way out, ``after``: socket.getdefaulttimeout() in this
        process. On the way out the default and urllib's opener are put back."""
        global _installed
        opener = urllib.request._opener
        before = socket.getdefaulttimeout()
        watched = {"before": before, "after": before}
        _install(self)
        try:
            yield watched
        finally:
            watched["after"] = socket.getdefaulttimeout()
            socket.setdefaulttimeout(before)
            with _lock:
                _installed = None
                urllib.request.install_opener(opener)

    def requests(self) -> dict:
        """What the watched requests saw: ``{"requests", "own_timeout", "no_timeout",
        "default_changed", "changed_to"}`` (``changed_to`` is the changed default, None when
        it was changed to None, and absent when it never changed)."""
        counts = self._counts[:]
        seen = {
            "requests": counts[_REQUESTS],
            "own_timeout": counts[_OWN_TIMEOUT],
            "no_timeout": counts[_NO_TIMEOUT],
            "default_changed": counts[_DEFAULT_CHANGED],
        }
        if counts[_DEFAULT_CHANGED]:
            value = self._changed_to[0]
            seen["changed_to"] = None if value == -1.0 else value
        return seen
