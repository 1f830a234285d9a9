# right: starts every child first, drains the queue, then joins every one before reading exit codes
# style: join loop over the list
"""Start every process, then join every process.

start() only launches a child; join() waits until it has ended. Until a process has been
joined you cannot know how it ended: it may still be running, and its exitcode is None.
Start all the children first, so that they run side by side, then join each one of them.
"""


def square(n, results):
    results.put((n, n * n))


def squares(ctx, numbers):
    results = ctx.Queue()
    workers = []
    for n in numbers:
        worker = ctx.Process(target=square, args=(n, results))
        worker.start()
        workers.append(worker)
    by_number = dict(results.get() for _ in workers)
    for worker in workers:
        worker.join()
    return {
        "squares": [by_number[n] for n in numbers],
        "exitcodes": [worker.exitcode for worker in workers],
    }
