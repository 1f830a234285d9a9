# right: waits on every child's sentinel until all have ended, so each exit code is final
# style: connection.wait on sentinels
"""Start every process, then join every process.

start() only launches a child; join() waits until it has ended. Until a process has been
joined you cannot know how it ended: it may still be running, and its exitcode is None.
Start all the children first, so that they run side by side, then join each one of them.
"""

from multiprocessing.connection import wait


def square(n, results):
    results.put((n, n * n))


def squares(ctx, numbers):
    results = ctx.Queue()
    workers = [ctx.Process(target=square, args=(n, results)) for n in numbers]
    for worker in workers:
        worker.start()
    by_number = dict(results.get() for _ in workers)
    pending = {worker.sentinel: worker for worker in workers}
    while pending:
        for ready in wait(list(pending)):
            pending.pop(ready).join()
    return {
        "squares": [by_number[n] for n in numbers],
        "exitcodes": [worker.exitcode for worker in workers],
    }
