# right: a Request object with its own headers, and urlopen(request, timeout=timeout) for each one
# style: urllib.request.Request with headers, timeout keyword
"""Fetching pages is waiting, not computing: use threads, and never wait forever.

A download spends its time waiting on the network. A pool of processes waits no better
than a pool of threads, but it costs a process start per worker, and every result and
every exception has to be pickled back (an HTTPError cannot be). And urlopen without a
timeout waits for as long as a server keeps the connection open: maybe forever.
"""

import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor, as_completed


def load_url(url, timeout):
    request = urllib.request.Request(url, headers={"User-Agent": "dojo-io1"})
    with urllib.request.urlopen(request, timeout=timeout) as conn:
        return conn.read()


def page_sizes(ctx, urls, timeout):
    """Fetch every url at once, giving up on one after `timeout` seconds of silence.

    Return {url: size in bytes, or "HTTP <status>", or the error's type name}.
    """
    sizes = {}
    # Threads: a thread blocked on a socket releases the GIL, so five of them wait in
    # parallel just as well as five processes, with no process to start and nothing to
    # pickle (ctx is not needed at all). And every urlopen gets the timeout: a server
    # that accepts the connection and never answers then costs `timeout`, not forever.
    with ThreadPoolExecutor(max_workers=5) as executor:
        future_to_url = {executor.submit(load_url, url, timeout=timeout): url for url in urls}
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
