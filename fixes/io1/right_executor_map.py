# right: ThreadPoolExecutor.map over a function that catches its own errors; map keeps input order, so zip pairs each URL with its own entry
# style: executor.map with a per-URL function that never raises
"""Fetching pages is waiting, not computing: use threads, and never wait forever.

A download spends its time waiting on the network. A pool of processes waits no better
than a pool of threads, but it costs a process start per worker, and every result and
every exception has to be pickled back (an HTTPError cannot be). And urlopen without a
timeout waits for as long as a server keeps the connection open: maybe forever.
"""

import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor


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


def page_sizes(ctx, urls, timeout):
    """Fetch every url at once, giving up on one after `timeout` seconds of silence.

    Return {url: size in bytes, or "HTTP <status>", or the error's type name}.
    """
    with ThreadPoolExecutor(max_workers=5) as executor:
        records = executor.map(fetch_record, urls, [timeout] * len(urls))
        return dict(zip(urls, records))
