"""dojo/httpd.py: the network katas' local server, and the client PIDs it reports."""

import multiprocessing
import os
import sys
import urllib.request

import pytest

from dojo import httpd

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="client PIDs come from Linux's /proc")


def fetch(url):
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.read()


def test_the_server_names_the_process_that_held_each_connection():
    ctx = multiprocessing.get_context("fork")
    with httpd.serve(clients=True) as server:
        assert fetch(server.url("/page/3")) == b"xxx"
        child = ctx.Process(target=fetch, args=(server.url("/page/4"),))
        child.start()
        child.join(10)
        clients = server.stats()["clients"]
    assert child.exitcode == 0
    assert clients == [os.getpid(), child.pid], (
        f"the server saw requests from {clients}; this process ({os.getpid()}) and then its child "
        f"({child.pid}) sent them, and io1's test relies on telling them apart"
    )


def test_without_clients_the_server_looks_nothing_up():
    with httpd.serve() as server:
        fetch(server.url("/page/1"))
        assert server.stats()["clients"] == []


def test_an_unknown_connection_has_no_pids():
    assert httpd.client_pids(1, 1) == []
