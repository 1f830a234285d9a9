# wrong: sets socket.setdefaulttimeout() for the duration of the call and restores it in a finally: meanwhile every thread of the caller's process gets that timeout, and concurrent calls overwrite each other's
# breaks: timeout_per_request
# caught-on: fork spawn forkserver
"""Fetching pages is waiting, not computing: use threads, and never wait forever.

A download spends its time waiting on the network. A pool of processes waits no better
than a pool of threads, but it costs a process start per worker, and every result and
every exception has to be pickled back (an HTTPError cannot be). And urlopen without a
timeout waits for as long as a server keeps the connection open: maybe forever.
"""

import socket
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor, as_completed


def load_url(url):
    # No timeout argument: urlopen(url, timeout=None) would mean "no timeout at all", while
    # leaving it out uses the socket module's default, set in page_sizes.
    with urllib.request.urlopen(url) as conn:
        return conn.read()


def page_sizes(ctx, urls, timeout):
    """Fetch every url at once, giving up on one after `timeout` seconds of silence.

    Return {url: size in bytes, or "HTTP <status>", or the error's type name}.
    """
    sizes = {}
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(timeout)  # for this call only: put back in the finally below
    try:
        _fetch_all(urls, sizes)
    finally:
        socket.setdefaulttimeout(previous)
    return sizes


def _fetch_all(urls, sizes):
    # Threads: a thread blocked on a socket releases the GIL, so five of them wait in
    # parallel just as well as five processes, with no process to start and nothing to
    # pickle (ctx is not needed at all).
    with ThreadPoolExecutor(max_workers=5) as executor:
        future_to_url = {executor.submit(load_url, url): url for url in urls}
        for future in as_completed(future_to_url):
            url = future_to_url[future]
            try:
                data = future.result()
            except urllib.error.HTTPError as exc:
                sizes[url] = f"HTTP {exc.code}"
                exc.close()  # an HTTPError is also the server's response: close it
            except Exception as exc:
                sizes[url] = type(exc).__name__
            else:
                sizes[url] = len(data)
