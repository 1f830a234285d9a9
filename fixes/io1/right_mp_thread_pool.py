# right: multiprocessing's ThreadPool is a pool of threads (no ctx, no process) with the Pool API; the timeout reaches urlopen
# style: multiprocessing.pool.ThreadPool with imap_unordered
"""Fetching pages is waiting, not computing: use threads, and never wait forever.

A download spends its time waiting on the network. A pool of processes waits no better
than a pool of threads, but it costs a process start per worker, and every result and
every exception has to be pickled back (an HTTPError cannot be). And urlopen without a
timeout waits for as long as a server keeps the connection open: maybe forever.
"""

import urllib.error
import urllib.request
from multiprocessing.pool import ThreadPool


def load_url(url, timeout=None):
    with urllib.request.urlopen(url, timeout=timeout) as conn:
        return conn.read()


def fetch_record(url, timeout):
    """One URL's entry: its size, "HTTP <status>" or the error's type name. Never raises."""
    try:
        data = load_url(url, timeout)
    except urllib.error.HTTPError as exc:
        exc.close()
        return f"HTTP {exc.code}"
    except Exception as exc:
        return type(exc).__name__
    return len(data)


def fetch_pair(url_and_timeout):
    url, timeout = url_and_timeout
    return url, fetch_record(url, timeout)


def page_sizes(ctx, urls, timeout):
    """Fetch every url at once, giving up on one after `timeout` seconds of silence.

    Return {url: size in bytes, or "HTTP <status>", or the error's type name}.
    """
    with ThreadPool(processes=max(1, len(urls))) as pool:
        return dict(pool.imap_unordered(fetch_pair, [(url, timeout) for url in urls]))
