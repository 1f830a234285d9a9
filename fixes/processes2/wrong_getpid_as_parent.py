# wrong: the child reports its own os.getpid() as its parent
# breaks: real_parent
# caught-on: fork spawn forkserver
"""Process IDs and the real parent."""

import os


def introduce(results):
    parent = os.getpid()
    results.put({"pid": os.getpid(), "parent": parent})


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
