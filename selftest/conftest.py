# dojo's own tests. selftest/kit is a fixture kit that the tests run in subprocesses;
# its tests are not ours to collect.
collect_ignore = ["kit"]


import os
import tempfile

import pytest

from dojo import procs, tracker
from selftest.helpers import own_shm_left


def pytest_collection_modifyitems(items):
    # dojo's own tests drive whole pytest runs; the kit's 10 s per-test timeout is for katas.
    for item in items:
        item.add_marker(pytest.mark.timeout(300))


def pytest_configure(config):
    # Under pytest-xdist (tox runs these two at a time) every test process has execnet's
    # thread, and Python 3.12+ warns at each fork. The katas never run there: their fork
    # cells run in single-threaded pytest processes that these tests start.
    config.addinivalue_line("filterwarnings", "ignore:This process .* is multi-threaded, use of fork:DeprecationWarning")


@pytest.fixture(autouse=True)
def tree_ledger(monkeypatch):
    """Every test's own /dev/shm ledger: each resource tracker its runs start (dojo's
    tracker tee) appends to it, so what the test's tree left behind is known by name.
    Other programs' semaphores and segments never enter it, so they never fail a test."""
    fd, path = tempfile.mkstemp(prefix="dojo-selftest-ledger-")
    os.close(fd)
    monkeypatch.setenv(tracker.TREE_LEDGER, tracker.tree_ledgers_with(path))
    yield path
    try:
        left = own_shm_left(path)
        for name in left:
            procs.remove_shm(name)
    finally:
        os.unlink(path)
    assert not left, f"this test's runs left these in /dev/shm (now removed): {', '.join(left)}"
