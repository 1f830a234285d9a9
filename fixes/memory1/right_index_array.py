# right: each child writes operator.index(n) ** 2 into its own slot of a shared Array; sorted
# style: shared Array with operator.index
"""Processes do not share memory; threads do.

A thread runs inside your process: what it appends to a list, the list you hold shows.
A child process works on its own copy of the parent's memory (a copy made at fork, or
rebuilt from pickles under spawn and forkserver): what it appends to a list or a global
is gone when it exits. Results from a process must come back through a channel.
"""

import threading


def square_into(results, n):
    results.append(n * n)


def squares_in_threads(numbers):
    """Square every number in its own thread; return the squares, sorted."""
    results = []
    threads = [threading.Thread(target=square_into, args=(results, n)) for n in numbers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(results)

import operator


def square_at(shared, i, n):
    shared[i] = operator.index(n) ** 2


def squares_in_processes(ctx, numbers):
    """Square every number in a child process started through ctx; return the squares, sorted."""
    shared = ctx.Array("q", len(numbers), lock=False)
    workers = [ctx.Process(target=square_at, args=(shared, i, n)) for i, n in enumerate(numbers)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return sorted(shared[:])
