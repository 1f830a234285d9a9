# wrong: family() passes os.getppid(), its own parent, instead of os.getpid()
# breaks: real_parent
# caught-on: fork spawn forkserver
"""Process IDs and the real parent."""

import os


def introduce(parent, results):
    results.put({"pid": os.getpid(), "parent": parent})


def family(ctx, n):
    """Start n children that introduce themselves.

    Return {"pid": this process's ID, "children": [{"pid": ..., "parent": ...}, ...]},
    the children sorted by their ID.
    """
    results = ctx.Queue()
    workers = [ctx.Process(target=introduce, args=(os.getppid(), results)) for _ in range(n)]
    for worker in workers:
        worker.start()
    children = [results.get() for _ in workers]
    for worker in workers:
        worker.join()
    return {"pid": os.getpid(), "children": sorted(children, key=lambda child: child["pid"])}
