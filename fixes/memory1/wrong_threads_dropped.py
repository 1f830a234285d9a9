# wrong: the thread half is "simplified" to a comprehension in the calling thread: no thread shares anything any more
# breaks: in_threads
# caught-on: fork spawn forkserver
"""Processes do not share memory; threads do.

A thread runs inside your process: what it appends to a list, the list you hold shows.
A child process works on its own copy of the parent's memory (a copy made at fork, or
rebuilt from pickles under spawn and forkserver): what it appends to a list or a global
is gone when it exits. Results from a process must come back through a channel.
"""


def square_onto(queue, n):
    queue.put(n * n)


def squares_in_threads(numbers):
    """Square every number in its own thread; return the squares, sorted."""
    return sorted(n * n for n in numbers)


def squares_in_processes(ctx, numbers):
    """Square every number in its own process; return the squares, sorted."""
    queue = ctx.Queue()
    workers = [ctx.Process(target=square_onto, args=(queue, n)) for n in numbers]
    for worker in workers:
        worker.start()
    results = [queue.get() for _ in workers]
    for worker in workers:
        worker.join()
    return sorted(results)
