# right: joins with a short timeout again and again until the child has ended
# style: is_alive loop around join(timeout)
"""Start every process, then join every process.

start() only launches a child; join() waits until it has ended. Until a process has been
joined you cannot know how it ended: it may still be running, and its exitcode is None.
Start all the children first, so that they run side by side, then join each one of them.
"""


def square(n, results):
    results.put((n, n * n))


def squares(ctx, numbers):
    """Square every number in its own process.

    Return {"squares": [the squares, in the order of numbers],
            "exitcodes": [the exit code of each number's process, in the same order]}.
    """
    results = ctx.Queue()
    workers = []
    for n in numbers:
        worker = ctx.Process(target=square, args=(n, results))
        worker.start()
        workers.append(worker)
    # Drain the queue before joining: a child exits only once what it put is delivered.
    by_number = dict(results.get() for _ in workers)
    for worker in workers:
        while worker.is_alive():
            worker.join(timeout=0.05)
    return {
        "squares": [by_number[n] for n in numbers],
        "exitcodes": [worker.exitcode for worker in workers],
    }
