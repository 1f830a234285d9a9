# wrong: sets the process-wide socket default around each urlopen: its own socket gets the timeout, but so does any socket another thread opens meanwhile, and threads restore each other's values
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


def load_url(url, timeout=None):
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(timeout)  # the new connection's socket takes this timeout
    try:
        conn = urllib.request.urlopen(url)
    finally:
        socket.setdefaulttimeout(previous)
    with conn:
        return conn.read()


def page_sizes(ctx, urls, timeout):
    """Fetch every url at once, giving up on one after `timeout` seconds of silence.

    Return {url: size in bytes, or "HTTP <status>", or the error's type name}.
    """
    sizes = {}
    # Threads: a thread blocked on a socket releases the GIL, so five of them wait in
    # parallel just as well as five processes, with no process to start and nothing to
    # pickle (ctx is not needed at all).
    with ThreadPoolExecutor(max_workers=5) as executor:
        future_to_url = {executor.submit(load_url, url, timeout): url for url in urls}
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
    return sizes
