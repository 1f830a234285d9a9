# wrong: waits for each child's result before starting the next, so no two squares run side by side
# breaks: overlap
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
    by_number = {}
    for n in numbers:
        worker = ctx.Process(target=square, args=(n, results))
        worker.start()
        workers.append(worker)
        key, value = results.get()
        by_number[key] = value
    for worker in workers:
        worker.join()
    return {
        "squares": [by_number[n] for n in numbers],
        "exitcodes": [worker.exitcode for worker in workers],
    }
