# wrong: children from multiprocessing's default context (fork here), so os.getppid() only looks right
# breaks: in_children real_parent
# caught-on: fork spawn forkserver
"""Process IDs and the real parent."""

import multiprocessing
import os


def introduce(results):
    results.put({"pid": os.getpid(), "parent": os.getppid()})


def family(ctx, n):
    """Start n children that introduce themselves.

    Return {"pid": this process's ID, "children": [{"pid": ..., "parent": ...}, ...]},
    the children sorted by their ID.
    """
    results = multiprocessing.Queue()
    workers = [multiprocessing.Process(target=introduce, args=(results,)) for _ in range(n)]
    for worker in workers:
        worker.start()
    children = [results.get() for _ in workers]
    for worker in workers:
        worker.join()
    return {"pid": os.getpid(), "children": sorted(children, key=lambda child: child["pid"])}
