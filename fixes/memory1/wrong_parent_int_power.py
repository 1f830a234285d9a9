# wrong: the children square into their own copies; the parent returns sorted(int(n) ** 2) itself
# breaks: in_children
# caught-on: fork spawn forkserver
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

def squares_in_processes(ctx, numbers):
    """Square every number in a child process started through ctx; return the squares, sorted."""
    results = []
    workers = [ctx.Process(target=square_into, args=(results, n)) for n in numbers]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return sorted(int(n) ** 2 for n in numbers)
