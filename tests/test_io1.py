"""io1: fetch pages with threads and a timeout, against a real local HTTP server.

The server (dojo/httpd.py) runs in its own process, started and stopped inside each test:
a server thread in this process would make the unsolved kata's fork() a fork of a
multi-threaded process. Overlap is proven by a Barrier in the server, not by a clock. The
only clocks are the kata's timeout against /hang and the server's own deadlines, set far
apart; the deadlines only bound what an unsolved kata costs (about HANG seconds).
"""

import pytest

from dojo import httpd
from dojo.testing import CountingContext, KataRaised

PATIENT = 5.0  # the kata's timeout where no page should ever hit it
SILENCE = 0.25  # the kata's timeout against the server that never answers
HANG = 1.0  # the server's own deadline for /hang: what a kata without a timeout costs


def page_sizes(kata, teach, ctx, urls, timeout):
    try:
        return kata.page_sizes(ctx, urls, timeout)
    except KataRaised as exc:
        raised = exc.type_name
    pytest.fail(teach("kata_raised", urls=paths(urls), timeout=timeout, raised=raised), pytrace=False)


def paths(urls):
    """The URLs of a message without the server's address (its port changes every run)."""
    if isinstance(urls, dict):
        return {paths(url): value for url, value in urls.items()}
    if isinstance(urls, list):
        return [paths(url) for url in urls]
    return "/" + urls.split("/", 3)[-1] if isinstance(urls, str) and urls.startswith("http://") else urls


def test_each_page_comes_back_with_its_size_or_its_status(kata, mp_context, teach):
    with httpd.serve() as server:
        urls = [server.url("/page/100"), server.url("/page/2500"), server.url("/missing")]
        got = page_sizes(kata, teach, mp_context, urls, PATIENT)
    want = {urls[0]: 100, urls[1]: 2500, urls[2]: "HTTP 404"}
    assert got == want, teach("sizes_wrong", urls=paths(urls), got=paths(got), want=paths(want))


def test_a_server_that_never_answers_costs_only_the_timeout(kata, mp_context, teach):
    with httpd.serve(hold=HANG) as server:
        urls = [server.url("/hang")]
        got = page_sizes(kata, teach, mp_context, urls, SILENCE)
    want = {urls[0]: "TimeoutError"}
    assert got == want, teach("waited_without_timeout", url=paths(urls[0]), timeout=SILENCE, hold=HANG, got=paths(got), want=paths(want))


def test_fetching_pages_starts_no_process(kata, mp_context, teach, host):
    # Two views: processes started through ctx (counted), and the kernel's word on which
    # process held each connection (the server reads it from /proc while the client waits),
    # which also catches processes started some other way.
    counting = CountingContext(mp_context)
    with httpd.serve(clients=True) as server:
        urls = [server.url("/page/10"), server.url("/page/20")]
        got = page_sizes(kata, teach, counting, urls, PATIENT)
        senders = server.stats()["clients"]
    assert counting.created == 0, teach("started_processes", created=counting.created, urls=paths(urls))
    caller = host.pid()
    others = sorted({pid for pid in senders if pid is not None and pid != caller})
    assert not others, teach("requests_from_other_processes", urls=paths(urls), senders=others, caller=caller)
    want = {urls[0]: 10, urls[1]: 20}
    assert got == want, teach("sizes_wrong", urls=paths(urls), got=paths(got), want=paths(want))


def test_the_pages_are_fetched_at_the_same_time(kata, mp_context, teach):
    # Each /slow request is held until all three are in flight together (a Barrier in the
    # server), so the count proves overlap without a clock; fetched one after another,
    # the first waits out the server's 2 s deadline and the count stays at 1.
    with httpd.serve(parties=3, hold=2.0) as server:
        urls = [server.url(f"/slow/{n}") for n in range(3)]
        got = page_sizes(kata, teach, mp_context, urls, PATIENT)
        stats = server.stats()
    assert stats["max_in_flight"] == 3, teach("not_at_once", urls=paths(urls), seen=stats["max_in_flight"])
    want = {url: 100 for url in urls}
    assert got == want, teach("sizes_wrong", urls=paths(urls), got=paths(got), want=paths(want))
