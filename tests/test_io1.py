"""io1: fetch pages with threads and a timeout, against a real local HTTP server.

The server (dojo/httpd.py) runs in its own process, started and stopped inside each test:
a server thread in this process would make the unsolved kata's fork() a fork of a
multi-threaded process. What the kata did is read from the server's side:
- overlap by a Barrier in the server (/slow), never by a clock;
- answer order by a chain (/order/<rank>: answered once the client hung up on rank - 1);
- on /hang (never answers): how many requests came, and whether the client closed the
  connection or the server gave up first, and when (one clock for the whole machine);
- which process held each connection (/proc), and which processes ctx started.
The only clocks are the kata's timeout against /hang and the server's own deadlines, set far
apart; the deadlines only bound what an unsolved kata costs (about HANG seconds).
"""

import os
import socket
import time
import urllib.request

import pytest

from dojo import httpd
from dojo.testing import CountingContext, KataRaised
from dojo.toolkit.timeout_watch import TimeoutWatchContext

SCALE = float(os.environ.get("DOJO_TIMEOUT_SCALE") or 1)
PATIENT = 5.0 * SCALE  # the kata's timeout where no page should ever hit it
SILENCE = 0.25 * SCALE  # the kata's timeout against the server that never answers
HANG = 1.5 * SCALE  # the server's own deadline for /hang: what a kata without a timeout costs
AT_ONCE = 5  # the kata fetches with five workers: five requests must be in flight together


@pytest.fixture(autouse=True)
def socket_default_put_back():
    """Whatever a kata does to this process's socket default timeout or urllib's opener
    (socket.setdefaulttimeout, install_opener) ends with its test: the next test starts
    from what the process had."""
    default, opener = socket.getdefaulttimeout(), urllib.request._opener
    yield
    socket.setdefaulttimeout(default)
    urllib.request.install_opener(opener)


def page_sizes(kata, teach, ctx, urls, timeout):
    """What the kata returned; a teaching failure if it raised or returned no dict."""
    try:
        got = kata.page_sizes(ctx, urls, timeout)
    except KataRaised as exc:
        pytest.fail(teach("kata_raised", urls=paths(urls), timeout=timeout, raised=exc.type_name), pytrace=False)
    except TypeError as exc:  # the kata fixture refused a result that is not plain data
        got = f"<not plain data: {exc}>"
    if not isinstance(got, dict):
        pytest.fail(teach("not_a_dict", urls=paths(urls), timeout=timeout, got=got), pytrace=False)
    return got


def paths(urls):
    """The URLs of a message without the server's address (its port changes every run)."""
    if isinstance(urls, dict):
        return {paths(url): value for url, value in urls.items()}
    if isinstance(urls, list):
        return [paths(url) for url in urls]
    return "/" + urls.split("/", 3)[-1] if isinstance(urls, str) and urls.startswith("http://") else urls


def check_sizes(teach, ctx, urls, timeout, got, want):
    """got == want, or the message that fits what differs."""
    if got == want:
        return
    wrong = {url: got.get(url, "(missing)") for url in want if got.get(url, object()) != want[url]}
    wrong.update({url: got[url] for url in got if url not in want})
    fields = dict(urls=paths(urls), timeout=timeout, got=paths(got), want=paths(want), wrong=paths(wrong))
    values = sorted(map(repr, got.values()))
    if set(got) == set(want) and values == sorted(map(repr, want.values())):
        pytest.fail(teach("sizes_swapped", **fields), pytrace=False)
    created = getattr(ctx, "created", 0)
    statuses = [url for url, value in want.items() if isinstance(value, str) and value.startswith("HTTP ")]
    if created and any(got.get(url) != want[url] for url in statuses):
        pytest.fail(teach("status_through_processes", created=created, **fields), pytrace=False)
    pytest.fail(teach("sizes_wrong", **fields), pytrace=False)


@pytest.mark.clause("sizes_right", "http_status")
def test_each_page_comes_back_with_its_size_or_its_status(kata, mp_context, teach):
    counting = CountingContext(mp_context)
    with httpd.serve() as server:
        urls = [server.url("/page/100"), server.url("/page/2500"), server.url("/missing")]
        got = page_sizes(kata, teach, counting, urls, PATIENT)
    want = {urls[0]: 100, urls[1]: 2500, urls[2]: "HTTP 404"}
    check_sizes(teach, counting, urls, PATIENT, got, want)


@pytest.mark.clause("sizes_right")
def test_every_size_is_filed_under_its_own_url_whatever_order_they_arrive_in(kata, mp_context, teach):
    # /order/<rank> is answered only once the client has hung up on rank - 1: the last URL
    # comes back first and the first last, so pairing URLs with answers by position
    # files every size under the wrong URL.
    with httpd.serve(hold=1.0 * SCALE) as server:
        urls = [server.url("/order/2/30"), server.url("/order/1/20"), server.url("/order/0/10")]
        got = page_sizes(kata, teach, mp_context, urls, PATIENT)
    want = {urls[0]: 30, urls[1]: 20, urls[2]: 10}
    check_sizes(teach, mp_context, urls, PATIENT, got, want)


