# wrong: threads instead of processes: every "child" has the caller's pid
# breaks: in_children own_ids
# caught-on: fork spawn forkserver
"""Process IDs and the real parent."""

import os
import queue
import threading


def introduce(parent, results):
    results.put({"pid": os.getpid(), "parent": parent})


def family(ctx, n):
    """Start n children that introduce themselves.

    Return {"pid": this process's ID, "children": [{"pid": ..., "parent": ...}, ...]},
    the children sorted by their ID.
    """
    results = queue.Queue()
    workers = [threading.Thread(target=introduce, args=(os.getpid(), results)) for _ in range(n)]
    for worker in workers:
        worker.start()
    children = [results.get() for _ in workers]
    for worker in workers:
        worker.join()
    return {"pid": os.getpid(), "children": sorted(children, key=lambda child: child["pid"])}
