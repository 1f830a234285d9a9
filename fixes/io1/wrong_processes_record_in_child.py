# wrong: keeps the pool of processes and dodges the HTTPError pickling by recording errors in the child: correct entries, but every fetch still costs a process
# breaks: threads
# caught-on: fork spawn forkserver
"""Fetching pages is waiting, not computing: use threads, and never wait forever.

A download spends its time waiting on the network. A pool of processes waits no better
than a pool of threads, but it costs a process start per worker, and every result and
every exception has to be pickled back (an HTTPError cannot be). And urlopen without a
timeout waits for as long as a server keeps the connection open: maybe forever.
"""

import urllib.error
import urllib.request
from concurrent.futures import ProcessPoolExecutor, as_completed


def load_url(url, timeout=None):
    with urllib.request.urlopen(url, timeout=timeout) as conn:
        return conn.read()


def fetch_record(url, timeout):
    try:
        data = load_url(url, timeout)
    except urllib.error.HTTPError as exc:
        exc.close()
        return f"HTTP {exc.code}"
    except Exception as exc:
        return type(exc).__name__
    return len(data)


def page_sizes(ctx, urls, timeout):
    """Fetch every url at once, giving up on one after `timeout` seconds of silence.

    Return {url: size in bytes, or "HTTP <status>", or the error's type name}.
    """
    sizes = {}
    with ProcessPoolExecutor(max_workers=5, mp_context=ctx) as executor:
        future_to_url = {executor.submit(fetch_record, url, timeout): url for url in urls}
        for future in as_completed(future_to_url):
            sizes[future_to_url[future]] = future.result()
    return sizes
