"""A local HTTP server for the network katas: 127.0.0.1, an ephemeral port, its own process.

    test:  with httpd.serve(parties=3, hold=1.0) as server:
             │  the parent binds and listens first (so the port is known and connections
             │  wait in the backlog), then starts `python -I -S httpd.py` on that socket
             │  and reads its "ready" line: no clock decides when the server is up
             ├─ server.url("/page/100")  200, a body of 100 bytes, at once
             ├─ server.url("/missing")   404
             ├─ server.url("/slow/<any>") held until `parties` /slow requests are in
             │                           flight together (a Barrier), so overlap is proven
             │                           without a clock; after `hold` seconds of waiting
             │                           the Barrier breaks and every /slow answers at once
             ├─ server.url("/hang")      reads the request and never answers; after `hold`
             │                           seconds it closes the connection, so code without
             │                           a timeout costs `hold` seconds, not a test timeout.
             │                           It watches the connection meanwhile: whether the
             │                           client closed it first ("client_closed") or the
             │                           server gave up ("expired"), and when
             ├─ server.url("/close")     reads the request and closes the connection with
             │                           no answer (the client sees RemoteDisconnected)
             ├─ server.url("/status/503") answers with that status and an empty page
             ├─ server.url("/order/<rank>/<size>")  a body of <size> bytes, but only once
             │                           the client has closed the connection on which it
             │                           got /order/<rank - 1>/... (rank 0 at once; after
             │                           `hold` seconds anyway): the answers reach the
             │                           client in rank order, whatever order it asked in
             ├─ server.stats()           {"slow_requests": n, "max_in_flight": m,
             │                            "clients": [pid, ...], "requests": {path: n},
             │                            "hangs": [{"outcome", "at"}, ...]}
             │                           (stats(settle=s) first waits up to s seconds for
             │                           every /hang to end one way or the other)
             └─ serve(clients=True): for every /page and /slow request, the PID of each
                                     process holding the client's end of the connection,
                                     read from /proc while the client waits for its answer
                                     (the kernel's word, which the kata cannot forge);
                                     None where /proc does not tell
           on leaving the block: SIGTERM, then wait, so no process is left behind

Why a process and not a thread of the pytest process: a running thread would make every
fork() in the test (the unsolved kata forks) a fork of a multi-threaded process, which
3.12+ warns about and which can deadlock the child. Stdlib only: the child runs with -I -S
and imports nothing from dojo.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

READY = b"ready\n"


class Server:
    """The parent's handle on a running server."""

    def __init__(self, port: int):
        self.base = f"http://127.0.0.1:{port}"

    def url(self, path: str) -> str:
        return self.base + path

    def stats(self, settle: float = 0.0) -> dict:
        url = self.url(f"/stats?settle={settle}" if settle else "/stats")
        with urllib.request.urlopen(url, timeout=5 + settle) as response:
            return json.loads(response.read())


@contextlib.contextmanager
def serve(parties: int = 1, hold: float = 1.0, clients: bool = False):
    """Run the server in a child process for the duration of the block; yield a Server."""
    listener = socket.create_server(("127.0.0.1", 0), backlog=64)
    try:
        port = listener.getsockname()[1]
        fd = listener.fileno()
        proc = subprocess.Popen(
            [sys.executable, "-I", "-S", "-B", __file__, str(fd), str(parties), str(hold), str(int(clients))],
            pass_fds=(fd,),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
        )
    finally:
        listener.close()  # the child has its own copy of the listening socket
    try:
        line = proc.stdout.readline()  # blocks until the child is serving, or has died
        if line != READY:
            raise RuntimeError(f"the local HTTP server did not start (said {line!r}, exit code {proc.poll()})")
        yield Server(port)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        proc.stdout.close()


# --- the child --------------------------------------------------------------------------


class Handler(BaseHTTPRequestHandler):
    server: "DojoHTTPServer"

    def do_GET(self):
        path, _, query = self.path.partition("?")
        if path != "/stats":
            self.server.count(path)
        if self.server.track_clients and path.startswith(("/page/", "/slow/")):
            self.server.record_client(self.client_address)
        if path.startswith("/page/") and path[len("/page/"):].isdigit():
            self._send(200, b"x" * int(path[len("/page/"):]))
        elif path.startswith("/slow/"):
            self.server.wait_for_company()
            self._send(200, b"s" * 100)
        elif path == "/hang":
            # Never answer; the server-side deadline keeps code without a timeout from
            # waiting forever (it then sees the connection closed with no response).
            self.server.hang(self.connection)
            self.close_connection = True
        elif path == "/close":
            self.close_connection = True  # the request was read whole: the client gets a FIN
        elif path.startswith("/status/") and path[len("/status/"):].isdigit():
            self.send_response(int(path[len("/status/"):]))
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif path.startswith("/order/") and _ranked(path):
            rank, size = _ranked(path)
            self.server.wait_for_rank(rank)
            self._send(200, b"o" * size)
            self.wfile.flush()
            self.server.wait_closed(self.connection)  # the client read it and hung up
            self.server.rank_done(rank)
        elif path == "/stats":
            settle = float(query.partition("settle=")[2] or 0) if "settle=" in query else 0.0
            self._send(200, json.dumps(self.server.stats(settle)).encode(), "application/json")
        else:
            self.send_error(404)

    def _send(self, status, body, content_type="application/octet-stream"):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):  # quiet: the test's output is the learner's
        pass


