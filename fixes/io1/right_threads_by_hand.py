# right: one threading.Thread per URL, all started before any is joined; each thread records its own URL's entry
# style: threading.Thread per URL, start all then join all
"""Fetching pages is waiting, not computing: use threads, and never wait forever.

A download spends its time waiting on the network. A pool of processes waits no better
than a pool of threads, but it costs a process start per worker, and every result and
every exception has to be pickled back (an HTTPError cannot be). And urlopen without a
timeout waits for as long as a server keeps the connection open: maybe forever.
"""

import threading
import urllib.error
import urllib.request


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
    sizes = {}

    def fetch_into(url):
        sizes[url] = fetch_record(url, timeout)  # one key per thread: no two threads share a key

    threads = [threading.Thread(target=fetch_into, args=(url,)) for url in urls]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sizes
