"""A fork bomb, bounded (CI runs as root, where RLIMIT_NPROC does nothing): every process
forks two more until the tree is 6 levels deep, and each then sleeps."""

import os
import time


def multiply(depth):
    for _ in range(2):
        if depth < 6 and os.fork() == 0:
            multiply(depth + 1)
            time.sleep(60)
            os._exit(0)


def explode(ctx):
    # TODO: do not fork without bound
    multiply(0)
    return 0
