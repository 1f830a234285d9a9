# wrong: squares every number in one child process instead of one process per number
# breaks: work_in_children
# caught-on: fork spawn forkserver
"""Start every process, then join every process.

start() only launches a child; join() waits until it has ended. Until a process has been
joined you cannot know how it ended: it may still be running, and its exitcode is None.
Start all the children first, so that they run side by side, then join each one of them.
"""


def square_all(numbers, results):
    for n in numbers:
        results.put((n, n * n))


def squares(ctx, numbers):
    results = ctx.Queue()
    worker = ctx.Process(target=square_all, args=(numbers, results))
    worker.start()
    by_number = dict(results.get() for _ in numbers)
    worker.join()
    return {
        "squares": [by_number[n] for n in numbers],
        "exitcodes": [worker.exitcode for _ in numbers],
    }
