"""Starts a child and never joins it; creates a segment and never unlinks it."""

import time
from multiprocessing import shared_memory


def nap():
    time.sleep(30)


def leave_things(ctx):
    ctx.Process(target=nap).start()
    shm = shared_memory.SharedMemory(create=True, size=64)
    shm.close()
    # TODO: join and unlink
    return shm.name
