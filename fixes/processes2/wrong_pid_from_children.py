# wrong: symptom fix: family() reports the parent its children named instead of its own os.getpid()
# breaks: caller_pid real_parent
# caught-on: forkserver
"""Process IDs and the real parent."""

import os


def introduce(results):
    results.put({"pid": os.getpid(), "parent": os.getppid()})


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
    pid = children[0]["parent"] if children else os.getpid()
    return {"pid": pid, "children": sorted(children, key=lambda child: child["pid"])}
