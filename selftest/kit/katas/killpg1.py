"""Kills its own process group: the test run with it."""

import os
import signal


def kill_everyone(ctx):
    # TODO: do not kill your own process group
    os.killpg(0, signal.SIGKILL)
    return 0
