# wrong: right parent, but the children are returned in the order their reports arrived, not sorted by ID
# breaks: sorted_by_pid
# caught-on: fork spawn forkserver
"""Process IDs and the real parent."""

import os
from multiprocessing import parent_process


def introduce(results):
    results.put({"pid": os.getpid(), "parent": parent_process().pid})


def family(ctx, n):
    """Start n children that introduce themselves.

    Return {"pid": this process's ID, "children": [{"pid": ..., "parent": ...}, ...]},
    the children sorted by their ID.
    """
    results = ctx.Queue()
    workers = [ctx.Process(target=introduce, args=(results,)) for _ in range(n)]
    for worker in workers:
        worker.start()
    children = [results.get() for _ in workers]
    for worker in workers:
        worker.join()
    return {"pid": os.getpid(), "children": children}
