# right: asyncio.gather over asyncio.to_thread: every blocking urlopen (with its timeout) runs in the event loop's thread pool at once
# style: asyncio.to_thread and gather
"""Fetching pages is waiting, not computing: use threads, and never wait forever.

A download spends its time waiting on the network. A pool of processes waits no better
than a pool of threads, but it costs a process start per worker, and every result and
every exception has to be pickled back (an HTTPError cannot be). And urlopen without a
timeout waits for as long as a server keeps the connection open: maybe forever.
"""

import asyncio
import urllib.error
import urllib.request


def load_url(url, timeout=None):
    with urllib.request.urlopen(url, timeout=timeout) as conn:
        return conn.read()


async def fetch_entry(url, timeout):
    try:
        data = await asyncio.to_thread(load_url, url, timeout)
    except urllib.error.HTTPError as exc:
        exc.close()
        return f"HTTP {exc.code}"
    except Exception as exc:
        return type(exc).__name__
    return len(data)


async def fetch_all(urls, timeout):
    entries = await asyncio.gather(*(fetch_entry(url, timeout) for url in urls))
    return dict(zip(urls, entries))


def page_sizes(ctx, urls, timeout):
    """Fetch every url at once, giving up on one after `timeout` seconds of silence.

    Return {url: size in bytes, or "HTTP <status>", or the error's type name}.
    """
    return asyncio.run(fetch_all(urls, timeout))
