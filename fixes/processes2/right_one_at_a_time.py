# right: children run one after another (start, read, join), each naming parent_process() as parent
# style: one child at a time, SimpleQueue, private _parent_pid
"""Process IDs and the real parent."""

import os
from multiprocessing import current_process


def introduce(results):
    # current_process()._parent_pid is what parent_process() is built from
    results.put((os.getpid(), current_process()._parent_pid))


def family(ctx, n):
    """Start n children that introduce themselves.

    Return {"pid": this process's ID, "children": [{"pid": ..., "parent": ...}, ...]},
    the children sorted by their ID.
    """
    results = ctx.SimpleQueue()
    children = []
    for _ in range(n):
        worker = ctx.Process(target=introduce, args=(results,))
        worker.start()
        pid, parent = results.get()
        worker.join()
        children.append({"pid": pid, "parent": parent})
    results.close()
    children.sort(key=lambda child: child["pid"])
    return {"pid": os.getpid(), "children": children}
