# wrong: hard-coded to two children, the number the first tests asked for; n is ignored
# breaks: sized_by_n
# caught-on: fork spawn forkserver
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
    workers = [ctx.Process(target=introduce, args=(results,)) for _ in range(2)]
    for worker in workers:
        worker.start()
    children = [results.get() for _ in workers]
    for worker in workers:
        worker.join()
    return {"pid": os.getpid(), "children": sorted(children, key=lambda child: child["pid"])}
