# wrong: a Pool of n workers: tasks share workers, so one process may introduce itself twice
# breaks: in_children own_ids sized_by_n
# caught-on: fork spawn forkserver
"""Process IDs and the real parent."""

import os
from multiprocessing import parent_process


def introduce(_):
    return {"pid": os.getpid(), "parent": parent_process().pid}


def family(ctx, n):
    """Start n children that introduce themselves.

    Return {"pid": this process's ID, "children": [{"pid": ..., "parent": ...}, ...]},
    the children sorted by their ID.
    """
    if n == 0:
        return {"pid": os.getpid(), "children": []}
    with ctx.Pool(n) as pool:
        children = pool.map(introduce, range(n))
    return {"pid": os.getpid(), "children": sorted(children, key=lambda child: child["pid"])}
