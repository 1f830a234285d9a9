# wrong: joins the newest child first and lists the exit codes in that order, not in the order of the numbers
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
    workers = [ctx.Process(target=square, args=(n, results)) for n in numbers]
    for worker in workers:
        worker.start()
    by_number = dict(results.get() for _ in workers)
    codes = []
    for worker in sorted(workers, key=lambda w: w.pid, reverse=True):
        worker.join()
        codes.append(worker.exitcode)
    return {"squares": [by_number[n] for n in numbers], "exitcodes": codes}
