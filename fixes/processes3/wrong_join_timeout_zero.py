# wrong: join(timeout=0) only looks: it returns at once, with children that have not ended yet (exitcode None)
# breaks: all_joined exitcodes_read
# caught-on: fork spawn forkserver
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
    # Join every worker, without blocking if one is slow to end.
    for worker in workers:
        worker.join(timeout=0)
    return {
        "squares": [by_number[n] for n in numbers],
        "exitcodes": [worker.exitcode for worker in workers],
    }
