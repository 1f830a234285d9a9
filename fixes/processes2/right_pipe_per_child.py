# right: each child sends its pid and parent_process().pid through a Pipe of its own
# style: one Pipe per child
"""Process IDs and the real parent."""

import os
from multiprocessing import parent_process


def introduce(conn):
    conn.send({"pid": os.getpid(), "parent": parent_process().pid})
    conn.close()


def family(ctx, n):
    """Start n children that introduce themselves.

    Return {"pid": this process's ID, "children": [{"pid": ..., "parent": ...}, ...]},
    the children sorted by their ID.
    """
    pairs = []
    for _ in range(n):
        receiver, sender = ctx.Pipe()
        worker = ctx.Process(target=introduce, args=(sender,))
        worker.start()
        sender.close()
        pairs.append((worker, receiver))
    children = []
    for worker, receiver in pairs:
        children.append(receiver.recv())
        receiver.close()
        worker.join()
    children.sort(key=lambda child: child["pid"])
    return {"pid": os.getpid(), "children": children}
