# wrong: the parent pid is captured when the module is imported; spawn and forkserver children import it again
# breaks: real_parent
# caught-on: spawn forkserver
"""Process IDs and the real parent."""

import os

STARTER = os.getpid()


def introduce(results):
    results.put({"pid": os.getpid(), "parent": STARTER})


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
