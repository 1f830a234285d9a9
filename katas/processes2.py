"""Every process has its own ID, and a parent that started it.

os.getpid() differs in every process. The parent that matters to your program is the one
that started the child, joins it and reads its results. The operating system's idea of a
parent (os.getppid()) is not always that process: under forkserver every child is forked
by a server process, so a child that asks the OS names the server instead of you.
"""

import os


def introduce(results):
    # TODO: under forkserver this names the fork server, not the process that started this one.
    parent = os.getppid()
    results.put({"pid": os.getpid(), "parent": parent})


def family(ctx, n):
    """Start n children that introduce themselves: each reports, from inside itself, its
    own ID and the ID of the process that started it.

    Return {"pid": this process's ID, "children": [{"pid": ..., "parent": ...}, ...]},
    the children sorted by their ID.
    """
    results = ctx.Queue()
    workers = [ctx.Process(target=introduce, args=(results,)) for _ in range(n)]
    for worker in workers:
        worker.start()
    # Drain the queue before joining: a child exits only once what it put is delivered.
    children = [results.get() for _ in workers]
    for worker in workers:
        worker.join()
    return {"pid": os.getpid(), "children": sorted(children, key=lambda child: child["pid"])}
