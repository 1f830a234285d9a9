"""A pytest plugin for bench/profile_quick.py: when each phase of a run began.

Appends "phase seconds" lines (time.perf_counter(), one clock for the forked run) to the
file named by DOJO_BENCH_PHASES.
"""

import os
import time


def _mark(phase):
    path = os.environ.get("DOJO_BENCH_PHASES")
    if path:
        with open(path, "a") as fh:
            fh.write(f"{phase} {time.perf_counter()}\n")


def pytest_configure(config):
    _mark("configure")


def pytest_sessionstart(session):
    _mark("sessionstart")


def pytest_collection_finish(session):
    _mark("collected")


def pytest_runtest_setup(item):
    _mark("setup")


def pytest_runtest_call(item):
    _mark("call")


def pytest_runtest_teardown(item):
    _mark("teardown")


def pytest_runtest_logfinish(nodeid, location):
    _mark("done")


def pytest_sessionfinish(session):
    _mark("sessionfinish")


def pytest_unconfigure(config):
    _mark("unconfigure")
