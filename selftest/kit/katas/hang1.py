"""Joins a child that never ends."""

import time


def forever():
    while True:
        time.sleep(0.05)


def wait_for_child(ctx):
    child = ctx.Process(target=forever)
    child.start()
    # TODO: never returns
    child.join()
    return child.exitcode
