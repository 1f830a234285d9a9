# wrong: the thread half now uses the same process pool as the process half: threads no longer do the work
# breaks: in_threads
# caught-on: fork spawn forkserver
"""Processes do not share memory; threads do.

A thread runs inside your process: what it appends to a list, the list you hold shows.
A child process works on its own copy of the parent's memory (a copy made at fork, or
rebuilt from pickles under spawn and forkserver): what it appends to a list or a global
is gone when it exits. Results from a process must come back through a channel.
"""

import multiprocessing


def square(n):
    return n * n


def squares_in_threads(numbers):
    """Square every number in its own thread; return the squares, sorted."""
    return squares_in_processes(multiprocessing.get_context(), numbers)


def squares_in_processes(ctx, numbers):
    """Square every number in its own process; return the squares, sorted."""
    with ctx.Pool() as pool:
        return sorted(pool.map(square, numbers))
