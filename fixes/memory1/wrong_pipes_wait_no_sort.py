# wrong: Pipes read with connection.wait() as they become ready: arrival order, never sorted
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

from multiprocessing.connection import wait


def square_send(conn, n):
    conn.send(n * n)
    conn.close()


def squares_in_processes(ctx, numbers):
    """Square every number in a child process started through ctx; return the squares, sorted."""
    workers, readers = [], []
    for n in numbers:
        here, there = ctx.Pipe(duplex=False)
        worker = ctx.Process(target=square_send, args=(there, n))
        worker.start()
        there.close()
        workers.append(worker)
        readers.append(here)
    results, pending = [], list(readers)
    while pending:
        for conn in wait(pending):
            results.append(conn.recv())
            pending.remove(conn)
            conn.close()
    for worker in workers:
        worker.join()
    return results
