# dojo's own tests. selftest/kit is a fixture kit that the tests run in subprocesses;
# its tests are not ours to collect.
collect_ignore = ["kit"]


import pytest


def pytest_collection_modifyitems(items):
    # dojo's own tests drive whole pytest runs; the kit's 10 s per-test timeout is for katas.
    for item in items:
        item.add_marker(pytest.mark.timeout(300))
