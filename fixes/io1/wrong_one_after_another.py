# wrong: drops the pool altogether ("it is only waiting") and fetches the URLs in a plain loop: right entries, but each waits for the one before
# breaks: at_once
# caught-on: fork spawn forkserver
"""Fetching pages is waiting, not computing: use threads, and never wait forever.

A download spends its time waiting on the network. A pool of processes waits no better
than a pool of threads, but it costs a process start per worker, and every result and
every exception has to be pickled back (an HTTPError cannot be). And urlopen without a
timeout waits for as long as a server keeps the connection open: maybe forever.
"""

import urllib.error
import urllib.request


def load_url(url, timeout=None):
    with urllib.request.urlopen(url, timeout=timeout) as conn:
        return conn.read()


def page_sizes(ctx, urls, timeout):
    """Fetch every url at once, giving up on one after `timeout` seconds of silence.

    Return {url: size in bytes, or "HTTP <status>", or the error's type name}.
    """
    sizes = {}
    for url in urls:
        try:
            data = load_url(url, timeout)
        except urllib.error.HTTPError as exc:
            sizes[url] = f"HTTP {exc.code}"
            exc.close()
        except Exception as exc:
            sizes[url] = type(exc).__name__
        else:
            sizes[url] = len(data)
    return sizes
