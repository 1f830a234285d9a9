# right: children append their introductions to a Manager list; parent_process() names the real parent
# style: Manager list
"""Process IDs and the real parent."""

import os
from multiprocessing import parent_process


def introduce(results):
    results.append({"pid": os.getpid(), "parent": parent_process().pid})


def family(ctx, n):
    """Start n children that introduce themselves.

    Return {"pid": this process's ID, "children": [{"pid": ..., "parent": ...}, ...]},
    the children sorted by their ID.
    """
    with ctx.Manager() as manager:
        results = manager.list()
        workers = [ctx.Process(target=introduce, args=(results,)) for _ in range(n)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        children = [dict(child) for child in results]
    return {"pid": os.getpid(), "children": sorted(children, key=lambda child: child["pid"])}
