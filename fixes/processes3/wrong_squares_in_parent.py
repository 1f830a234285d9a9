# wrong: joins every child, but returns squares computed in the parent instead of the children's
# breaks: work_in_children
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
    for _ in workers:
        results.get()
    for worker in workers:
        worker.join()
    return {
        "squares": [n * n for n in numbers],
        "exitcodes": [worker.exitcode for worker in workers],
    }