def _ranked(path):
    """/order/<rank>/<size> -> (rank, size), or None."""
    parts = path.split("/")
    if len(parts) == 4 and parts[2].isdigit() and parts[3].isdigit():
        return int(parts[2]), int(parts[3])
    return None


class DojoHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, fd: int, parties: int, hold: float, track_clients: bool = False):
        super().__init__(("127.0.0.1", 0), Handler, bind_and_activate=False)
        self.socket.close()
        self.socket = socket.socket(fileno=fd)
        self.server_address = self.socket.getsockname()
        self.hold = hold
        self.stopping = threading.Event()
        self.barrier = threading.Barrier(parties, timeout=hold)
        self.lock = threading.Lock()
        self.in_flight = 0
        self.max_in_flight = 0
        self.slow_requests = 0
        self.track_clients = track_clients
        self.clients = []
        self.requests = {}
        self.hangs = []  # [{"outcome": "open" | "client_closed" | "expired", "at": monotonic}]
        self.changed = threading.Condition(self.lock)
        self.ranks_done = set()

    def count(self, path):
        with self.lock:
            self.requests[path] = self.requests.get(path, 0) + 1

    def hang(self, conn):
        """Hold a /hang connection, never answering, until the client closes it or `hold`
        seconds pass; note which came first, and when."""
        record = {"outcome": "open", "at": None}
        with self.lock:
            self.hangs.append(record)
        deadline = time.monotonic() + self.hold
        outcome = "expired"
        while not self.stopping.is_set():
            remaining = deadline - time.monotonic()
            readable = select.select([conn], [], [], max(0.0, remaining))[0] if remaining > 0 else []
            if not readable:
                break
            try:
                data = conn.recv(4096)
            except OSError:
                data = b""
            if not data:
                outcome = "client_closed"
                break
        with self.changed:
            record.update(outcome=outcome, at=time.monotonic())
            self.changed.notify_all()

    def wait_closed(self, conn):
        """Wait (at most `hold` seconds) until the client closes `conn`."""
        deadline = time.monotonic() + self.hold
        while (remaining := deadline - time.monotonic()) > 0:
            if not select.select([conn], [], [], remaining)[0]:
                return
            try:
                if not conn.recv(4096):
                    return
            except OSError:
                return

    def wait_for_rank(self, rank):
        """Hold /order/<rank> until /order/<rank - 1> is done (at most `hold` seconds)."""
        with self.changed:
            self.changed.wait_for(lambda: rank == 0 or rank - 1 in self.ranks_done, timeout=self.hold)

    def rank_done(self, rank):
        with self.changed:
            self.ranks_done.add(rank)
            self.changed.notify_all()

    def record_client(self, address):
        pids = client_pids(address[1], self.server_address[1])
        with self.lock:
            self.clients.extend(pids or [None])

    def wait_for_company(self):
        """Hold a /slow request until `parties` of them are in flight together."""
        with self.lock:
            self.slow_requests += 1
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            self.barrier.wait()
        except threading.BrokenBarrierError:
            pass  # alone past the deadline: answer anyway, max_in_flight tells the story
        finally:
            with self.lock:
                self.in_flight -= 1

    def stats(self, settle: float = 0.0) -> dict:
        with self.changed:
            if settle:
                self.changed.wait_for(lambda: all(h["outcome"] != "open" for h in self.hangs), timeout=settle)
            return {"slow_requests": self.slow_requests, "max_in_flight": self.max_in_flight,
                    "clients": list(self.clients), "requests": dict(self.requests),
                    "hangs": [dict(h) for h in self.hangs]}


def client_pids(client_port: int, server_port: int) -> list:
    """The PIDs of the processes holding the client socket 127.0.0.1:client_port that is
    connected to server_port: its inode from /proc/net/tcp, then a scan of /proc/*/fd.
    Empty where /proc does not tell (not Linux, or another process's fds not readable)."""
    local = "0100007F:%04X" % client_port
    remote = "0100007F:%04X" % server_port
    try:
        with open("/proc/net/tcp") as f:
            rows = [line.split() for line in f.readlines()[1:]]
    except OSError:
        return []
    inodes = {r[9] for r in rows if len(r) > 9 and r[1] == local and r[2] == remote}
    if not inodes:
        return []
    targets = {"socket:[%s]" % i for i in inodes}
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            fds = os.listdir("/proc/%s/fd" % pid)
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink("/proc/%s/fd/%s" % (pid, fd)) in targets:
                    found.append(int(pid))
                    break
            except OSError:
                continue
    return found


def main(argv):
    fd, parties, hold = int(argv[0]), int(argv[1]), float(argv[2])
    server = DojoHTTPServer(fd, parties, hold, track_clients=len(argv) > 3 and argv[3] == "1")
    sys.stdout.buffer.write(READY)
    sys.stdout.buffer.flush()
    server.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1:])
