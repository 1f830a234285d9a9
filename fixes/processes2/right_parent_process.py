# right: multiprocessing.parent_process() is the process that started the child, under every start method
# style: parent_process() in the child
"""Process IDs and the real parent."""

import multiprocessing
import os


def introduce(results):
    results.put({"pid": os.getpid(), "parent": multiprocessing.parent_process().pid})


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
    return {"pid": os.getpid(), "children": sorted(children, key=lambda child: child["pid"])}
