"""A child that leaves the process group with setsid() and leaves a grandchild behind."""

import os
import time


def flee():
    os.setsid()
    if os.fork() == 0:  # the grandchild outlives its parent, in another session
        time.sleep(60)
        os._exit(0)
    os._exit(0)


def run_away(ctx):
    child = ctx.Process(target=flee)
    child.start()
    child.join()
    # TODO: nothing to fix; the test checks that dojo kills the escapee
    return child.exitcode