@pytest.mark.clause("errors_recorded", "http_status", "sizes_right")
def test_a_failing_url_is_recorded_and_the_others_still_come_back(kata, mp_context, teach):
    # A port that is bound but not listening refuses every connection (URLError); /close
    # hangs up without an answer (RemoteDisconnected); /status/503 is an HTTP error.
    refusing = socket.socket()
    try:
        refusing.bind(("127.0.0.1", 0))
        refused = "http://127.0.0.1:%d/refused" % refusing.getsockname()[1]
        counting = CountingContext(mp_context)
        with httpd.serve() as server:
            urls = [server.url("/page/10"), refused, server.url("/status/503"), server.url("/close"),
                    server.url("/page/20")]
            got = page_sizes(kata, teach, counting, urls, PATIENT)
    finally:
        refusing.close()
    want = {urls[0]: 10, urls[1]: "URLError", urls[2]: "HTTP 503", urls[3]: "RemoteDisconnected", urls[4]: 20}
    check_sizes(teach, counting, urls, PATIENT, got, want)


@pytest.mark.clause("timeout_passed", "gives_up_once", "errors_recorded")
def test_a_server_that_never_answers_costs_only_the_timeout(kata, mp_context, teach):
    with httpd.serve(hold=HANG) as server:
        urls = [server.url("/hang")]
        started = time.monotonic()
        got = page_sizes(kata, teach, mp_context, urls, SILENCE)
        returned = time.monotonic()
        # Wait (at most past the server's own deadline) until the /hang connection ended,
        # one way or the other: the client closed it, or the server gave up.
        stats = server.stats(settle=HANG + 2.0)
    fields = dict(url=paths(urls[0]), timeout=SILENCE, hold=HANG, got=paths(got), returned=round(returned - started, 2))
    requests = stats["requests"].get("/hang", 0)
    assert requests <= 1, teach("retried", requests=requests, **fields)
    hang = stats["hangs"][0] if stats["hangs"] else {"outcome": "client_closed"}
    if hang["outcome"] != "client_closed":
        if hang["at"] is not None and hang["at"] <= returned:
            pytest.fail(teach("waited_for_server", **fields), pytrace=False)
        pytest.fail(teach("abandoned_connection", **fields), pytrace=False)
    check_sizes(teach, mp_context, urls, SILENCE, got, {urls[0]: "TimeoutError"})


@pytest.mark.clause("threads")
def test_fetching_pages_starts_no_process(kata, mp_context, teach, host):
    # Two views: processes started through ctx (counted), and the kernel's word on which
    # process held each connection (the server reads it from /proc while the client waits),
    # which also catches processes started some other way.
    counting = CountingContext(mp_context)
    with httpd.serve(clients=True) as server:
        urls = [server.url("/page/10"), server.url("/page/20")]
        page_sizes(kata, teach, counting, urls, PATIENT)
        senders = server.stats()["clients"]
    assert counting.created == 0, teach("started_processes", created=counting.created, urls=paths(urls))
    caller = host.pid()
    others = sorted({pid for pid in senders if pid is not None and pid != caller})
    assert not others, teach("requests_from_other_processes", urls=paths(urls), senders=others, caller=caller)


@pytest.mark.clause("at_once")
def test_the_pages_are_fetched_at_the_same_time(kata, mp_context, teach):
    # Each /slow request is held until all of them are in flight together (a Barrier in the
    # server), so the count proves overlap without a clock; fetched fewer at a time, the
    # first ones wait out the server's deadline and the count stays below AT_ONCE.
    with httpd.serve(parties=AT_ONCE, hold=2.0 * SCALE) as server:
        urls = [server.url(f"/slow/{n}") for n in range(AT_ONCE)]
        got = page_sizes(kata, teach, mp_context, urls, PATIENT)
        stats = server.stats()
    if stats["slow_requests"] < AT_ONCE:  # not every URL was even asked for: say what came back
        check_sizes(teach, mp_context, urls, PATIENT, got, {url: 100 for url in urls})
    assert stats["max_in_flight"] == AT_ONCE, teach(
        "not_at_once", urls=paths(urls), seen=stats["max_in_flight"], n=AT_ONCE, hold=2.0 * SCALE)
    check_sizes(teach, mp_context, urls, PATIENT, got, {url: 100 for url in urls})


@pytest.mark.clause("timeout_per_request", "timeout_passed", "sizes_right")
def test_the_timeout_is_given_to_each_request_not_to_the_whole_process(kata, mp_context, teach, host):
    # Every urllib request made in the kata's process (any thread) passes a watching
    # opener that notes, before it connects, whether the request carries its own timeout
    # and whether socket.getdefaulttimeout(), the default of every socket of the process,
    # differs from what it was before the call. No clock: what the program set is read.
    watch = TimeoutWatchContext(mp_context)
    with httpd.serve() as server, watch.watching() as watched:
        urls = [server.url("/page/10"), server.url("/page/20"), server.url("/page/30")]
        got = page_sizes(kata, teach, watch, urls, PATIENT)
    seen = watch.requests()
    fields = dict(urls=paths(urls), timeout=PATIENT, requests=seen["requests"], before=watched["before"])
    if host.pid() == os.getpid() and watched["after"] != watched["before"]:
        # Put back by watching() already: the test's process goes on as it was.
        pytest.fail(teach("default_timeout_left", after=watched["after"], **fields), pytrace=False)
    if seen["default_changed"]:
        pytest.fail(teach("default_timeout_changed", changed=seen["default_changed"], during=seen["changed_to"],
                          **fields), pytrace=False)
    if seen["no_timeout"]:
        pytest.fail(teach("request_without_timeout", without=seen["no_timeout"], **fields), pytrace=False)
    check_sizes(teach, watch, urls, PATIENT, got, {urls[0]: 10, urls[1]: 20, urls[2]: 30})
