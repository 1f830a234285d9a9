# right: the starting process passes its own os.getpid() to every child as an argument
# style: parent pid passed as an argument
"""Process IDs and the real parent."""

import os


def introduce(parent, results):
    results.put({"pid": os.getpid(), "parent": parent})


def family(ctx, n):
    """Start n children that introduce themselves.

    Return {"pid": this process's ID, "children": [{"pid": ..., "parent": ...}, ...]},
    the children sorted by their ID.
    """
    me = os.getpid()
    results = ctx.Queue()
    workers = [ctx.Process(target=introduce, args=(me, results)) for _ in range(n)]
    for worker in workers:
        worker.start()
    children = [results.get() for _ in workers]
    for worker in workers:
        worker.join()
    return {"pid": me, "children": sorted(children, key=lambda child: child["pid"])}
