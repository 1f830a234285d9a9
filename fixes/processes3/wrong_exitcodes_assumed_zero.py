# wrong: joins every child but reports 0 for each instead of reading its exit code
# breaks: exitcodes_read
# caught-on: fork spawn forkserver
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
        "exitcodes": [0 for _ in workers],
    }
