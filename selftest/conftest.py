# dojo's own tests. selftest/kit is a fixture kit that the tests run in subprocesses;
# its tests are not ours to collect.
collect_ignore = ["kit"]


import pytest


def pytest_collection_modifyitems(items):
    # dojo's own tests drive whole pytest runs; the kit's 10 s per-test timeout is for katas.
    for item in items:
        item.add_marker(pytest.mark.timeout(300))


def pytest_configure(config):
    # Under pytest-xdist (tox runs these two at a time) every test process has execnet's
    # thread, and Python 3.12+ warns at each fork. The katas never run there: their fork
    # cells run in single-threaded pytest processes that these tests start.
    config.addinivalue_line("filterwarnings", "ignore:This process .* is multi-threaded, use of fork:DeprecationWarning")
