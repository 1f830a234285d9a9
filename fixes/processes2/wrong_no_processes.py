# wrong: the children are made up in the caller; no child process runs
# breaks: in_children own_ids
# caught-on: fork spawn forkserver
"""Process IDs and the real parent."""

import os


def family(ctx, n):
    """Start n children that introduce themselves.

    Return {"pid": this process's ID, "children": [{"pid": ..., "parent": ...}, ...]},
    the children sorted by their ID.
    """
    me = os.getpid()
    return {"pid": me, "children": [{"pid": me + i, "parent": me} for i in range(1, n + 1)]}
