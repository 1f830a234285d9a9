# wrong: calls sorted(results) but returns the unsorted list: the squares come back in arrival order
# breaks: processes_results
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

def square_onto(queue, n):
    queue.put(n ** 2)


def squares_in_processes(ctx, numbers):
    """Square every number in a child process started through ctx; return the squares, sorted."""
    queue = ctx.Queue()
    workers = [ctx.Process(target=square_onto, args=(queue, n)) for n in numbers]
    for worker in workers:
        worker.start()
    results = [queue.get() for _ in workers]
    for worker in workers:
        worker.join()
    sorted(results)
    return results
